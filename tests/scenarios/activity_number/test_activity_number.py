"""The activity number +358 40 1621486: the user hears the current activity and chooses a
new one with a key (RFC 2833 DTMF); a caller who is not a user is told so; no input repeats
the menu once and then hangs up."""

from __future__ import annotations

from harness.party import media_seconds
from tests.support.people import state_of
from vipcall.prompts import activity_menu

ACTIVITY_NUMBER = "0401621486"


async def test_user_chooses_away_by_pressing_5(vipcall, people, parties, database) -> None:
    org = await people.org()
    maija = await people.user(org)

    call = await parties.handset_caller(
        maija.mobile, ACTIVITY_NUMBER, "uac_dtmf.xml", wait="2500", digit="5"
    ).run()

    assert call.ok, call.log
    assert (await state_of(database, maija.id))["activity"] == 5
    menu = media_seconds(activity_menu(1, "fi"))
    assert call.seconds_between(200, "BYE") < menu, "the key interrupted the menu"


async def test_caller_who_is_not_a_user_is_told_so(vipcall, people, parties) -> None:
    count, call = await vipcall.count_outcome(
        "announced_not-service-user",
        parties.handset_caller("+358451234999", ACTIVITY_NUMBER, "uac_until_bye.xml").run(),
    )

    assert call.ok, call.log
    assert count == 1


async def test_no_input_repeats_the_menu_once_then_hangs_up(
    vipcall, people, parties, database
) -> None:
    org = await people.org(language="en")
    maija = await people.user(org)

    call = await parties.handset_caller(
        maija.mobile, ACTIVITY_NUMBER, "uac_until_bye.xml", wait="60000"
    ).run()

    assert call.ok, call.log
    assert (await state_of(database, maija.id))["activity"] == 1
    menu = media_seconds(activity_menu(1, "en"))
    assert call.seconds_between(200, "BYE") > 2 * menu, "the whole menu was played twice"
