"""The proxy while PostgreSQL is away: Kamailio starts (and would relay calls, which need
no database), and a softphone's login it cannot check gets 503 with Retry-After, not a new
challenge that would look like a wrong password. Kamailio alone, on its own addresses
(127.0.11.x); no node is needed to log in."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness import sandbox
from harness.app import eventually
from harness.party import Sipp
from vipcall.cluster import Kamailio, Layout, Node

pytestmark = pytest.mark.e2e

LAYOUT = Layout(
    public_ip="127.0.11.1", pstn_ip="127.0.11.2", mobile_ip="127.0.11.3",
    pstn_side_ip="127.0.11.12", mobile_side_ip="127.0.11.13", softphone_side_ip="127.0.11.14",
    nodes=(Node("pl-a", "127.0.11.21", 28190, 29210, rtp_start=28000, rtp_end=28099),),
)  # fmt: skip
#: Nothing listens there: the database is away.
NO_DATABASE = "postgresql+asyncpg://postgres@127.0.0.1:1/vipcall"


async def test_a_login_the_password_store_cannot_check_gets_503(tmp_path: Path) -> None:
    sandbox.require(tools=("sipp", "kamailio"))
    kamailio = Kamailio(LAYOUT, tmp_path / "kamailio", NO_DATABASE)
    kamailio.start()  # does not need the database to start
    try:
        register = Sipp(
            scenario="uac_register.xml", ip="127.0.11.4", port=5070, workdir=tmp_path,
            remote=f"{LAYOUT.public_ip}:5060", auth=("sp-1-1", "whatever"),
            keys={"from": "sp-1-1", "contact_port": "5070"},
        )  # fmt: skip
        result = await register.run()
        assert not result.ok
        assert result.received(401), "asked for the password first, as Asterisk alone does"
        [unavailable] = result.received(503)
        assert unavailable.header("Retry-After") == "30"
        await eventually(lambda: "password store unavailable" in kamailio.log_tail(), 5)
        assert kamailio.running
    finally:
        kamailio.stop()
