"""Real Asterisk in the chroot, no Stasis app connected (so every call fails open)."""

from __future__ import annotations

import re
import urllib.error
from collections.abc import Iterator
from typing import Any

import pytest

from vipcall.sandbox import Instance
from vipcall.sandbox.instance import PROJECT_DIR
from vipcall.service.provisioning import SoftphoneAccount, endpoint_fields

pytestmark = pytest.mark.e2e

USER_E164 = "+358401234567"
# Same addresses as docs/design.md and conftest.py (conftest is not importable under
# --import-mode=importlib; fixtures "sipp" and "ports" come from it).
PSTN_HOST = "127.0.0.2"
MOBILE_HOST = "127.0.0.3"
SOFTPHONE_HOST = "127.0.0.4"
Sipp = Any
Ports = Any


def set_ring(inst: Instance, key: str, value: str) -> None:
    """What the app does: AstDB vipcall-ring/<key> over ARI."""
    inst.ari(
        "POST", "/asterisk/variable", params={"variable": f"DB(vipcall-ring/{key})", "value": value}
    )


def test_ari_answers_with_credentials(sandbox: Instance) -> None:
    info = sandbox.ari_get("/asterisk/info")
    assert info["system"]["version"].startswith("22.")
    wrong = Instance(
        name=sandbox.name, root=sandbox.root, ari_port=sandbox.ari_port, ari_password="wrong"
    )
    with pytest.raises(urllib.error.HTTPError) as err:
        wrong.ari_get("/asterisk/info")
    assert err.value.code == 401


def test_all_listed_modules_running(sandbox: Instance) -> None:
    wanted = re.findall(
        r"^load = (\S+)\.so", (PROJECT_DIR / "asterisk-conf/modules.conf").read_text(), re.M
    )
    out = sandbox.cli("module show")
    running = set(re.findall(r"^(\S+)\.so\s.*\sRunning\s", out, re.M))
    assert {
        "res_ari",
        "res_stasis",
        "chan_pjsip",
        "res_pjsip_pubsub",
        "codec_resample",
        "res_stasis_recording",
        "res_stasis_playback",
        "res_musiconhold",
        "res_websocket_client",
        "app_stack",
    } <= set(wanted)
    assert sorted(set(wanted) - running) == []
    assert "pbx_config.so" in sandbox.cli("module show like pbx_config")


def test_no_errors_logged(sandbox: Instance) -> None:
    errors = [line for line in sandbox.messages_log.read_text().splitlines() if "ERROR[" in line]
    assert errors == []


def test_dialplan_contexts(sandbox: Instance) -> None:
    for ctx, needle in [
        ("vipcall-inbound", "Stasis(${VIP_APP},in,${VIP_TRUNK})"),
        ("vipcall-softphone", "Stasis(${VIP_APP},in,softphone,${CHANNEL(endpoint)})"),
        ("vipcall-ring", "Stasis(${VIP_APP},dialed,${DIALSTATUS}"),
        ("vipcall-predial", "PJSIP_HEADER(add,X-Vipcall)=delivered"),
        ("vipcall-failopen", "DB(vipcall-ring/${VIP_E164})"),
    ]:
        assert needle in sandbox.cli(f"dialplan show {ctx}"), ctx
    assert "VIP_APP=vipcall" in sandbox.cli("dialplan show globals").replace(" ", "")


def test_trunks_and_transport(sandbox: Instance, ports: Ports) -> None:
    out = sandbox.cli("pjsip show endpoints")
    assert "Endpoint:  pstn" in out and "Endpoint:  mobile" in out
    assert f"127.0.0.1:{ports.sip}" in out
    assert f"sip:{PSTN_HOST}:{ports.peer}" in out and f"sip:{MOBILE_HOST}:{ports.peer}" in out


def test_project_sounds_resolve(sandbox: Instance) -> None:
    """sounds/<lang>/<prompt>.wav is playable as vipcall/<lang>/<prompt> (ARI sound:vipcall/...);
    Asterisk's sound index lists it with "language" vipcall."""
    prompts = sorted((PROJECT_DIR / "sounds" / "fi").glob("*.wav"))
    if not prompts:
        pytest.skip("no prompts in sounds/fi yet")
    got = sandbox.ari("GET", f"/sounds/fi%2F{prompts[0].stem}")
    assert {"language": "vipcall", "format": "slin"} in got["formats"]


def test_astdb_over_ari(sandbox: Instance) -> None:
    """Writes (DB) and deletes (DB_DELETE) work over ARI thanks to live_dangerously; reads
    through GET /asterisk/variable do NOT evaluate functions (Asterisk answers "")."""
    key = "+358409999999"
    set_ring(sandbox, key, "PJSIP/+358409999999@mobile")
    assert "PJSIP/+358409999999@mobile" in sandbox.cli(f"database get vipcall-ring {key}")
    sandbox.ari("POST", "/asterisk/variable", params={"variable": f"DB_DELETE(vipcall-ring/{key})"})
    assert "not found" in sandbox.cli(f"database get vipcall-ring {key}").lower()
    got = sandbox.ari("GET", "/asterisk/variable", params={"variable": "DB_KEYS(vipcall-ring)"})
    assert got == {"value": ""}  # documented limitation, see docs/design.md


@pytest.mark.parametrize("dialled", [USER_E164, "0401234567", "00358401234567", "358401234567"])
def test_failopen_rings_user_handset_with_marker(
    sandbox: Instance, sipp: Sipp, ports: Ports, dialled: str
) -> None:
    set_ring(sandbox, USER_E164, f"PJSIP/{USER_E164}@mobile")
    uas, tag = sipp.start_uas("uas_marked.xml", MOBILE_HOST, ports.peer)
    uac = sipp.run("uac_call.xml", PSTN_HOST, dialled)
    far = sipp.finish(uas, tag)
    assert uac.returncode == 0, uac.output
    assert far.returncode == 0, far.output + far.messages
    invite = far.messages.split("INVITE sip:", 1)[1].split("\n\n", 1)[0]
    assert invite.startswith(f"{USER_E164}@{MOBILE_HOST}")
    assert re.search(r"^X-Vipcall: delivered\s*$", invite, re.M)


def test_ring_handoff_dials_vip_ring_with_marker(
    sandbox: Instance, sipp: Sipp, ports: Ports
) -> None:
    """[vipcall-ring] as the app uses it, without the app: a Local channel enters s,1 with
    VIP_RING; when the handset answers, the other half hangs up (cause 16)."""
    uas, tag = sipp.start_uas("uas_marked.xml", MOBILE_HOST, ports.peer)
    ring = f"10|7|{USER_E164}|+358501112233||PJSIP/{USER_E164}@mobile"
    sandbox.ari(
        "POST",
        "/channels",
        params={
            "endpoint": "Local/s@vipcall-ring",
            "context": "vipcall-hangup",
            "extension": "ANSWER",
            "priority": "1",
        },
        body={"variables": {"VIP_RING": ring}},
    )
    far = sipp.finish(uas, tag)
    assert far.returncode == 0, far.output + far.messages
    invite = far.messages.split("INVITE sip:", 1)[1].split("\n\n", 1)[0]
    assert invite.startswith(f"{USER_E164}@{MOBILE_HOST}")
    assert re.search(r"^X-Vipcall: delivered\s*$", invite, re.M)
    assert re.search(r"^From: .*sip:\+358501112233@", invite, re.M)


def test_failopen_mobile_origin_goes_to_pstn_unmarked(
    sandbox: Instance, sipp: Sipp, ports: Ports
) -> None:
    number = "+35891234567"  # not a user number: no vipcall-ring entry
    sandbox.cli(f"database del vipcall-ring {number}")
    uas, tag = sipp.start_uas("uas_unmarked.xml", PSTN_HOST, ports.peer)
    uac = sipp.run("uac_call.xml", MOBILE_HOST, number)
    far = sipp.finish(uas, tag)
    assert uac.returncode == 0, uac.output
    assert far.returncode == 0, far.output + far.messages
    assert f"INVITE sip:{number}@{PSTN_HOST}" in far.messages
    assert "X-Vipcall" not in far.messages


def test_failopen_unknown_number_from_pstn_is_refused(sandbox: Instance, sipp: Sipp) -> None:
    uac = sipp.run("uac_rejected.xml", PSTN_HOST, "+358201234567")
    assert uac.returncode == 0, uac.output
    assert "SIP/2.0 404" in uac.messages


SOFTPHONE = "sp-999-1"
SOFTPHONE_PASSWORD = "pw-Xy7"


@pytest.fixture
def softphone(sandbox: Instance) -> Iterator[str]:
    """A softphone pushed with the app's own fields (service/provisioning.py), removed after."""
    ep = SOFTPHONE
    objects = endpoint_fields(SoftphoneAccount(ep, SOFTPHONE_PASSWORD, "+358401234567"))
    try:
        for kind, fields in objects.items():
            sandbox.ari(
                "PUT",
                f"/asterisk/config/dynamic/res_pjsip/{kind}/{ep}",
                body={"fields": [{"attribute": k, "value": v} for k, v in fields.items()]},
            )
        yield ep
    finally:
        for kind in ("endpoint", "aor", "auth"):
            try:
                sandbox.ari("DELETE", f"/asterisk/config/dynamic/res_pjsip/{kind}/{ep}")
            except urllib.error.HTTPError:
                pass
    assert "Unable to find object" in sandbox.cli(f"pjsip show endpoint {ep}")


def test_softphone_pushed_over_ari_registers(sandbox: Instance, sipp: Sipp, softphone: str) -> None:
    ep = softphone
    shown = sandbox.cli(f"pjsip show endpoint {ep}")
    assert f"Endpoint:  {ep}" in shown and "vipcall-softphone" in shown
    bad = sipp.run(
        "uac_register.xml", SOFTPHONE_HOST, ep, ["-au", ep, "-ap", "wrong"], {"from": ep}
    )
    assert bad.returncode != 0
    ok = sipp.run(
        "uac_register.xml", SOFTPHONE_HOST, ep, ["-au", ep, "-ap", SOFTPHONE_PASSWORD], {"from": ep}
    )
    assert ok.returncode == 0, ok.output + ok.messages
    assert f"{ep}/sip:{ep}@{SOFTPHONE_HOST}" in sandbox.cli("pjsip show contacts")


def test_softphone_call_fails_open_to_handset(
    sandbox: Instance, sipp: Sipp, ports: Ports, softphone: str
) -> None:
    set_ring(sandbox, USER_E164, f"PJSIP/{USER_E164}@mobile")
    uas, tag = sipp.start_uas("uas_marked.xml", MOBILE_HOST, ports.peer)
    auth = ["-au", softphone, "-ap", SOFTPHONE_PASSWORD]
    uac = sipp.run("uac_call_auth.xml", SOFTPHONE_HOST, "0401234567", auth, {"from": softphone})
    far = sipp.finish(uas, tag)
    assert uac.returncode == 0, uac.output + uac.messages
    assert far.returncode == 0, far.output + far.messages
    assert f"INVITE sip:{USER_E164}@{MOBILE_HOST}" in far.messages
