"""The coach's chat on the workspace page (session and CSRF, not an API key): the history and the chat box, a
message answered with the API's event stream (Accept: text/event-stream) or, without JavaScript, by a redirect
once the answer is stored; refusals in the API's JSON shape (the daily limit's 429, no AI key's 503 with the
stored message); the action cards of a message and their confirm, dismiss and undo (htmx or a plain post); the
board re-read with the decision cards out of band."""

import pytest
from django.test import Client, override_settings
from django_tenants.utils import schema_context

from creators.models import CoachMessage, Decision, Project
from tests.creators.content.conftest import sse_events
from tests.support.creators import project_for
from tests.support.tenants import host_of, owner_of

pytestmark = pytest.mark.django_db

SAYS = "I'll launch on Discord at $29/month."
STREAM = {"HTTP_ACCEPT": "text/event-stream"}


@pytest.fixture
def project(funded) -> Project:
    with schema_context(funded.schema_name):
        return project_for(owner_of(funded))


def send(client, project: Project, content: str = SAYS, **headers):
    return client.post(f"/coach/projects/{project.pk}/messages/", {"content": content}, **headers)


def messages_of(tenant, project: Project) -> list[CoachMessage]:
    with schema_context(tenant.schema_name):
        return list(CoachMessage.objects.filter(project=project).order_by("id"))


def current_decisions(tenant, project: Project) -> dict[str, str]:
    with schema_context(tenant.schema_name):
        return dict(Decision.objects.filter(project=project, is_current=True).values_list("category", "value"))


def test_the_workspace_shows_the_history_and_a_labelled_chat_box(alpha_owner_client, funded, project):
    response = alpha_owner_client.get("/coach/")

    content = response.content.decode()
    (welcome,) = messages_of(funded, project)
    assert f'id="coach-message-{welcome.pk}"' in content
    assert 'role="log" aria-live="polite"' in content
    assert '<label for="coach-input"' in content
    assert f'action="/coach/projects/{project.pk}/messages/"' in content
    assert "js/coach-chat.js" in content


def test_the_chat_box_says_how_many_messages_are_left_today(alpha_owner_client, project):
    with override_settings(COACH_MESSAGES_PER_DAY=7):
        response = alpha_owner_client.get("/coach/")

    assert response.context["messages_left"] == 7
    assert b'<span id="coach-messages-left">7</span> of 7 messages left today' in response.content


def test_without_an_ai_key_the_chat_box_says_the_operator_must_set_one(alpha_owner_client, project, settings):
    settings.ANTHROPIC_API_KEY = ""

    response = alpha_owner_client.get("/coach/")

    assert b'data-testid="coach-ai-off"' in response.content
    assert b"The AI partner needs the operator to set an Anthropic key." in response.content


def test_with_an_ai_key_the_chat_box_has_no_notice(alpha_owner_client, project, upstream):
    response = alpha_owner_client.get("/coach/")

    assert b'data-testid="coach-ai-off"' not in response.content


def test_each_phase_shows_the_time_its_open_tasks_are_estimated_to_take(alpha_owner_client, project):
    response = alpha_owner_client.get("/coach/")

    (state, label) = response.context["phase_estimates"][0]
    minutes = sum(task.estimated_minutes for task, _ in state.tasks)
    assert label == (f"{minutes // 60} h {minutes % 60} min" if minutes % 60 else f"{minutes // 60} h")
    assert f'data-testid="estimate-{state.phase.id}">about {label} left' in response.content.decode()


def test_a_streamed_message_is_answered_with_the_apis_events(alpha_owner_client, funded, project, upstream):
    upstream.answer_sse("tool_use_response")

    response = send(alpha_owner_client, project, **STREAM)

    assert response.status_code == 200 and response["Content-Type"] == "text/event-stream"
    names = [name for name, _ in sse_events(response)]
    assert names[0] == "coach.user_message" and "content_block_delta" in names
    assert names[-2:] == ["coach.actions", "coach.message"]
    assert current_decisions(funded, project).keys() == {"platform", "pricing"}


def test_without_javascript_the_message_is_answered_then_the_page_comes_back(alpha_owner_client, funded, project,
                                                                             upstream):
    upstream.answer_sse("tool_use_response")

    response = send(alpha_owner_client, project)

    assert response.status_code == 302 and response["Location"] == "/coach/"
    *_, user, answer = messages_of(funded, project)
    assert (user.content, answer.status) == (SAYS, "complete")
    assert answer.content.startswith("Great choice")


def test_a_message_over_the_daily_limit_is_refused_with_the_apis_429(alpha_owner_client, funded, project,
                                                                     upstream):
    upstream.answer_sse("tool_use_response")
    with override_settings(COACH_MESSAGES_PER_DAY=1):
        b"".join(send(alpha_owner_client, project, **STREAM).streaming_content)
        response = send(alpha_owner_client, project, "And one more thing", **STREAM)

    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    assert response.json()["error"]["code"] == "coach_daily_limit"
    assert "1 coach messages your plan allows today" in response.json()["error"]["message"]
    assert [m.content for m in messages_of(funded, project) if m.role == "user"] == [SAYS]


def test_without_an_ai_key_a_message_is_kept_its_decisions_recorded_and_503_says_why(alpha_owner_client, funded,
                                                                                    project, settings):
    settings.ANTHROPIC_API_KEY = ""

    response = send(alpha_owner_client, project, **STREAM)

    assert response.status_code == 503
    error = response.json()["error"]
    assert error["code"] == "ai_unavailable" and "operator to set an Anthropic key" in error["message"]
    *_, user = messages_of(funded, project)
    assert error["details"]["user_message"]["id"] == user.pk
    assert current_decisions(funded, project).keys() == {"platform", "pricing"}


def test_a_blank_message_is_refused_with_a_field_error(alpha_owner_client, funded, project):
    response = send(alpha_owner_client, project, "   ", **STREAM)

    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"field": "content"}
    assert len(messages_of(funded, project)) == 1  # the welcome


def test_a_message_without_the_csrf_token_is_refused(funded, project):
    client = Client(HTTP_HOST=host_of(funded), enforce_csrf_checks=True)
    with schema_context(funded.schema_name):
        client.force_login(owner_of(funded), backend="django.contrib.auth.backends.ModelBackend")

    response = send(client, project, **STREAM)

    assert response.status_code == 403
    assert len(messages_of(funded, project)) == 1


def test_a_messages_cards_offer_undo_for_what_was_recorded(alpha_owner_client, funded, project, settings):
    settings.ANTHROPIC_API_KEY = ""
    send(alpha_owner_client, project, **STREAM)
    *_, user = messages_of(funded, project)

    response = alpha_owner_client.get(f"/coach/projects/{project.pk}/messages/{user.pk}/actions/")

    content = response.content.decode()
    assert 'data-testid="coach-action-platform" data-status="applied"' in content
    assert 'data-testid="coach-action-pricing" data-status="applied"' in content
    assert content.count('data-testid="action-undo"') == 2


def test_the_board_is_re_read_with_the_decision_cards_out_of_band(alpha_owner_client, funded, project, settings):
    settings.ANTHROPIC_API_KEY = ""
    send(alpha_owner_client, project, **STREAM)

    response = alpha_owner_client.get(f"/coach/projects/{project.pk}/board/", HTTP_HX_REQUEST="true")

    content = response.content.decode()
    assert 'id="coach-board"' in content and "40% · 2 of 5 decisions" in content
    assert '<section class="coach-decisions" id="coach-decisions"' in content and 'hx-swap-oob="true"' in content
    assert 'data-testid="decision-current-platform"' in content


def stated_without_ai(client, tenant, project: Project, text: str) -> CoachMessage:
    """The user's message, sent while no AI key is set: only the pattern detector reads it."""
    send(client, project, text, **STREAM)
    *_, user = messages_of(tenant, project)
    return user


def action_path(project: Project, message: CoachMessage, index: int, verb: str) -> str:
    return f"/coach/projects/{project.pk}/messages/{message.pk}/actions/{index}/{verb}/"


def test_confirming_a_hedged_price_records_it_and_has_the_board_re_read(alpha_owner_client, funded, project,
                                                                         settings):
    settings.ANTHROPIC_API_KEY = ""
    message = stated_without_ai(alpha_owner_client, funded, project, "I'm leaning towards $39/month")
    (action,) = message.detected_actions
    assert action["status"] == "to_confirm" and current_decisions(funded, project) == {}

    response = alpha_owner_client.post(action_path(project, message, 0, "confirm"), HTTP_HX_REQUEST="true")

    assert response.status_code == 200 and response["HX-Trigger"] == "coach-workspace-changed"
    assert 'data-testid="coach-action-pricing" data-status="confirmed"' in response.content.decode()
    assert "39" in current_decisions(funded, project)["pricing"]


def test_dismissing_a_hedged_price_records_nothing(alpha_owner_client, funded, project, settings):
    settings.ANTHROPIC_API_KEY = ""
    message = stated_without_ai(alpha_owner_client, funded, project, "I'm leaning towards $39/month")

    response = alpha_owner_client.post(action_path(project, message, 0, "dismiss"), HTTP_HX_REQUEST="true")

    assert 'data-status="dismissed"' in response.content.decode()
    assert current_decisions(funded, project) == {}


def test_undoing_a_recorded_platform_takes_the_decision_back(alpha_owner_client, funded, project, settings):
    settings.ANTHROPIC_API_KEY = ""
    message = stated_without_ai(alpha_owner_client, funded, project, SAYS)
    index = next(i for i, action in enumerate(message.detected_actions) if action["category"] == "platform")

    response = alpha_owner_client.post(action_path(project, message, index, "undo"), HTTP_HX_REQUEST="true")

    assert 'data-testid="coach-action-platform" data-status="undone"' in response.content.decode()
    assert current_decisions(funded, project).keys() == {"pricing"}


def test_without_javascript_an_answer_to_a_card_redirects_to_the_workspace(alpha_owner_client, funded, project,
                                                                           settings):
    settings.ANTHROPIC_API_KEY = ""
    message = stated_without_ai(alpha_owner_client, funded, project, SAYS)

    response = alpha_owner_client.post(action_path(project, message, 0, "undo"))

    assert response.status_code == 302 and response["Location"] == "/coach/"


def test_a_card_answered_twice_says_why_the_second_time_changed_nothing(alpha_owner_client, funded, project,
                                                                         settings):
    settings.ANTHROPIC_API_KEY = ""
    message = stated_without_ai(alpha_owner_client, funded, project, SAYS)
    alpha_owner_client.post(action_path(project, message, 0, "undo"), HTTP_HX_REQUEST="true")

    response = alpha_owner_client.post(action_path(project, message, 0, "undo"), HTTP_HX_REQUEST="true")

    assert response.status_code == 200  # htmx swaps only successful answers: the cards say what happened
    assert 'role="alert">This action is undone: it cannot be undone.' in response.content.decode()


@pytest.mark.parametrize("where", ["unknown-verb", "index", "message"])
def test_an_unknown_verb_index_or_message_is_not_found(alpha_owner_client, funded, project, settings, where):
    settings.ANTHROPIC_API_KEY = ""
    message = stated_without_ai(alpha_owner_client, funded, project, SAYS)
    path = {"unknown-verb": action_path(project, message, 0, "approve"),
            "index": action_path(project, message, 9, "undo"),
            "message": f"/coach/projects/{project.pk}/messages/{message.pk + 100}/actions/0/undo/"}[where]

    assert alpha_owner_client.post(path, HTTP_HX_REQUEST="true").status_code == 404
