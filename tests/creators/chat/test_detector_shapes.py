"""The pattern detector on the shapes of message its faster patterns must still read as before: a completion "done
with" in a message with no "is done" (read by the shorter pattern), both kinds of impersonal completion in one
message, a subject and its "is live" across a line break, a cue inside another cue ("I suppose"), a negation cut
by a comma, and a cue's kind remembered from one message to the next."""

from datetime import date
from decimal import Decimal

from creators.chat.actions import ActionKind
from creators.chat.detector import ProjectState, actions_detect
from creators.playbooks import playbook_get

STATE = ProjectState(today=date(2026, 11, 20))


def found(text: str) -> list[tuple]:
    return [(action.kind, action.category or action.task_id, action.value, action.confidence, action.evidence)
            for action in actions_detect(text=text, playbook=playbook_get("premium-community"), project_state=STATE)]


def task(task_id: str, confidence: str, evidence: str) -> tuple:
    return (ActionKind.TASK, task_id, "", Decimal(confidence), evidence)


def test_done_with_is_a_completion_in_a_message_without_an_is_done():
    assert found("Done with the sales page.") == [task("create-sales-page", "0.8", "Done with the sales page.")]


def test_done_with_and_the_x_is_live_are_both_completions_in_one_message():
    assert found("Finished with the welcome email, and the sales page is done.") == [
        task("create-sales-page", "0.8", "Finished with the welcome email, and the sales page is done."),
        task("prepare-email-sequence", "0.8", "Finished with the welcome email, and the sales page is done.")]


def test_a_subject_and_its_is_live_across_a_line_break_are_a_completion():
    assert found("the sales page\nis live") == [task("create-sales-page", "0.8", "the sales page")]


def test_a_hypothetical_inside_a_hedge_still_makes_the_sentence_hypothetical():
    assert found("I suppose we'll use Discord.") == []


def test_a_negation_does_not_reach_past_a_comma():
    assert found("Cannot decide, so Discord it is.") == [
        (ActionKind.DECISION, "platform", "Discord", Decimal("0.7"), "Cannot decide, so Discord it is.")]


def test_a_cue_reads_the_same_in_every_message():
    text = "I think I'll charge $29/month. I suppose we'll use Circle."

    first, second = found(text), found(text)

    assert first == second == [(ActionKind.DECISION, "pricing", "29.00 USD a month", Decimal("0.5"),
                                "I think I'll charge $29/month.")]
