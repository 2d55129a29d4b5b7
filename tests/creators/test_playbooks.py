"""Playbooks: every shipped file loads and validates, the premium community plan has the shape the product
promises, and the loader refuses broken files with errors that name the place."""

import json
from pathlib import Path

import pytest

from creators.playbooks import (
    PLAYBOOK_DIR,
    PlaybookInvalid,
    PlaybookUnknown,
    playbook_from_file,
    playbook_get,
    playbook_validate,
    playbooks_load,
)

PREMIUM = PLAYBOOK_DIR / "premium-community.json"


def premium_data() -> dict:
    return json.loads(PREMIUM.read_text())


@pytest.mark.parametrize("path", sorted(PLAYBOOK_DIR.glob("*.json")), ids=lambda path: path.name)
def test_every_playbook_file_loads(path):
    playbook = playbook_from_file(path)

    assert playbook.key == path.stem and playbook.version >= 1 and playbook.tasks


def test_at_least_two_venture_kits_ship_beside_the_premium_community():
    keys = set(playbooks_load(PLAYBOOK_DIR))

    assert "premium-community" in keys
    assert len(keys & {"startup-kit", "agency-kit", "consulting-kit", "ecommerce-kit"}) >= 2


def test_the_premium_community_has_22_tasks_in_4_phases():
    playbook = playbook_get("premium-community")

    assert len(playbook.phases) == 4
    assert len(playbook.tasks) == 22
    assert all(playbook.tasks_of(phase.id) for phase in playbook.phases)


def test_the_premium_community_asks_the_five_decisions():
    playbook = playbook_get("premium-community")

    assert [decision.category for decision in playbook.decisions] == [
        "platform", "pricing", "structure", "timeline", "content"]
    assert {"discord", "circle"} <= {option.value for option in playbook.decision("platform").options}
    assert playbook.decision("pricing").recommendation["kind"] == "community_pricing"


def test_every_premium_community_task_says_what_why_and_when_done():
    for task in playbook_get("premium-community").tasks:
        assert task.what and task.why and task.done_when and task.estimated_minutes > 0 and task.estimated_cost >= 0


def test_an_unknown_playbook_key_is_refused():
    with pytest.raises(PlaybookUnknown):
        playbook_get("no-such-kit")


def test_a_valid_playbook_has_no_problems():
    assert playbook_validate(premium_data()) == []


def test_a_task_id_used_twice_is_refused():
    data = premium_data()
    data["tasks"][1]["id"] = data["tasks"][0]["id"]

    assert "tasks[1].id: 'audience-survey' is used twice" in playbook_validate(data)


def test_a_task_in_a_phase_that_does_not_exist_is_refused():
    data = premium_data()
    data["tasks"][0]["phase"] = "someday"

    assert "tasks[0].phase: 'someday' is not a phase of this playbook" in playbook_validate(data)


def test_a_task_depending_on_an_unknown_decision_is_refused():
    data = premium_data()
    data["tasks"][2]["depends_on_decision"] = "mood"

    assert "tasks[2].depends_on_decision: 'mood' is not a decision of this playbook" in playbook_validate(data)


def test_a_missing_field_is_named():
    data = premium_data()
    del data["tasks"][3]["done_when"]

    assert "tasks[3].done_when: required, a non-empty string" in playbook_validate(data)


def test_a_negative_cost_and_a_zero_duration_are_refused():
    data = premium_data()
    data["tasks"][0]["estimated_cost"] = "-5"
    data["phases"][0]["duration_days"] = 0

    problems = playbook_validate(data)

    assert "tasks[0].estimated_cost: a decimal string, 0 or more" in problems
    assert "phases[0].duration_days: at least 1" in problems


def test_an_unknown_welcome_placeholder_is_refused():
    data = premium_data()
    data["welcome"] = "Hi {name}, your {secret} is ready."

    assert any(problem.startswith("welcome: unknown placeholders ['secret']") for problem in playbook_validate(data))


def test_price_points_out_of_order_are_refused():
    data = premium_data()
    data["decisions"][1]["recommendation"]["price_points"] = ["9", "5"]

    assert "decisions[1].recommendation.price_points: strictly increasing" in playbook_validate(data)


def test_a_broken_file_stops_loading_with_its_name(tmp_path: Path):
    data = premium_data()
    data["phases"].append({"id": "empty", "title": "Empty", "summary": "Nothing", "kind": "execution",
                           "duration_days": 3})
    (tmp_path / "premium-community.json").write_text(json.dumps(data))

    with pytest.raises(PlaybookInvalid, match=r"premium-community.json: phases: 'empty' has no task"):
        playbooks_load(tmp_path)


def test_a_file_whose_key_differs_from_its_name_is_refused(tmp_path: Path):
    (tmp_path / "renamed.json").write_text(PREMIUM.read_text())

    with pytest.raises(PlaybookInvalid, match="must match the file name"):
        playbooks_load(tmp_path)


def test_a_file_that_is_not_json_is_refused(tmp_path: Path):
    (tmp_path / "broken.json").write_text("{not json")

    with pytest.raises(PlaybookInvalid, match="broken.json: not readable JSON"):
        playbooks_load(tmp_path)


def test_the_app_refuses_to_start_with_a_broken_playbook(tmp_path: Path, monkeypatch):
    from django.apps import apps

    import creators.playbooks as playbooks

    (tmp_path / "broken.json").write_text("[]")
    monkeypatch.setattr(playbooks, "PLAYBOOK_DIR", tmp_path)
    playbooks.playbooks_loaded.cache_clear()
    try:
        with pytest.raises(PlaybookInvalid, match="broken.json: the file must hold one JSON object"):
            apps.get_app_config("creators").ready()
    finally:
        playbooks.playbooks_loaded.cache_clear()
