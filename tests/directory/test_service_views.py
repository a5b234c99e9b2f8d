"""Rules the admin CLI used to keep to itself, now in the directory service layer (so the web
API can use them): finding a user as typed, local (Helsinki) time, red-activity lists, the
presence view of ``activity show``, the states of ``activity list`` and the forwardings of
``forward show``. Pure ones directly, the rest against the throwaway PostgreSQL database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from vipcall import directory as d
from vipcall.db.models import User
from vipcall.presence.model import ACTIVITY_MAX, Activity

pytestmark = pytest.mark.asyncio(loop_scope="session")

T0 = datetime(2030, 1, 15, 10, 0, tzinfo=UTC)  # 12:00 in Helsinki (EET, UTC+2)
HOUR = timedelta(hours=1)


async def _people(s: AsyncSession) -> tuple[User, User]:
    org = await d.create_organization(s, name="Taipalsaaren kunta", domain="taipalsaari.fi")
    maija = await d.create_user(
        s,
        organization=org,
        display_name="Maija Meikäläinen",
        mobile="040 123 4567",
        landline="05 123 4010",
    )
    matti = await d.create_user(
        s, organization=org, display_name="Matti Virtanen", mobile="040 123 4568"
    )
    return maija, matti


# --- local time -------------------------------------------------------------------------------


async def test_local_time_zone_is_helsinki() -> None:
    assert d.LOCAL_TZ.key == "Europe/Helsinki"
    assert d.format_local(T0) == "2030-01-15 12:00"
    assert d.format_local(T0 + timedelta(seconds=7)) == "2030-01-15 12:00:07"
    assert d.format_local(datetime(2030, 7, 1, 9, 0, tzinfo=UTC)) == "2030-07-01 12:00"  # EEST


async def test_parse_local_timestamp() -> None:
    assert d.parse_local_timestamp("2030-01-15T12:00") == T0
    assert d.parse_local_timestamp(" 2030-01-15 12:00 ") == T0
    assert d.parse_local_timestamp("2030-01-15T10:00Z") == T0
    assert d.parse_local_timestamp("2030-01-15T13:00+03:00") == T0
    # Round trip through what people are shown.
    assert d.parse_local_timestamp(d.format_local(T0)) == T0
    # Autumn: 03:30 happens twice on 2030-10-27; the first (summer time, UTC+3) is meant.
    # (PEP 495: a time in the repeated hour never equals one in another zone; compare in UTC.)
    ambiguous = d.parse_local_timestamp("2030-10-27T03:30")
    assert ambiguous.astimezone(UTC) == datetime(2030, 10, 27, 0, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("tomorrow", "'tomorrow' is not an ISO 8601 timestamp"),
        ("2030-13-01T00:00", "'2030-13-01T00:00' is not an ISO 8601 timestamp"),
        ("", "'' is not an ISO 8601 timestamp"),
        # Spring: 03:00..04:00 on 2030-03-31 is skipped in Helsinki.
        ("2030-03-31T03:30", "'2030-03-31T03:30' does not exist in Europe/Helsinki (DST change)"),
    ],
)
async def test_parse_local_timestamp_refuses(raw: str, message: str) -> None:
    with pytest.raises(d.InvalidField) as caught:
        d.parse_local_timestamp(raw, field="starts_at")
    assert caught.value.field == "starts_at"
    assert caught.value.message == message
    assert str(caught.value) == f"field starts_at: {message}"


# --- red activities ---------------------------------------------------------------------------


async def test_parse_red_activities() -> None:
    assert d.parse_red_activities("2,3,4,5,6") == [2, 3, 4, 5, 6]
    assert d.parse_red_activities(" 7, 1 ") == [1, 7]
    assert d.parse_red_activities(str(ACTIVITY_MAX)) == [ACTIVITY_MAX]
    for empty in ("", "  ", "none", "NONE", "-"):
        assert d.parse_red_activities(empty) == []


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("2,3,9", f"activity must be between 1 and {ACTIVITY_MAX}, not 9"),
        ("0", "activity must be between 1 and 8, not 0"),
        ("2,3,3", "activity 3 is listed twice"),
        ("2,x", "'x' is not an activity number"),
        ("2,,3", "'' is not an activity number"),
        ("2;3", "'2;3' is not an activity number"),
    ],
)
async def test_parse_red_activities_refuses(raw: str, message: str) -> None:
    with pytest.raises(d.InvalidField) as caught:
        d.parse_red_activities(raw)
    assert caught.value.field == "red_activities"
    assert caught.value.message == message


async def test_green_activities() -> None:
    assert d.green_activities([2, 3, 4, 5, 6]) == [1, 7, 8]
    assert d.green_activities([]) == [int(a) for a in Activity]
    assert d.green_activities(list(Activity)) == []


# --- finding a user ---------------------------------------------------------------------------


async def test_resolve_user_by_any_spelling(session: AsyncSession) -> None:
    maija, matti = await _people(session)
    for ref in (
        maija.id,
        str(maija.id),
        f" {maija.id} ",
        "FI0401234567@Taipalsaari.fi",
        "040 123 4567",
        "+358401234567",
        "00358401234567",
        "040-1234567",
        "05 123 4010",
        maija,
    ):
        assert (await d.resolve_user(session, ref)).id == maija.id, ref
    assert (await d.resolve_user(session, str(matti.id))).id == matti.id
    # get_user takes a digit string for a number only; resolve_user falls back to the id.
    with pytest.raises(d.UnknownUser):
        await d.get_user(session, str(maija.id))


@pytest.mark.parametrize("ref", ["99", "0409999999", "nobody@taipalsaari.fi", "x", "9" * 40])
async def test_resolve_user_unknown_names_what_was_typed(session: AsyncSession, ref: str) -> None:
    await _people(session)
    with pytest.raises(d.UnknownUser) as caught:
        await d.resolve_user(session, ref)
    assert str(caught.value) == f"unknown user {ref!r}"


# --- presence view (activity show), scheduled view (activity list) ----------------------------


async def test_presence_view(session: AsyncSession) -> None:
    maija, _ = await _people(session)
    away = await d.add_scheduled_activity(session, maija, 5, T0 - 2 * HOUR, T0 + HOUR)
    await d.add_scheduled_activity(session, maija, 3, T0 + HOUR, T0 + 2 * HOUR)  # touching
    await d.add_scheduled_activity(session, maija, 7, T0 + 2 * HOUR, T0 + 3 * HOUR)  # green
    await d.set_role(session, maija, 2)

    view = await d.presence_view(session, maija, T0)
    assert view.user.id == maija.id
    assert view.organization.domain == "taipalsaari.fi"
    assert view.at == T0
    assert view.in_effect is not None and view.in_effect.id == away.id
    assert view.red_activities == frozenset({2, 3, 4, 5, 6})
    assert view.presence.activity == 5 and view.presence.manual_activity == 1
    assert view.presence.red_until == T0 + 2 * HOUR
    assert view.presence.role == 2
    assert (view.colour(5), view.colour(1), view.colour(7)) == ("red", "green", "green")
    # The same presence the call path loads.
    assert view.presence == await d.get_presence(session, maija, T0)

    later = await d.presence_view(session, maija, T0 + 5 * HOUR)
    assert later.in_effect is None
    assert later.presence.activity == 1 and later.presence.red_until is None


async def test_scheduled_view_states_and_colours(session: AsyncSession) -> None:
    maija, matti = await _people(session)
    now = datetime.now(UTC)
    ended = await d.add_scheduled_activity(session, maija, 6, now - 3 * HOUR, now - 2 * HOUR)
    overridden = await d.add_scheduled_activity(session, maija, 5, now - 2 * HOUR, now + HOUR)
    current = await d.add_scheduled_activity(session, maija, 4, now - HOUR, now + HOUR)
    upcoming = await d.add_scheduled_activity(session, maija, 7, now + HOUR, now + 2 * HOUR)
    await d.add_scheduled_activity(session, matti, 2, now - HOUR, now + HOUR)

    entries = await d.scheduled_view(session, maija)
    assert [(e.scheduled.id, e.state, e.colour) for e in entries] == [
        (overridden.id, "overridden", "red"),
        (current.id, "in effect", "red"),
        (upcoming.id, "upcoming", "green"),
    ]
    everything = await d.scheduled_view(session, "040 123 4567", include_ended=True)
    assert [(e.scheduled.id, e.state) for e in everything][0] == (ended.id, "ended")
    assert len(everything) == 4
    # At another moment.
    past = await d.scheduled_view(session, maija, now=now - 150 * timedelta(minutes=1))
    assert [(e.scheduled.id, e.state) for e in past] == [
        (ended.id, "in effect"),
        (overridden.id, "upcoming"),
        (current.id, "upcoming"),
        (upcoming.id, "upcoming"),
    ]


# --- forwardings (forward show) ---------------------------------------------------------------


async def test_forwarding_targets(session: AsyncSession) -> None:
    maija, _ = await _people(session)
    assert await d.get_forwarding_targets(session, maija) == d.ForwardingTargets(None, {})
    await d.set_forwarding(session, maija, "0501234569", activity=6)
    await d.set_forwarding(session, maija, "05 123 4000", activity=4)
    await d.set_forwarding(session, maija, "040 123 4568")
    targets = await d.get_forwarding_targets(session, "040 123 4567")
    assert targets.immediate == "+358401234568"
    assert targets.by_activity == {4: "+35851234000", 6: "+358501234569"}
    assert list(targets.by_activity) == [4, 6]
    presence = await d.get_presence(session, maija)
    assert presence.immediate_forward == targets.immediate
    assert presence.activity_forwards == targets.by_activity

    await d.set_forwarding(session, maija, None)
    assert (await d.get_forwarding_targets(session, maija)).immediate is None
