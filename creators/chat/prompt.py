"""The coach's prompt: a versioned system prompt (prompts/<PROMPT_VERSION>.txt, filled from the creator's profile,
the playbook and the project's state) and the conversation so far as Anthropic's messages, ending with the message
being answered, within a token budget.

The budget is counted with the gateway's own input estimate (UTF-8 bytes plus framing, an upper bound of Claude's
tokens), the figure the wallet reserves: the oldest history goes first until the prompt fits; the system prompt
and the message being answered always stay. A change to the template's wording is a new version (a new file), so
a conversation's answers can be traced to the prompt that produced them; tests pin its output (a snapshot).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from string import Template

from creators.chat.selectors import CoachContext
from creators.models import CoachMessage
from metering.gateway.services import input_tokens_estimate

PROMPT_VERSION = "coach_v1"
PROMPT_DIR = Path(__file__).resolve().parent / "prompts"
# Input tokens (as the gateway estimates them) a coach request may send: the system prompt of a full playbook is
# about 6,000, which leaves room for the last dozen exchanges. The wallet reserves this plus COACH_MAX_TOKENS.
PROMPT_TOKEN_BUDGET = 16_000
NOT_GIVEN = "not given"


@dataclass(frozen=True)
class CoachPrompt:
    version: str
    system: str
    messages: list[dict[str, str]]

    @property
    def input_estimate(self) -> int:
        return input_tokens_estimate(system=self.system, messages=self.messages)


@lru_cache(maxsize=4)
def prompt_template(version: str = PROMPT_VERSION) -> Template:
    return Template((PROMPT_DIR / f"{version}.txt").read_text(encoding="utf-8"))


def coach_prompt_build(*, context: CoachContext, history: list[CoachMessage], text: str, today: date,
                       budget: int = PROMPT_TOKEN_BUDGET) -> CoachPrompt:
    """The system prompt and the messages for answering `text`, with `history` (oldest first) trimmed from its
    oldest end until the estimate fits `budget`."""
    system = coach_system_prompt(context=context, today=today)
    turns = [(message.role, message.content) for message in history]
    messages = conversation_messages(turns=turns, text=text)
    while turns and input_tokens_estimate(system=system, messages=messages) > budget:
        turns = turns[1:]
        messages = conversation_messages(turns=turns, text=text)
    return CoachPrompt(version=PROMPT_VERSION, system=system, messages=messages)


def conversation_messages(*, turns: list[tuple[str, str]], text: str) -> list[dict[str, str]]:
    """Anthropic's messages from (role, text) turns plus the new user text: they must start with the user and
    alternate, so leading coach messages (the welcome, which the system prompt's plan covers) are dropped and
    consecutive messages of one role (a message sent while the AI was off) are joined."""
    messages: list[dict[str, str]] = []
    for role, content in [*turns, (CoachMessage.Role.USER, text)]:
        role = "user" if role == CoachMessage.Role.USER else "assistant"
        if not messages and role == "assistant":
            continue
        if messages and messages[-1]["role"] == role:
            messages[-1] = {"role": role, "content": f"{messages[-1]['content']}\n\n{content}"}
        else:
            messages.append({"role": role, "content": content})
    return messages


def coach_system_prompt(*, context: CoachContext, today: date) -> str:
    project, playbook, progress, profile = context.project, context.playbook, context.progress, context.profile
    timeline = progress.timeline
    current_phase = playbook_phase_title(context, progress.current_phase) if progress.current_phase else "all done"
    if project.target_launch_date is None:
        target, days = "no target date", "no countdown"
    else:
        target = project.target_launch_date.isoformat()
        days = _days_to_launch(timeline.days_to_launch)
    return prompt_template().substitute(
        playbook_title=playbook.title, playbook_version=project.playbook_version, playbook_summary=playbook.summary,
        today=today.isoformat(), target_launch=target, days_to_launch=days, timeline=timeline.label,
        tasks_done=progress.tasks_done, tasks_total=progress.tasks_total, decisions_made=progress.decisions_made,
        decisions_total=progress.decisions_total, current_phase=current_phase,
        phases=_phases_text(context), decisions=_decisions_text(context), **_profile_fields(profile),
    )


def playbook_phase_title(context: CoachContext, phase_id: str) -> str:
    phase = next((phase for phase in context.playbook.phases if phase.id == phase_id), None)
    return phase.title if phase else phase_id


def _profile_fields(profile) -> dict[str, str]:
    if profile is None:
        return {"platform": NOT_GIVEN, "followers": NOT_GIVEN, "engagement": NOT_GIVEN, "niche": NOT_GIVEN,
                "goal": NOT_GIVEN, "hours_per_week": NOT_GIVEN, "audience": NOT_GIVEN, "signals": NOT_GIVEN,
                "personality": NOT_GIVEN}
    bands = ", ".join(f"{row['band']} {row['percent']}%" for row in profile.audience_age_bands)
    countries = ", ".join(f"{row['country']} {row['percent']}%" for row in profile.audience_top_countries)
    audience = "; ".join(part for part in (f"ages {bands}" if bands else "",
                                           f"countries {countries}" if countries else "") if part)
    return {
        "platform": profile.get_primary_platform_display(), "followers": f"{profile.follower_count:,}",
        "engagement": f"{profile.engagement_rate.normalize():f}", "niche": profile.niche,
        "goal": f"{profile.monthly_revenue_goal:,.2f} {profile.currency} a month",
        "hours_per_week": str(profile.hours_per_week), "audience": audience or NOT_GIVEN,
        "signals": _one_line(profile.signals) or NOT_GIVEN, "personality": _one_line(profile.personality_notes)
        or NOT_GIVEN,
    }


def _phases_text(context: CoachContext) -> str:
    playbook, current = context.playbook, context.progress.current_phase
    dates = {phase["id"]: phase for phase in context.project.plan.get("phases", [])}
    lines = []
    for phase in playbook.phases:
        span = dates.get(phase.id)
        when = f", {span['starts_on']} to {span['ends_on']}" if span else ""
        marker = ", current" if phase.id == current else ""
        lines.append(f"- {phase.title} ({phase.kind}{when}{marker})")
        for task in playbook.tasks_of(phase.id):
            done = "x" if task.id in context.done_task_ids else " "
            lines.append(f"  [{done}] {task.title} [{task.id}]")
    return "\n".join(lines)


def _decisions_text(context: CoachContext) -> str:
    recommendations = context.project.plan.get("recommendations", {})
    lines = []
    for decision in context.playbook.decisions:
        current = context.decisions.get(decision.category)
        chosen = (f"{current.value} (confidence {current.confidence.normalize():f})" if current
                  else "not decided yet")
        options = ", ".join(option.value for option in decision.options)
        lines.append(f"- {decision.category}: {chosen}; options: {options}")
        recommendation = recommendations.get(decision.category)
        if recommendation:
            core, premium = recommendation["core_price"], recommendation["premium_price"]
            lines.append(f"  recommended from the profile: core {core['amount']} {core['currency']} a month, "
                         f"premium {premium['amount']} {premium['currency']} a month, about "
                         f"{recommendation['members']} members")
    return "\n".join(lines)


def _days_to_launch(days: int | None) -> str:
    if days is None:
        return "no countdown"
    if days < 0:
        return f"{-days} day{'s' if days != -1 else ''} past the target"
    return f"{days} day{'s' if days != 1 else ''} to go"


def _one_line(text: str) -> str:
    return " ".join(text.split())
