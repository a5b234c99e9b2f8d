"""Provisioning after the app restarts while Asterisk stays up: the softphone objects the
previous process pushed are still in Asterisk's memory, so the new process's full push
updates them in place. That must work (no set_var on pushed endpoints, which Asterisk cannot
merge), a softphone added later must reach Asterisk and register, and one object Asterisk
refuses must not hold back the others."""

from __future__ import annotations

import re

from harness.app import AppProcess, eventually

OLD_PORT, NEW_PORT = 5064, 5065


async def registers(parties, person, port: int) -> bool:  # type: ignore[no-untyped-def]
    return await parties.softphone_registers(person.softphone, person.softphone_password, port)


def log_since(app: AppProcess, mark: int) -> str:
    with app.log_path.open("rb") as f:
        f.seek(mark)
        return f.read().decode(errors="replace")


def failures(app: AppProcess, kind: str) -> float:
    m = re.search(
        rf'^vipcall_provisioning_failures_total\{{kind="{kind}"\}} (\S+)$', app.metrics(), re.M
    )
    return float(m.group(1)) if m else 0.0


def restart(app: AppProcess) -> int:
    """kill -9 the app and start it again (Asterisk stays up); returns the log mark."""
    app.kill9()
    mark = app.log_path.stat().st_size
    app.start()
    return mark


async def test_softphone_added_after_an_app_restart_registers(
    vipcall, asterisk, people, parties
) -> None:
    org = await people.org()
    old = await people.user(org, softphone=True)
    await eventually(lambda: registers(parties, old, OLD_PORT), timeout=15, interval=0.3)

    mark = restart(vipcall)
    # The restarted app has pushed everything again (it logs the round) ...
    await eventually(lambda: "provisioned" in log_since(vipcall, mark), timeout=15)
    new = await people.user(org, softphone=True)

    # ... and a softphone added now reaches Asterisk within a sync and registers.
    await eventually(lambda: registers(parties, new, NEW_PORT), timeout=15, interval=0.3)
    assert await registers(parties, old, OLD_PORT), "the existing softphone still registers"
    since = log_since(vipcall, mark)
    assert "provisioning Asterisk failed" not in since, since[-3000:]
    assert failures(vipcall, "softphone") == 0
    refused = [
        line
        for line in asterisk.messages_log.read_text(errors="replace").splitlines()
        if "Could not find option" in line and f"'{old.softphone}'" in line
    ]
    assert refused == []


async def test_endpoint_pushed_with_set_var_by_an_earlier_version_is_replaced(
    vipcall, asterisk, people, parties
) -> None:
    org = await people.org()
    old = await people.user(org, softphone=True)
    ep = old.softphone
    await eventually(lambda: registers(parties, old, OLD_PORT), timeout=15, interval=0.3)
    # What the earlier version pushed: the same endpoint with set_var.
    asterisk.ari(
        "PUT",
        f"/asterisk/config/dynamic/res_pjsip/endpoint/{ep}",
        body={"fields": [{"attribute": "set_var", "value": "VIP_TRUNK=softphone"}]},
    )
    assert "VIP_TRUNK" in asterisk.cli(f"pjsip show endpoint {ep}")

    mark = restart(vipcall)

    await eventually(lambda: "VIP_TRUNK" not in asterisk.cli(f"pjsip show endpoint {ep}"))
    assert f"replacing softphone endpoint {ep}" in log_since(vipcall, mark)
    new = await people.user(org, softphone=True)
    await eventually(lambda: registers(parties, new, NEW_PORT), timeout=15, interval=0.3)
    assert await registers(parties, old, OLD_PORT), "the replaced endpoint still registers"
    assert failures(vipcall, "softphone") == 0
