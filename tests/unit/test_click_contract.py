"""The buttons' contract: what a button carries survives Slack's round trip; a foreign button is not ours."""

from ecs_watchdog.approvals.click import ButtonKind, ButtonValue


def test_a_button_value_round_trips_and_stays_within_slacks_limit() -> None:
    value = ButtonValue(service="111122223333/eu-west-1/prod/api", incident="api-7", proposal="p-3")
    encoded = value.encode()
    assert len(encoded) <= 2000
    assert ButtonValue.decode(encoded) == value
    assert ButtonValue.decode(ButtonValue(service="a/b/c/d", incident="i").encode()).proposal is None


def test_a_malformed_value_decodes_to_none_not_an_exception() -> None:
    assert ButtonValue.decode("not json") is None
    assert ButtonValue.decode('{"s": "a/b/c/d"}') is None  # no incident


def test_action_ids_name_the_watchdogs_buttons_only() -> None:
    assert ButtonKind.from_action_id(ButtonKind.SILENCE_24H.action_id) is ButtonKind.SILENCE_24H
    assert ButtonKind.from_action_id("watchdog_reboot") is None
    assert ButtonKind.from_action_id("approve") is None
