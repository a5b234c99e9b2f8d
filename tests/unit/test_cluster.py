"""vipcall.cluster: the two-node layout's addresses, the rendered Kamailio config and what
each node's app is given (the running layout: tests/scenarios/two_nodes/)."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from vipcall.cluster import ClusterError, Kamailio, Layout, Node, kamailio_env
from vipcall.config import Settings
from vipcall.sandbox import Instance


def test_a_node_sees_the_proxy_side_sockets_as_its_trunks() -> None:
    layout = Layout()
    node = layout.nodes[0]
    inst = layout.instance(node, Settings(), root=Path("/nonexistent"))
    assert (inst.sip_host, inst.sip_port) == ("127.0.0.21", 5060)
    assert inst.pstn_host == layout.pstn_side_ip != layout.pstn_ip
    assert inst.mobile_host == layout.mobile_side_ip != layout.mobile_ip
    assert inst.peer_port == layout.side_port


def test_each_app_has_its_own_ari_http_port_and_state() -> None:
    layout = Layout()
    envs = [
        layout.app_env(n, layout.instance(n, Settings(), root=Path("/x")), Path("/s"))
        for n in layout.nodes
    ]
    for key in (
        "VIPCALL_ARI_URL",
        "VIPCALL_ARI_PASSWORD",
        "VIPCALL_HTTP_PORT",
        "VIPCALL_STATE_DIR",
    ):
        assert envs[0][key] != envs[1][key], key
    # service_number_calls.node is the ARI URL + app: the two apps must not share it
    assert envs[0]["VIPCALL_ARI_URL"].endswith(":8088/ari")


def test_dispatcher_list_names_every_node_and_probes_its_app_from_the_pstn_side() -> None:
    text = Layout().dispatcher_list()
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    assert lines == [
        "1 sip:127.0.0.21:5060 0 0 duid=node-a;socket=udp:127.0.0.12:5060;"
        "obproxy=sip:127.0.0.21:5062",
        "1 sip:127.0.0.22:5060 0 0 duid=node-b;socket=udp:127.0.0.12:5060;"
        "obproxy=sip:127.0.0.22:5062",
        # the fail-open set: the same nodes, probed at their Asterisk
        "2 sip:127.0.0.21:5060 0 0 duid=node-a-asterisk;socket=udp:127.0.0.12:5060",
        "2 sip:127.0.0.22:5060 0 0 duid=node-b-asterisk;socket=udp:127.0.0.12:5060",
    ]
    env = Layout().app_env(Layout().nodes[1], Instance(), Path("/tmp"))
    assert (env["VIPCALL_PROBE_HOST"], env["VIPCALL_PROBE_PORT"]) == ("127.0.0.22", "5062")


@pytest.mark.parametrize(
    "change",
    [
        {"pstn_side_ip": "127.0.0.13"},  # two sides on one address
        {"pstn_ip": "127.0.0.12"},  # a trunk on a side address: it would be taken for a node
        {"public_ip": "127.0.0.14"},
        {"nodes": ()},
        {"nodes": (Node("a", "127.0.0.21", 1, 2, 3, 4), Node("a", "127.0.0.22", 5, 6, 7, 8))},
    ],
)
def test_a_layout_that_cannot_tell_parties_apart_is_refused(change: dict[str, object]) -> None:
    with pytest.raises(ClusterError):
        replace(Layout(), **change)  # type: ignore[arg-type]


def test_the_rendered_config_has_no_placeholder_left(tmp_path: Path) -> None:
    kam = Kamailio(
        Layout(public_ip="127.0.10.1", pstn_ip="127.0.10.2"), tmp_path,
        "postgresql+asyncpg://vip:s3cr%40t@db.example:5433/vipcall",
    )  # fmt: skip
    text = kam.render().read_text()
    assert "@@" not in text
    assert '"pwdb=>postgres://vip@db.example:5433/vipcall"' in text
    assert "s3cr" not in text, "the password is not written into the config"
    assert kamailio_env(kam.database_url)["PGPASSWORD"] == "s3cr@t"
    assert "listen=udp:127.0.10.1:5060" in text
    assert 'if ($si == "127.0.10.2")' in text
    assert (tmp_path / "dispatcher.list").read_text() == kam.layout.dispatcher_list()


@pytest.mark.skipif(shutil.which("kamailio") is None, reason="kamailio not installed")
def test_kamailio_accepts_the_rendered_config(tmp_path: Path) -> None:
    kam = Kamailio(Layout(), tmp_path, Settings().database_url)
    kam.render()
    kam.check()  # kamailio -c: parses, modules load, every function call is known


def test_a_node_behind_the_proxy_takes_sip_from_the_proxy_alone() -> None:
    layout = Layout()
    values = layout.instance(layout.nodes[0], Settings()).template_values()
    acl = str(values["sip_acl"]).splitlines()
    assert acl[:3] == ["[proxy-only]", "type = acl", "deny = 0.0.0.0/0.0.0.0"]
    assert acl[3:] == [
        f"permit = {ip}/255.255.255.255"
        for ip in (layout.pstn_side_ip, layout.mobile_side_ip, layout.softphone_side_ip)
    ]
    assert layout.app_env(layout.nodes[0], layout.instance(layout.nodes[0], Settings()),
                          Path("/tmp"))["VIPCALL_SOFTPHONE_AUTH_BY_PROXY"] == "true"  # fmt: skip
    alone = Instance().template_values()["sip_acl"]
    assert str(alone).startswith("; no ACL")
