"""The voicemail bench's own logic (bench/voicemail.py), without Asterisk: the hang-up
times read from SIPp's trace, the join of what each part saw into one timeline per message,
the figures and the table, the plan of calls, the pass-through sendsms relay, and the
caller scenario rendered as SIPp gets it."""

from __future__ import annotations

import http.server
import threading
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from bench.rig import parse_rates
from bench.voicemail import (
    SCENARIO,
    STAGES,
    SendsmsRelay,
    Timeline,
    VmStep,
    first_times,
    hangups,
    last_times,
    plan_calls,
    table,
    timelines,
)
from harness.party import Sipp, parse_trace
from tests.bench.trace import block

T0 = 1_800_000_000.0


def test_hangup_is_the_first_bye_the_caller_sent() -> None:
    text = (
        block(T0, "sent", "INVITE sip:+35891@x SIP/2.0", From="<sip:+358501@x>;tag=a")
        + block(T0 + 1, "received", "BYE sip:x SIP/2.0", From="<sip:+358502@x>;tag=b")
        + block(T0 + 2.5, "sent", "BYE sip:x SIP/2.0", From="<sip:+358501@x>;tag=a")
        + block(T0 + 3.0, "sent", "BYE sip:x SIP/2.0", From="<sip:+358501@x>;tag=a")
        + block(T0 + 4.25, "sent", "BYE sip:x SIP/2.0", From="<sip:+358503@x>;tag=c")
    )
    found = hangups(parse_trace(text))
    assert found == pytest.approx({"+358501": T0 + 2.5, "+358503": T0 + 4.25}, abs=1e-5)


def test_sms_parts_count_at_the_last_accepts_at_the_first() -> None:
    events = [(5.0, "a"), (3.0, "a"), (4.0, "b")]
    assert last_times(events) == {"a": 5.0, "b": 4.0}
    assert first_times(events) == {"a": 3.0, "b": 4.0}


def test_timelines_join_by_caller_mobile_and_email() -> None:
    calls = [("+3585001", "+3584001", "a@x"), ("+3585002", "+3584002", "b@x")]
    lines = timelines(
        calls,
        hangup={"+3585001": 10.0, "+3585002": 20.0},
        stored={"+3585001": 10.004},
        sms_accepted={"+3584001": 10.5, "+3584002": 21.0},
        sms_smsc={"+3584001": 10.6},
        email_accepted={"b@x": 20.25},
    )
    first, second = lines
    assert first.after_hangup("stored") == pytest.approx(4.0)
    assert first.after_hangup("sms_smsc") == pytest.approx(600.0)
    assert first.after_hangup("email_accepted") is None
    assert second.after_hangup("stored") is None
    assert second.after_hangup("sms_accepted") == pytest.approx(1000.0)
    assert second.after_hangup("email_accepted") == pytest.approx(250.0)


def test_step_counts_figures_and_cleanliness() -> None:
    step = VmStep(2.0, 3)
    for i, ms in enumerate((10.0, 20.0, 400.0)):
        t = Timeline(f"c{i}", f"m{i}", f"e{i}", hangup=100.0 + i)
        for stage in STAGES:
            setattr(t, stage, 100.0 + i + ms / 1000)
        step.lines.append(t)
    assert step.figures("stored") == pytest.approx((20.0, 400.0, 400.0))
    assert step.clean
    step.lines[1].email_accepted = None
    assert step.count("email_accepted") == 2
    assert not step.clean
    row = table([step]).splitlines()[-1]
    assert row.startswith("| 2 | 3 | 3 | 3 | 3 | 3 | 2 |")
    assert "20.0 / 400 / 400" in row


def test_every_call_of_a_run_reaches_its_own_user() -> None:
    assert plan_calls(3, 4, 10) == [4, 5, 6]
    with pytest.raises(ValueError, match="8 calls need as many users; seeded 7"):
        plan_calls(4, 4, 7)


@pytest.mark.parametrize("text", ["", "2,-1", "0"])
def test_rates_must_be_positive(text: str) -> None:
    with pytest.raises(ValueError):
        parse_rates(text)


def test_rates_parsed() -> None:
    assert parse_rates("2, 5,10") == [2.0, 5.0, 10.0]


def test_relay_passes_the_answer_on_and_notes_acceptance() -> None:
    answers = iter([b"0: Accepted for delivery", b"Authorization failed"])

    class Gateway(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            body = next(answers)
            self.send_response(200 if body.startswith(b"0:") else 403)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    gateway = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Gateway)
    threading.Thread(target=gateway.serve_forever, daemon=True).start()
    relay = SendsmsRelay(f"http://127.0.0.1:{gateway.server_port}/cgi-bin/sendsms")
    relay.start()
    try:
        with urllib.request.urlopen(f"{relay.url}?to=%2B358401234567&text=hei") as r:
            assert r.read() == b"0: Accepted for delivery"
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{relay.url}?to=%2B358409999999&text=hei")
        assert refused.value.code == 403
    finally:
        relay.stop()
        gateway.shutdown()
        gateway.server_close()
    assert [to for _, to in relay.accepted] == ["+358401234567"]
    assert relay.answers == ["0: Accepted for delivery", "Authorization failed"]


def test_caller_scenario_renders_with_the_speech_pcap(tmp_path: Path) -> None:
    sipp = Sipp(str(SCENARIO), "127.0.0.2", 46070, tmp_path, keys={"hold": "3500"})
    argv = sipp.argv()
    rendered = Path(argv[argv.index("-sf") + 1])
    root = ET.parse(rendered).getroot()
    pcaps = [e.get("play_pcap_audio") for e in root.iter("exec")]
    assert pcaps and all(p and Path(p).exists() for p in pcaps)
    assert argv[argv.index("-set") + 1 : argv.index("-set") + 3] == ["hold", "3500"]
