"""The coach's records: a project follows one playbook (creators/playbooks/*.json) for one user; its tasks are
completed (and undone), its decisions made (a new one in a category supersedes the old, history kept), and its
chat kept message by message with what each message cost and what was detected in it. Progress is always computed
from these rows (creators.progress), never stored."""

from django.conf import settings
from django.db import models

COST = {"max_digits": 14, "decimal_places": 6}


class Project(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        PAUSED = "paused", "Paused"
        COMPLETED = "completed", "Completed"
        ABANDONED = "abandoned", "Abandoned"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="coach_projects")
    name = models.CharField(max_length=200)
    playbook_key = models.SlugField(max_length=60)
    playbook_version = models.PositiveIntegerField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    target_launch_date = models.DateField(null=True, blank=True)
    plan = models.JSONField(default=dict, help_text="The playbook's plan customised for the profile when started.")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user"], condition=models.Q(status="active"),
                                    name="coach_project_one_active_per_user"),
            models.CheckConstraint(condition=~models.Q(status="completed") | models.Q(completed_at__isnull=False),
                                   name="coach_project_completed_has_time"),
        ]

    def __str__(self) -> str:
        return self.name


class CoachMessage(models.Model):
    class Role(models.TextChoices):
        USER = "user", "User"
        ASSISTANT = "assistant", "Coach"

    class Status(models.TextChoices):
        COMPLETE = "complete", "Complete"
        STREAMING = "streaming", "Streaming"
        INTERRUPTED = "interrupted", "Interrupted (the client left or the stream broke)"
        FAILED = "failed", "Failed"
        TEMPLATED = "templated", "Templated (no AI)"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="messages")
    # The author for user messages (what the daily limit counts); the project's user for the coach's.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    role = models.CharField(max_length=20, choices=Role.choices)
    content = models.TextField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.COMPLETE)
    detected_actions = models.JSONField(default=list, blank=True,
                                        help_text="Decisions, task completions and next steps found in the exchange.")
    model = models.CharField(max_length=100, blank=True)
    input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    cost = models.DecimalField(default=0, **COST)
    currency = models.CharField(max_length=3, default="USD")
    request_id = models.UUIDField(null=True, blank=True, help_text="The AI gateway's request (its metering).")
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["project", "created_at"], name="coach_message_project_idx"),
            # The daily limit: a user's own messages since midnight.
            models.Index(fields=["user", "created_at"], condition=models.Q(role="user"),
                         name="coach_message_user_day_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.role} message {self.pk}"


class TaskCompletion(models.Model):
    class Method(models.TextChoices):
        MANUAL = "manual", "Ticked by the user"
        AI_AUTOMATIC = "ai_automatic", "Completed by the coach"
        AI_CONFIRMED = "ai_confirmed", "Suggested by the coach, confirmed by the user"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="task_completions")
    task_id = models.SlugField(max_length=60)
    task_title = models.CharField(max_length=300)
    method = models.CharField(max_length=20, choices=Method.choices)
    completed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    source_message = models.ForeignKey(CoachMessage, null=True, blank=True, on_delete=models.SET_NULL,
                                       related_name="+")
    completed_at = models.DateTimeField()
    undone_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["completed_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "task_id"], condition=models.Q(undone_at__isnull=True),
                                    name="coach_task_done_once"),
        ]

    def __str__(self) -> str:
        return f"{self.task_id} ({self.method})"


class Decision(models.Model):
    class Source(models.TextChoices):
        USER = "user", "Chosen by the user"
        AI_TOOL = "ai_tool", "Recorded by the coach (tool use)"
        DETECTED = "detected", "Detected in the user's message"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="decisions")
    category = models.SlugField(max_length=30, help_text="The playbook's decision category, e.g. pricing.")
    value = models.CharField(max_length=500)
    data = models.JSONField(default=dict, blank=True, help_text='Structured value, e.g. {"price": "29.00"}.')
    rationale = models.TextField(blank=True)
    confidence = models.DecimalField(max_digits=4, decimal_places=3)
    source = models.CharField(max_length=20, choices=Source.choices)
    source_message = models.ForeignKey(CoachMessage, null=True, blank=True, on_delete=models.SET_NULL,
                                       related_name="+")
    is_current = models.BooleanField(default=True)
    created_at = models.DateTimeField()
    superseded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "category"], condition=models.Q(is_current=True),
                                    name="coach_decision_one_current_per_category"),
            models.CheckConstraint(condition=models.Q(confidence__gte=0, confidence__lte=1),
                                   name="coach_decision_confidence_0_1"),
        ]

    def __str__(self) -> str:
        return f"{self.category}: {self.value}"
