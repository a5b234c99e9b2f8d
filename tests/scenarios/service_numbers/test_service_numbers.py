"""Service numbers end to end: callers to a service number wait with music on hold and are
offered to the logged-in members' phones (the handset, whatever the member's forwarding),
longest idle first; after the maximum wait they overflow; a waiting caller survives the app
being killed -9 and restarted.

All handsets share the mobile core's address: a member is told apart by the Request-URI
user of the INVITE the handset party gets."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from sqlalchemy import text

from harness.app import eventually
from harness.party import Sipp
from tests.support.people import Person, fresh_external, fresh_landline
from tests.support.voicemail import default_greeting_seconds
from vipcall.db.engine import transaction
from vipcall.directory import servicenumbers as sn

MOBILE_CORE = "127.0.1.3"  # tests/scenarios/conftest.py: handsets are reached here


def handsets(parties: Any, scenario: str, calls: int | None = None) -> Sipp:
    """The mobile core's side for several calls (``None``: until killed)."""
    sipp = Sipp(
        scenario=scenario, ip=MOBILE_CORE, port=5060, workdir=parties.workdir,
        keys={"ring": "300"}, calls=calls, timeout=60.0,
    )  # fmt: skip
    parties.started.append(sipp)
    return sipp


async def service_number(people: Any, org: str, members: list[Person], **fields: Any) -> str:
    number = fresh_landline()
    async with transaction(people.sessions) as s:
        created = await sn.create_service_number(
            s, org, number=number, kind=fields.pop("kind", "switchboard"), name="Vaihde", **fields
        )
        for person in members:
            await sn.add_member(s, created.id, person.id)
    return number


async def log(people: Any, number: str, person: Person, logged_in: bool) -> None:
    async with transaction(people.sessions) as s:
        await sn.set_logged_in(s, number, person.id, logged_in)


async def idle_for(people: Any, person: Person, minutes: int) -> None:
    """The member's last service-number call ended ``minutes`` ago (logged in before)."""
    async with transaction(people.sessions) as s:
        await s.execute(
            text("UPDATE service_number_members SET last_call_end = now() - :m * interval"
                 " '1 minute', logged_in_changed_at = now() - interval '1 day'"
                 " WHERE user_id = :u"), {"m": minutes, "u": person.id},
        )  # fmt: skip


def rung(phone: Any) -> list[str]:
    return [m.request_user for m in phone.received("INVITE")]


async def test_hunt_longest_idle_skips_the_logged_out_rings_a_forwarded_member_then_overflows(
    vipcall, people, parties
) -> None:
    org = await people.org()
    aino, bertta, cecilia = [await people.user(org) for _ in range(3)]
    number = await service_number(
        people, org, [aino, bertta, cecilia], strategy="longest_idle",
        member_ring_seconds=5, max_wait_seconds=10,
    )  # fmt: skip
    await people.forward(aino, fresh_external())  # immediate forwarding on: still reached
    await log(people, number, bertta, False)  # idle longest, but logged out
    for person, minutes in ((bertta, 90), (aino, 60), (cecilia, 5)):
        await idle_for(people, person, minutes)
    phones = await handsets(parties, "uas_ring.xml").start()

    count, call = await vipcall.count_outcome(
        "service_number_overflow_announcement",
        parties.external_caller(fresh_external(), number, scenario="uac_until_bye.xml").run(),
    )
    phones.kill()
    seen = await phones.wait()

    assert call.ok, call.log
    assert rung(seen)[:2] == [aino.mobile, cecilia.mobile], rung(seen)
    assert bertta.mobile not in rung(seen)
    assert all(m.header("X-Vipcall") == "delivered" for m in seen.received("INVITE"))
    waited = call.seconds_between(200, "BYE")
    assert 9.0 <= waited <= 16.0, waited
    assert count == 1


async def test_ring_all_connects_the_first_member_to_answer(vipcall, people, parties) -> None:
    org = await people.org()
    aino, bertta = await people.user(org), await people.user(org)
    number = await service_number(people, org, [aino, bertta], member_ring_seconds=5)
    phones = await handsets(parties, "uas_answer.xml").start()

    count, call = await vipcall.count_outcome(
        "service_number_connected",
        parties.external_caller(fresh_external(), number, hold="2000").run(),
    )
    await asyncio.sleep(0.5)
    phones.kill()
    seen = await phones.wait()

    assert call.ok, call.log
    assert sorted(rung(seen)) == sorted([aino.mobile, bertta.mobile])
    assert seen.received("BYE"), "the member's call ended with the caller's"
    assert count == 1


async def test_overflow_to_another_number(vipcall, people, parties) -> None:
    org = await people.org()
    aino = await people.user(org)
    target = fresh_external()
    number = await service_number(
        people, org, [aino], max_wait_seconds=10, overflow="number", overflow_target=target
    )
    await log(people, number, aino, False)  # nobody to offer the call to
    far_end = await parties.pstn_far_end().start()

    call = await parties.external_caller(fresh_external(), number, hold="14000").run()
    other = await far_end.wait()

    assert call.ok, call.log
    assert [m.request_user for m in other.received("INVITE")] == [target]
    assert other.received("BYE")


async def test_overflow_to_a_users_voicemail(vipcall, people, parties) -> None:
    org = await people.org()
    aino, reception = await people.user(org), await people.user(org)
    number = await service_number(
        people, org, [aino], max_wait_seconds=10, overflow="voicemail",
        overflow_target=str(reception.id),
    )  # fmt: skip
    await log(people, number, aino, False)
    # Ten seconds of queue music, then the voicemail greeting, into the recording.
    hold = int((10 + default_greeting_seconds(number) + 3) * 1000)

    count, call = await vipcall.count_outcome(
        "service_number_overflow_voicemail",
        parties.external_caller(fresh_external(), number, hold=str(hold)).run(),
    )

    assert call.ok, call.log
    assert count == 1
    assert f"greeting for user {reception.id} (service-number-overflow)" in vipcall.log_tail(200)


async def test_a_waiting_caller_survives_kill_9_of_the_app(vipcall, people, parties) -> None:
    org = await people.org()
    aino = await people.user(org)
    number = await service_number(people, org, [aino], max_wait_seconds=60)
    await log(people, number, aino, False)  # the caller has to wait
    phone = await handsets(parties, "uas_answer.xml", calls=1).start()
    caller = await parties.external_caller(fresh_external(), number, hold="16000").start()

    await eventually(lambda: _waiting(people, number), timeout=10)
    vipcall.kill9()
    await asyncio.sleep(1.0)
    vipcall.start()
    await log(people, number, aino, True)  # now a member is free: the new app offers it

    call, seen = await caller.wait(), await phone.wait()
    assert call.ok, call.log
    assert rung(seen) == [aino.mobile]
    assert seen.received("BYE"), "the caller was bridged with the member until the end"
    assert "took over queue call" in vipcall.log_tail(400)


async def test_member_legs_left_ringing_by_a_killed_app_are_cancelled_on_restart(
    vipcall, people, parties
) -> None:
    org = await people.org()
    aino = await people.user(org)
    number = await service_number(people, org, [aino], member_ring_seconds=30, max_wait_seconds=60)
    phone = await handsets(parties, "uas_ring.xml").start()  # rings, never answers
    caller = await parties.external_caller(fresh_external(), number, hold="8000").start()

    await eventually(lambda: _offered(people, number), timeout=10)
    vipcall.kill9()
    await asyncio.sleep(1.0)
    vipcall.start()  # hangs up the old app's ringing leg, then offers the call afresh

    await caller.wait()
    await asyncio.sleep(1.0)  # the new offer is cancelled as the caller leaves
    phone.kill()
    seen = await phone.wait()
    invites = seen.received("INVITE")
    assert [m.request_user for m in invites[:1]] == [aino.mobile], seen.log
    first = invites[0].header("call-id")
    cancels = [m for m in seen.received("CANCEL") if m.header("call-id") == first]
    # Left alone, the old app's leg would ring its full 30 s, past the caller's hang-up.
    assert cancels, seen.log
    assert cancels[0].at - invites[0].at < 15, seen.log
    assert "left by the previous app" in vipcall.log_tail(400)


async def test_waiting_callers_are_told_their_place_in_line(vipcall, people, parties) -> None:
    org = await people.org()
    aino = await people.user(org)
    number = await service_number(people, org, [aino], max_wait_seconds=60,
                                  announce_position=True)  # fmt: skip
    await log(people, number, aino, False)  # nobody free: both callers wait
    first = await parties.external_caller(fresh_external(), number, hold="6000").start()
    await eventually(lambda: _waiting(people, number), timeout=10)
    second = await parties.external_caller(fresh_external(), number, hold="4000").start()

    one, two = await first.wait(), await second.wait()
    assert one.ok and two.ok, one.log + two.log
    told = re.findall(r"queue call (\d+) was told its place: (\d+)", vipcall.log_tail(400))
    places = sorted((int(call_id), int(place)) for call_id, place in told[-2:])
    assert [place for _, place in places] == [1, 2], told  # in order of arrival
    assert places[0][0] != places[1][0]


async def _offered(people: Any, number: str) -> bool:
    async with people.sessions() as s:
        found = await s.scalar(
            text("SELECT count(*) FROM service_number_calls c JOIN service_numbers s"
                 " ON s.id = c.service_number_id WHERE s.number = :n"
                 " AND cardinality(c.offered_to) > 0"), {"n": number},
        )  # fmt: skip
        return bool(found)


async def _waiting(people: Any, number: str) -> bool:
    async with people.sessions() as s:
        found = await s.scalar(
            text("SELECT count(*) FROM service_number_calls c JOIN service_numbers s"
                 " ON s.id = c.service_number_id WHERE s.number = :n"), {"n": number},
        )  # fmt: skip
        return bool(found)


async def test_a_connected_queue_call_survives_kill_9_and_ends_together(
    vipcall, people, parties
) -> None:
    org = await people.org()
    aino = await people.user(org)
    number = await service_number(people, org, [aino])
    phone = await handsets(parties, "uas_answer.xml", calls=1).start()
    caller = await parties.external_caller(fresh_external(), number, hold="9000").start()

    await eventually(lambda: _connected(people, number), timeout=10)
    vipcall.kill9()
    await asyncio.sleep(1.0)
    vipcall.start()  # takes the bridged pair over from service_number_calls

    call, seen = await caller.wait(), await phone.wait()
    assert call.ok, call.log
    assert rung(seen) == [aino.mobile]
    assert seen.received("BYE"), "the caller's hangup ended the member's leg too"
    await eventually(lambda: _gone(people, number), timeout=5)  # the row ends with the call


async def test_log_out_and_in_by_feature_code(vipcall, people, parties) -> None:
    org = await people.org()
    aino = await people.user(org)
    number = await service_number(people, org, [aino])
    async with people.sessions() as s:
        sn_id = (await sn.get_service_number(s, number)).id

    out = await parties.handset_caller(aino.mobile, f"9850{sn_id}", "uac_until_bye.xml").run()
    assert out.ok, out.log
    assert await _logged_in(people, sn_id, aino) is False
    back = await parties.handset_caller(aino.mobile, f"9851{sn_id}", "uac_until_bye.xml").run()
    assert back.ok, back.log
    assert await _logged_in(people, sn_id, aino) is True


async def _gone(people: Any, number: str) -> bool:
    return not await _waiting(people, number)


async def _connected(people: Any, number: str) -> bool:
    async with people.sessions() as s:
        found = await s.scalar(
            text("SELECT count(*) FROM service_number_calls c JOIN service_numbers s"
                 " ON s.id = c.service_number_id WHERE s.number = :n AND c.state = 'connected'"),
            {"n": number},
        )  # fmt: skip
        return bool(found)


async def _logged_in(people: Any, sn_id: int, person: Person) -> bool:
    async with people.sessions() as s:
        return bool(
            await s.scalar(
                text(
                    "SELECT logged_in FROM service_number_members"
                    " WHERE service_number_id = :s AND user_id = :u"
                ),
                {"s": sn_id, "u": person.id},
            )  # fmt: skip
        )
