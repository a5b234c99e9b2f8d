"""Mid-call blind transfer ``*#*1`` number ``#``, end to end: the user answers a call on
their handset (SIPp behind the mobile core) and keys the sequence (one pcap with rising RTP
timestamps, harness/dtmf.py). Asterisk's own feature detection (features.conf ``vipxfer``)
runs ``[vipcall-xfer]`` on the user's leg while the caller hears hold music; the app checks
the number (HTTP ``/transfer``) and decides the caller's new call."""

from __future__ import annotations

from pathlib import Path

from harness.app import eventually
from harness.dtmf import write_pcap
from harness.party import SippResult
from tests.scenarios.conftest import MOBILE_CORE, SOFTPHONES
from tests.support.people import Person, fresh_external, messages_of
from tests.support.voicemail import default_greeting_seconds

HERE = Path(__file__).resolve().parent
OTHERS_RING = str(HERE / "uas_keys_others_ring.xml")
UAC_TONE = str(HERE / "uac_tone.xml")
#: After the handset answers: the feature code, then the number keyed a moment later.
KEYS_AFTER_MS = 1000


def national(e164: str) -> str:
    return "0" + e164.removeprefix("+358")


def keys_pcap(tmp_path: Path, after_star: str) -> Path:
    """``*#*`` then, 0.8 s later (the feature has started reading keys), ``after_star``."""
    return write_pcap(tmp_path / f"xfer-{after_star}.pcap", f"*#* w800 {after_star}")


def handset(parties, user: Person, pcap: Path, calls: int, scenario: str = "uas_answer_keys.xml"):  # type: ignore[no-untyped-def]
    """Every handset behind the mobile core; ``user``'s answers and keys ``pcap``."""
    return parties._sipp(
        scenario=scenario, ip=MOBILE_CORE, port=5060, calls=calls, timeout=60,
        keys={"ring": "300", "wait": str(KEYS_AFTER_MS), "keyed": user.mobile.removeprefix("+"),
              "pcap": str(pcap)},
    )  # fmt: skip


def invites_for(result: SippResult) -> list[str]:
    return [m.request_user for m in result.received("INVITE")]


def byes(result: SippResult) -> int:
    return len(result.received("BYE"))


def xfer_log(asterisk) -> list[str]:  # type: ignore[no-untyped-def]
    return [
        line
        for line in asterisk.messages_log.read_text(errors="replace").splitlines()
        if "vipcall-xfer" in line
    ]


async def users(people, n: int) -> list[Person]:  # type: ignore[no-untyped-def]
    org = await people.org()
    return [await people.user(org) for _ in range(n)]


async def test_transfer_to_a_colleague_connects_the_caller_and_ends_the_users_leg(
    vipcall, people, parties, tmp_path
) -> None:
    maija, pekka = await users(people, 2)
    phones = await handset(
        parties, maija, keys_pcap(tmp_path, f"1{national(pekka.mobile)}#"), 2
    ).start()

    call = await parties.external_caller(fresh_external(), maija.mobile, hold="14000").run()
    seen = await phones.wait()

    assert call.ok, call.log
    assert seen.ok, seen.log
    # Maija's handset rang, then Pekka's: the caller is with Pekka now.
    assert invites_for(seen) == [maija.mobile, pekka.mobile], vipcall.log_tail()
    # Both handset calls ended with a BYE from Asterisk: Maija's at the transfer, Pekka's
    # when the caller hung up, with the caller's own BYE answered (it was never cut off).
    assert byes(seen) == 2
    assert call.final_status() == 200
    pekka_invite = seen.received("INVITE")[1]
    assert maija.mobile in (pekka_invite.header("From") or "")  # from the transferring user


async def test_transfer_to_an_external_number_goes_out_to_the_pstn(
    vipcall, people, parties, tmp_path
) -> None:
    (maija,) = await users(people, 1)
    target = fresh_external()
    phones = await handset(parties, maija, keys_pcap(tmp_path, f"1{national(target)}#"), 1).start()
    far_end = await parties.pstn_far_end().start()

    call = await parties.external_caller(fresh_external(), maija.mobile, hold="12000").run()
    seen = await phones.wait()
    out = await far_end.wait()

    assert call.ok, call.log
    assert seen.ok and out.ok, (seen.log, out.log)
    assert invites_for(out) == [target], vipcall.log_tail()
    assert byes(seen) == 1  # Maija's leg ended at the transfer
    assert byes(out) == 1  # the far end was with the caller until the caller hung up


async def test_the_user_answering_on_the_softphone_transfers_too(
    vipcall, people, parties, tmp_path
) -> None:
    """The sequence works on whichever of the user's phones answered: here the softphone
    (its leg gets the same pre-dial handler as the handset's), while the handset only rang."""
    org = await people.org()
    maija = await people.user(org, softphone=True)
    assert maija.softphone is not None and maija.softphone_password is not None
    port = 5066

    await parties.softphone_registered(maija.softphone, maija.softphone_password, port)
    target = fresh_external()
    softphone = await parties._sipp(
        scenario="uas_answer_keys.xml", ip=SOFTPHONES, port=port, timeout=60,
        keys={"ring": "300", "wait": str(KEYS_AFTER_MS), "keyed": maija.softphone,
              "pcap": str(keys_pcap(tmp_path, f"1{national(target)}#"))},
    ).start()  # fmt: skip
    phone = await parties.handset("uas_ring.xml").start()
    far_end = await parties.pstn_far_end().start()

    call = await parties.external_caller(fresh_external(), maija.mobile, hold="12000").run()
    on_softphone = await softphone.wait()
    on_handset = await phone.wait()
    out = await far_end.wait()

    assert call.ok, call.log
    assert on_softphone.ok and out.ok, (on_softphone.log, out.log)
    assert invites_for(out) == [target], vipcall.log_tail()
    assert byes(on_softphone) == 1  # the softphone's leg ended at the transfer
    assert on_handset.received("CANCEL"), "the handset stopped ringing when the softphone answered"
    assert byes(out) == 1  # the far end was with the caller until the caller hung up


async def test_invalid_number_brings_the_caller_back_with_an_error_prompt(
    vipcall, asterisk, people, parties, tmp_path
) -> None:
    (maija,) = await users(people, 1)
    before = len(xfer_log(asterisk))
    phones = await handset(parties, maija, keys_pcap(tmp_path, "112345#"), 1).start()

    call = await parties.external_caller(fresh_external(), maija.mobile, hold="12000").run()
    seen = await phones.wait()

    # The caller stayed in the call with Maija to the end and hung up themselves.
    assert call.ok, call.log
    assert seen.ok, seen.log
    assert invites_for(seen) == [maija.mobile]
    assert byes(seen) == 1
    logged = xfer_log(asterisk)[before:]
    assert any("refused" in line and "SUCCESS" in line for line in logged), logged
    assert "refused: invalid-number" in vipcall.log_tail(200)


async def test_no_hash_within_the_timeout_brings_the_caller_back(
    vipcall, asterisk, people, parties, tmp_path
) -> None:
    maija, pekka = await users(people, 2)
    before = len(xfer_log(asterisk))
    # The number but no '#': the feature gives up 5 s after the last key.
    phones = await handset(
        parties, maija, keys_pcap(tmp_path, f"1{national(pekka.mobile)}"), 1
    ).start()

    call = await parties.external_caller(fresh_external(), maija.mobile, hold="16000").run()
    seen = await phones.wait()

    assert call.ok, call.log
    assert seen.ok, seen.log
    assert invites_for(seen) == [maija.mobile]  # nobody else was called
    assert byes(seen) == 1
    logged = xfer_log(asterisk)[before:]
    assert any("refused" in line and "SUCCESS" in line for line in logged), logged
    assert "refused: no-end-key" in vipcall.log_tail(200)


async def test_colleague_not_answering_takes_a_message_for_the_colleague(
    vipcall, people, parties, tmp_path, database
) -> None:
    maija, pekka = await users(people, 2)
    pcap = keys_pcap(tmp_path, f"1{national(pekka.mobile)}#")
    phones = await handset(parties, maija, pcap, 2, scenario=OTHERS_RING).start()
    # The caller sounds all along (a tone) through Pekka's greeting into his voicemail:
    # keys ~8 s from the answer, ringing 4 s, the greeting, then a few seconds of message.
    hold = int((8 + 4 + default_greeting_seconds(pekka.mobile) + 5) * 1000)
    tone = write_pcap(tmp_path / "tone.pcap", f"tone:{hold + 5000}")
    call = await parties.external_caller(
        fresh_external(), maija.mobile, UAC_TONE, hold=str(hold), pcap=str(tone)
    ).run()
    seen = await phones.wait()

    assert call.ok, call.log
    assert seen.ok, seen.log
    assert invites_for(seen) == [maija.mobile, pekka.mobile]
    messages = await eventually(lambda: messages_of(database, pekka.id), timeout=10)
    assert len(messages) == 1, vipcall.log_tail()
    assert messages[0]["called_number"] == pekka.mobile
    assert messages[0]["duration_ms"] >= 2000  # type: ignore[operator]
    assert await messages_of(database, maija.id) == []


async def test_the_user_calling_out_transfers_the_far_end_to_a_colleague(
    vipcall, people, parties, tmp_path
) -> None:
    maija, pekka = await users(people, 2)
    far = fresh_external()
    # The far end answers Maija's own call and hangs up 12 s later, by then talking to Pekka.
    far_end = parties.pstn_far_end(str(HERE / "uas_answer_then_bye.xml"))
    far_end.keys["hold"] = "12000"
    await far_end.start()
    colleague = await parties.handset().start()
    pcap = keys_pcap(tmp_path, f"1{national(pekka.mobile)}#")

    own = await parties.handset_caller(
        maija.mobile, far, "uac_keys.xml", wait=str(KEYS_AFTER_MS), pcap=str(pcap)
    ).run()
    out = await far_end.wait()
    seen = await colleague.wait()

    assert own.ok, own.log  # Maija's own call ended by the service (BYE) at the transfer
    assert out.ok, out.log
    assert seen.ok, seen.log
    assert invites_for(out) == [far]
    assert invites_for(seen) == [pekka.mobile], vipcall.log_tail()
    assert out.final_status() == 200  # the far end's BYE ended the call with Pekka
    assert byes(seen) == 1


async def test_outside_number_not_answering_rings_the_user_again_then_an_announcement(
    vipcall, asterisk, people, parties, tmp_path
) -> None:
    (maija,) = await users(people, 1)
    target = fresh_external()
    before = len(xfer_log(asterisk))
    pcap = keys_pcap(tmp_path, f"1{national(target)}#")
    # Maija answers and transfers; when the call comes back to her she does not answer.
    phones = await handset(parties, maija, pcap, 2, scenario=OTHERS_RING).start()
    far_end = await parties.pstn_far_end("uas_ring.xml").start()

    caller = fresh_external()
    call = await parties.external_caller(caller, maija.mobile, "uac_until_bye.xml").run()
    out = await far_end.wait()
    seen = await phones.wait()

    assert call.ok, call.log  # the service ended the call (BYE) after the announcement
    assert out.ok and seen.ok, (out.log, seen.log)
    assert invites_for(out) == [target]
    assert invites_for(seen) == [maija.mobile, maija.mobile], vipcall.log_tail()
    logged = xfer_log(asterisk)[before:]
    assert any("nobody answered, prompt SUCCESS" in line for line in logged), logged
