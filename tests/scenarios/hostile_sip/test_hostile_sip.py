"""Malformed and hostile SIP from the carrier's address, through the real Asterisk and app:
an oversized or odd caller ID, unicode and control characters in the display name, a huge
display name, missing headers, a malformed dialled number. Each call either rings the user
(with a caller ID the handset can trust: E.164 or ``anonymous``, no control character
passed on), hears "number not in use" (a dialled string that is no number), or is refused
with a clean SIP error (an INVITE without Contact: 400); nothing crashes, no channel is
left behind, and the next ordinary call is routed."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.party import SippResult, uri_user
from tests.scenarios.conftest import ASTERISK, PSTN
from tests.scenarios.faults.load import drained

SCENARIO = Path(__file__).resolve().parent / "sipp" / "uac_hostile.xml"

FROM = "      From: [display]<sip:[from]@[local_ip]:[local_port]>;tag=[pid]H[call_number]"
TO = "      To: <sip:[service]@[remote_ip]:[remote_port]>"
CONTACT = "      Contact: <sip:caller@[local_ip]:[local_port]>"
MAX_FORWARDS = "      Max-Forwards: 70"
ALL = (FROM, TO, CONTACT, MAX_FORWARDS)

LONG_USER = ("4a-_.!~*'()b" * 30)[:300]  # 300 characters SIP allows in a user part
CONTROL = "\x01\x07\x1b[31mEvil\x7f"


# header lines, display name, caller, the dialled number ("mobile": the user's), outcome
CASES = [
    pytest.param(ALL, '"Caller" ', LONG_USER, "mobile", "rings-anonymous",
                 id="from-user-300-chars"),
    pytest.param(ALL, '"Caller" ', "+358++--12", "mobile", "rings-anonymous",
                 id="caller-digits-and-junk"),
    pytest.param(ALL, '"Äijä Öhman 名前 😀" ', "+358501110050", "mobile", "rings",
                 id="unicode-display-name"),
    pytest.param(ALL, f'"{CONTROL}" ', "+358501110051", "mobile", "rings",
                 id="control-chars-in-display"),
    pytest.param(ALL, '"' + "Å" * 2000 + '" ', "+358501110052", "mobile", "rings",
                 id="display-name-2000-chars"),
    pytest.param((FROM, TO, CONTACT), '"Caller" ', "+358501110053", "mobile", "rings",
                 id="no-max-forwards"),
    pytest.param((FROM, TO, MAX_FORWARDS), '"Caller" ', "+358501110054", "mobile", "refused",
                 id="no-contact"),
    pytest.param(ALL, '"Caller" ', "+358501110055", "+35840abc", "announced",
                 id="dialled-not-a-number"),
    pytest.param(ALL, '"Caller" ', "+358501110056", "+" + "9" * 60, "announced",
                 id="dialled-60-digits"),
]  # fmt: skip


def render(tmp_path: Path, lines: tuple[str, ...]) -> Path:
    path = tmp_path / "uac_hostile.xml"
    path.write_text(SCENARIO.read_text().replace("@@headers@@", "\n".join(lines)))
    return path


@pytest.mark.parametrize(
    ("lines", "display", "caller", "dialled", "expected"),
    CASES,
)
async def test_hostile_invite_rings_cleanly_or_is_refused(
    vipcall, asterisk, people, parties, tmp_path, lines, display, caller, dialled, expected
) -> None:
    org = await people.org()
    maija = await people.user(org)
    number = maija.mobile if dialled == "mobile" else dialled
    handset = await parties.handset().start()
    call = await parties._sipp(
        scenario=str(render(tmp_path, lines)), ip=PSTN, port=next(parties._ports),
        remote=ASTERISK, service=number, keys={"display": display, "from": caller},
    ).run()  # fmt: skip
    handset.kill()
    phone: SippResult = await handset.wait()
    status = call.final_status()
    print(f"\nHOSTILE {expected}: final {status}, handset INVITEs {len(phone.received('INVITE'))}")

    assert call.ok, call.log
    if expected.startswith("rings"):
        assert status == 200
        invite = phone.received("INVITE")[0]
        assert invite.request_user == maija.mobile
        shown = uri_user(invite.header("From"))
        assert shown == ("anonymous" if expected == "rings-anonymous" else caller)
        values = [v for vs in invite.headers.values() for v in vs]
        assert not any(ord(c) < 32 or ord(c) == 127 for v in values for c in v), values
        assert LONG_USER[:20] not in "\n".join(values)
    elif expected == "announced":  # "number not in use" is played, nothing rings
        assert status == 200
        assert not phone.received("INVITE")
    else:
        assert status is not None and 400 <= status < 700, call.log
        assert not phone.received("INVITE")
    assert await drained(asterisk, timeout=10) == 0
    assert "call flow failed" not in vipcall.log_path.read_text(errors="replace")


async def test_service_routes_normally_after_the_hostile_calls(vipcall, people, parties) -> None:
    org = await people.org()
    maija = await people.user(org)
    handset = await parties.handset().start()
    call = await parties.external_caller("0501110057", maija.mobile).run()
    assert call.ok, call.log
    invite = (await handset.wait()).received("INVITE")[0]
    assert uri_user(invite.header("From")) == "+358501110057"


FLOODER = "127.0.1.9"  # an address no trunk or softphone uses
FLOOD = Path(__file__).resolve().parent / "sipp" / "invite_flood.xml"


@pytest.mark.parametrize(
    ("source", "flood_rate"),
    [pytest.param(FLOODER, 500, id="unknown-source"), pytest.param(PSTN, 60, id="carrier")],
)
async def test_invite_flood_from_one_source_leaves_the_others_routed(
    vipcall, asterisk, people, tmp_path, source, flood_rate
) -> None:
    """One source sends INVITEs as fast as it can, sending nothing else; meanwhile ordinary
    calls come from the carrier and are all routed by the app. From an unknown address the
    flood meets Asterisk's "no matching endpoint" (401, no channel); from the carrier's own
    address every INVITE is a call the app routes (to a number no one has), so its rate is
    what the service can route besides the ordinary calls."""
    import asyncio
    import time

    from harness.party import Sipp
    from tests.scenarios.faults.load import Load, national, provisioned

    org = await people.org()
    callees = [await people.user(org) for _ in range(5)]
    await provisioned(asterisk, [p.mobile for p in callees])
    calls = [(p.mobile, national(i)) for i, p in enumerate(callees)]
    log_at = asterisk.messages_log.stat().st_size
    seconds = 10
    load = Load(tmp_path / "ordinary", calls, rate=10, count=10 * (seconds + 4), hold_ms=1000)
    flood = Sipp(
        str(FLOOD), source, 5400, tmp_path / "flood", remote=ASTERISK, service="+358201234567",
        calls=flood_rate * seconds, timeout=seconds + 30, timeout_error=False, trace=False,
        extra=["-r", str(flood_rate), "-rp", "1000", "-l", "100000",
               "-trace_stat", "-stf", str(tmp_path / "flood_stat.csv"), "-fd", "1"],
    )  # fmt: skip
    try:
        load.start()
        await asyncio.sleep(2)
        flooding = flood.spawn(cwd=tmp_path, output=tmp_path / "flood.out")
        started = time.monotonic()
        await asyncio.to_thread(flooding.wait, seconds + 30)
        flood_s = time.monotonic() - started
        result = await asyncio.to_thread(load.finish)
    finally:
        load.stop()
        if "flooding" in locals():
            flooding.stop()
    from bench.measure import read_stats

    sent = int(read_stats(tmp_path / "flood_stat.csv").get("OutgoingCall(C)", 0) or 0)
    logged = asterisk.messages_log.read_bytes()[log_at:].decode(errors="replace")
    unmatched = logged.count("No matching endpoint found")
    left = await drained(asterisk, timeout=40)
    print(
        f"\nHOSTILE flood from {source}: {sent} INVITEs in {flood_s:.1f} s "
        f"({sent / flood_s:.0f}/s), Asterisk logged {unmatched} 'no matching endpoint'; "
        f"ordinary calls at 10/s: {result.successful}/{result.planned} ok, "
        f"{len(result.routed())} routed by the app, {len(result.failed_open())} failed open; "
        f"channels left {left}; app alive {vipcall.running}"
    )
    assert sent >= flood_rate * seconds * 0.9
    assert result.failed == 0, result.caller_log
    assert len(result.routed()) == result.planned
    assert vipcall.running
    assert left == 0
