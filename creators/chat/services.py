"""The coach's chat: a creator's message answered by Claude through the metered AI gateway, with what the exchange
decided and completed detected, applied and kept.

One message (coach_message_send), in order:
1. the daily limit (COACH_MESSAGES_PER_DAY, or the plan's coach_messages_per_day): the user's own messages since
   UTC midnight, counted under a lock on the user's row so two sends at once cannot both take the last one;
   refused with CoachDailyLimitReached (429 coach_daily_limit, Retry-After until midnight) before anything is
   stored or reserved;
2. the user's message is stored with what the deterministic pattern detector (creators.chat.detector) found in
   it (as detected);
3. without an Anthropic key the pattern detector's actions are applied at once and CoachAiUnavailable (503
   ai_unavailable) says the AI partner needs the operator to set a key, its details carrying the stored message
   and its actions: decisions and tasks still work offline;
4. the prompt (creators.chat.prompt) and the tools (creators.chat.tools) go to the gateway under the wallet
   feature `coach`: the gateway reserves, and its refusals (402 insufficient_balance, 429, 503) raise before any
   byte is sent, after the pattern detector's actions were applied (details.user_message again);
5. a CoachStream sends the events below; the coach's message is stored as `streaming` once the answer's first
   event is sent (not before: the time to the first byte is the creator's wait). When the stream ends
   or the client leaves (the server closes the response), the gateway settles once, the coach's message is
   completed with the settlement's model, tokens and cost (`complete`; `interrupted` when the client left or
   the answer broke off after some text; `failed` when it broke off before any), one `coach_messages` usage
   event is recorded for the exchange (not for a failed one), and the actions of both detectors are applied
   (creators.chat.apply) and stored on the user's message.

The stream's server-sent events, in order (each `event: NAME` then `data: JSON`):
- `coach.user_message` {id, created_at, detected_actions}: the stored message and the pattern detector's
  actions, not yet applied (status "detected");
- the gateway's events as Anthropic sends them: message_start, content_block_start, content_block_delta (text:
  delta.type "text_delta", delta.text; tool calls: "input_json_delta"), content_block_stop, message_delta,
  message_stop, ping; `error` {type, error: {code, message}} if the answer breaks off; then the gateway's
  `tollgate.usage` {type, id, stop_reason, usage, cost};
- `coach.actions` {message_id, detected_actions}: every action of the exchange (pattern and tool) after they were
  applied, with their status (applied, to_confirm, ignored...), stored on the user's message `message_id`;
- `coach.message` {id, content, status, model, input_tokens, output_tokens, cost, currency}: the coach's message
  as stored (cost a decimal string).
`detected_actions` entries are creators.chat.actions.DetectedAction.as_dict().
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from typing import Any

import orjson
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from config.errors import DomainError
from creators.chat.actions import DetectedAction
from creators.chat.apply import actions_apply
from creators.chat.detector import ProjectState, actions_detect
from creators.chat.prompt import coach_prompt_build
from creators.chat.selectors import (
    coach_context_get,
    coach_daily_limit,
    coach_day_bounds,
    coach_history_get,
    coach_messages_sent_today,
)
from creators.chat.tools import ToolCallCollector, coach_tools
from creators.models import CoachMessage, Project
from creators.playbooks import Playbook, playbook_get
from creators.services import OPEN_STATUSES, CoachError, ProjectClosed
from metering.gateway.client import AiUnavailable, ai_configured
from metering.gateway.services import (
    AiRequest,
    AiStream,
    ai_message_stream,
    model_names_active,
    model_price_active_get,
    sse_frame,
)
from metering.models import ModelPrice, WalletFeature
from metering.usage.services import event_ingest
from tenants.models import Tenant

logger = logging.getLogger(__name__)

MESSAGE_MAX_CHARS = 4000
COACH_METER = "coach_messages"
ERROR_MAX = 500  # creators.models.CoachMessage.error


class CoachDailyLimitReached(CoachError):
    code = "coach_daily_limit"
    status = 429


class CoachAiUnavailable(CoachError):
    code = "ai_unavailable"
    status = 503


def coach_model_price() -> ModelPrice:
    """The operator's coach model (AI_COACH_MODEL) while it is active, else the first active model by name."""
    price = model_price_active_get(model=settings.AI_COACH_MODEL)
    if price is None:
        names = model_names_active()
        price = model_price_active_get(model=names[0]) if names else None
    if price is None:
        raise AiUnavailable("No AI model is enabled on this server.")
    return price


def user_message_data(message: CoachMessage) -> dict[str, Any]:
    """The user's message as the stream's first event (and a refusal's details) tell it."""
    return {"id": message.pk, "created_at": message.created_at.isoformat().replace("+00:00", "Z"),
            "detected_actions": message.detected_actions}


def coach_message_data(message: CoachMessage) -> dict[str, Any]:
    return {"id": message.pk, "content": message.content, "status": message.status, "model": message.model,
            "input_tokens": message.input_tokens, "output_tokens": message.output_tokens,
            "cost": format(message.cost, "f"), "currency": message.currency}


# --- Sending --------------------------------------------------------------------------------------------------

def coach_message_send(*, tenant: Tenant, project: Project, user, text: str, created_by: str,
                       now: datetime | None = None) -> CoachStream:
    """Store the user's message and open the coach's streamed answer (the module docstring says in which order,
    and what each refusal leaves behind). Refusals raise here, before the first byte."""
    now = now or timezone.now()
    if project.status not in OPEN_STATUSES:
        raise ProjectClosed(f"This project is {project.status}: the coach no longer answers on it.",
                            details={"status": project.status})
    playbook = playbook_get(project.playbook_key)
    # Pure and fast (bench/coach.py): run before the message is stored, so it is stored with what was found.
    pattern = actions_detect(text=text, playbook=playbook, project_state=ProjectState(today=now.date()))
    user_message = coach_user_message_store(tenant=tenant, project=project, user=user, text=text, now=now,
                                            detected_actions=pattern)
    if not ai_configured():
        exchange_actions_apply(project=project, user_message=user_message, actions=pattern, user=user, now=now)
        raise CoachAiUnavailable("Your message is saved and the decisions and tasks it states are recorded, but the "
                                 "AI partner needs the operator to set an Anthropic key (ANTHROPIC_API_KEY) "
                                 "before it can answer.", details={"user_message": user_message_data(user_message)})
    try:
        request = coach_ai_request(tenant=tenant, project=project, user_message=user_message, playbook=playbook,
                                   created_by=created_by, today=now.date())
        stream = ai_message_stream(request=request)
    except DomainError as error:  # the wallet, a limit or Anthropic refused: the message stays, offline rules
        exchange_actions_apply(project=project, user_message=user_message, actions=pattern, user=user, now=now)
        error.details = {**error.details, "user_message": user_message_data(user_message)}
        raise
    return CoachStream(stream=stream, tenant=tenant, project=project, user=user, user_message=user_message,
                       model=request.price.model, request_id=request.request_id, pattern=pattern,
                       playbook=playbook)


@transaction.atomic
def coach_user_message_store(*, tenant: Tenant, project: Project, user, text: str, now: datetime,
                             detected_actions: Sequence[DetectedAction] = ()) -> CoachMessage:
    """The user's message with the pattern detector's actions (as detected), if the day's limit allows it
    (CoachDailyLimitReached, 429, otherwise). The user's row is locked while counting, so concurrent sends of one
    person are counted one after the other."""
    get_user_model().objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True).first()
    limit = coach_daily_limit(tenant=tenant)
    if coach_messages_sent_today(user=user, now=now) >= limit:
        _, resets_at = coach_day_bounds(now=now)
        raise CoachDailyLimitReached(
            f"You have sent the {limit} coach messages your plan allows today; the coach answers again after "
            "midnight UTC.", retry_after_s=max(1, int((resets_at - now).total_seconds())),
            details={"limit": limit, "resets_at": resets_at.isoformat().replace("+00:00", "Z")})
    return CoachMessage.objects.create(project=project, user=user, role=CoachMessage.Role.USER, content=text,
                                       status=CoachMessage.Status.COMPLETE, created_at=now,
                                       detected_actions=[action.as_dict() for action in detected_actions])


def coach_ai_request(*, tenant: Tenant, project: Project, user_message: CoachMessage, playbook: Playbook,
                     created_by: str, today: date) -> AiRequest:
    context = coach_context_get(project=project, today=today)
    history = coach_history_get(project=project, before_id=user_message.pk)
    prompt = coach_prompt_build(context=context, history=history, text=user_message.content, today=today)
    return AiRequest(tenant=tenant, price=coach_model_price(), system=prompt.system, messages=prompt.messages,
                     max_tokens=settings.COACH_MAX_TOKENS, temperature=settings.COACH_TEMPERATURE,
                     created_by=created_by, feature=WalletFeature.COACH, tools=tuple(coach_tools(playbook)))


def exchange_actions_apply(*, project: Project, user_message: CoachMessage, actions: list[DetectedAction], user,
                           now: datetime) -> list[DetectedAction]:
    """Apply the exchange's actions (creators.chat.apply records them on the user's message). A failure there is
    logged and leaves them as detected: the conversation goes on."""
    if not actions:
        return []
    try:
        return actions_apply(project=project, message=user_message, actions=actions, user=user, now=now)
    except Exception:
        logger.exception("coach_actions_apply_failed project_id=%s message_id=%s", project.pk, user_message.pk)
        return actions


def coach_exchange_meter(*, tenant: Tenant, user_message: CoachMessage, model: str) -> None:
    """One `coach_messages` usage event for an answered message (its id makes a repeat a duplicate)."""
    try:
        result = event_ingest(tenant=tenant, events=[{
            "transaction_id": f"coach:{user_message.pk}", "meter": COACH_METER,
            "timestamp": user_message.created_at.isoformat(), "properties": {"model": model}}])
    except Exception:
        logger.exception("coach_usage_record_failed tenant=%s message_id=%s", tenant.pk, user_message.pk)
        return
    for rejection in result.rejected:
        logger.error("coach_usage_event_rejected tenant=%s message_id=%s code=%s", tenant.pk, user_message.pk,
                     rejection.code)


# --- The stream -----------------------------------------------------------------------------------------------

class CoachStream:
    """The events of one exchange (the module docstring lists them). close(), which the server calls when the
    client goes away, settles the gateway's request and keeps the answer as interrupted, once."""

    def __init__(self, *, stream: AiStream, tenant: Tenant, project: Project, user, user_message: CoachMessage,
                 model: str, request_id: uuid.UUID, pattern: list[DetectedAction], playbook: Playbook):
        self.stream = stream
        self.tenant = tenant
        self.project = project
        self.user = user
        self.user_message = user_message
        self.model = model
        self.request_id = request_id
        self.answer: CoachMessage | None = None  # stored once the answer has started (_answer_start)
        self.pattern = pattern
        self.actions: list[DetectedAction] = []
        self.tools = ToolCallCollector(playbook=playbook,
                                       log_context=f"tenant={tenant.pk} message_id={user_message.pk}")
        self._parts: list[str] = []
        self._error = ""
        self._finished = False
        self._frames = self._generate()

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        return next(self._frames)

    def close(self) -> None:
        self._frames.close()
        self._finish()

    @property
    def text(self) -> str:
        return "".join(self._parts)

    def _generate(self) -> Iterator[bytes]:
        yield sse_frame("coach.user_message", {"type": "coach.user_message",
                                               **user_message_data(self.user_message)})
        for frame in self.stream:
            self._observe(frame)
            yield frame
            if self.answer is None:
                self._answer_start()  # after the first byte of the answer, not before it
        self._finish()
        yield sse_frame("coach.actions", {"type": "coach.actions", "message_id": self.user_message.pk,
                                          "detected_actions": [action.as_dict() for action in self.actions]})
        yield sse_frame("coach.message", {"type": "coach.message", **coach_message_data(self.answer)})

    def _observe(self, frame: bytes) -> None:
        if frame.startswith(b"event: content_block_delta\n"):
            self._text_observe(frame)
        elif frame.startswith(b"event: error\n"):
            self._error = _frame_data(frame).get("error", {}).get("message") or "The answer broke off."
        self.tools.observe(frame)

    def _text_observe(self, frame: bytes) -> None:
        delta = _frame_data(frame).get("delta") or {}
        if delta.get("type") == "text_delta" and isinstance(delta.get("text"), str):
            self._parts.append(delta["text"])

    def _answer_start(self) -> None:
        with schema_context(self.tenant.schema_name):  # after the view returned: say where
            self.answer = CoachMessage.objects.create(
                project=self.project, user_id=self.project.user_id, role=CoachMessage.Role.ASSISTANT, content="",
                status=CoachMessage.Status.STREAMING, model=self.model, request_id=self.request_id,
                created_at=timezone.now())

    def _finish(self) -> None:
        if self._finished:
            return
        self._finished = True
        self.stream.close()  # settles once (a no-op after the stream's own end)
        settlement, upstream = self.stream.settlement, self.stream.upstream
        if upstream.usage_final and not self._error:
            status = CoachMessage.Status.COMPLETE
        elif self._error and not self.text:
            status = CoachMessage.Status.FAILED
        else:
            status = CoachMessage.Status.INTERRUPTED
        with schema_context(self.tenant.schema_name):
            if self.answer is None:  # the client left (or the upstream broke) before the answer started
                self._answer_start()
            answer = self.answer
            answer.content, answer.status, answer.error = self.text, status, self._error[:ERROR_MAX]
            answer.input_tokens = settlement.usage.total_input_tokens
            answer.output_tokens = settlement.usage.output_tokens
            answer.cost, answer.currency = settlement.cost.amount, settlement.cost.currency
            answer.save(update_fields=["content", "status", "error", "input_tokens", "output_tokens", "cost",
                                       "currency"])
            if status != CoachMessage.Status.FAILED:
                coach_exchange_meter(tenant=self.tenant, user_message=self.user_message, model=answer.model)
            self.actions = exchange_actions_apply(project=self.project, user_message=self.user_message,
                                                  actions=[*self.pattern, *self.tools.actions], user=self.user,
                                                  now=timezone.now())
        if status != CoachMessage.Status.COMPLETE:
            logger.info("coach_answer_%s tenant=%s message_id=%s request=%s", status, self.tenant.pk, answer.pk,
                        answer.request_id)


def _frame_data(frame: bytes) -> dict[str, Any]:
    try:
        data = orjson.loads(frame.partition(b"\ndata: ")[2])
    except orjson.JSONDecodeError:
        return {}
    return data if isinstance(data, dict) else {}
