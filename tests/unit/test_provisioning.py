"""A provisioning round goes on past an object Asterisk refuses, counts it and retries it
next round; an endpoint Asterisk cannot update in place is replaced. An in-memory ARI
stand-in answers like Asterisk; the same runs for real in
tests/scenarios/provisioning_after_app_restart."""

from __future__ import annotations

from typing import Any

import pytest

from vipcall.ari import AriError, AriNotFound, AriUnavailable
from vipcall.metrics import PROVISIONING_FAILURES
from vipcall.service.endpoints import SoftphoneStates
from vipcall.service.provisioning import Provisioner, SoftphoneAccount, endpoint_fields

A = SoftphoneAccount("sp-1-1", "pw1", "+358401000001")
B = SoftphoneAccount("sp-2-1", "pw2", "+358401000002")
C = SoftphoneAccount("sp-3-1", "pw3", "+358401000003")


class FakeAri:
    app = "vipcall"

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], dict[str, str]] = {}
        self.refuse: set[str] = set()
        self.unmergeable: set[str] = set()
        self.down = False
        self.calls: list[tuple[str, ...]] = []

    async def db_put(self, family: str, key: str, value: str) -> None:
        self.calls.append(("db_put", key))

    async def db_clear(self, family: str, key: str) -> None:
        self.calls.append(("db_clear", key))

    async def put_dynamic_config(
        self, cls: str, kind: str, oid: str, fields: dict[str, str]
    ) -> list[Any]:
        self.calls.append(("put", kind, oid))
        path = f"/asterisk/config/dynamic/{cls}/{kind}/{oid}"
        if self.down:
            raise AriUnavailable(0, "PUT", path, "connection refused")
        if oid in self.refuse:
            raise AriError(400, "PUT", path, "refused")
        if kind == "endpoint" and oid in self.unmergeable and (kind, oid) in self.objects:
            raise AriError(400, "PUT", path, "Could not find option named 'VIP_TRUNK'")
        self.objects[(kind, oid)] = dict(fields)
        return []

    async def get_dynamic_config(self, cls: str, kind: str, oid: str) -> list[Any]:
        self.calls.append(("get", kind, oid))
        path = f"/asterisk/config/dynamic/{cls}/{kind}/{oid}"
        if (kind, oid) not in self.objects:
            raise AriNotFound(404, "GET", path, f"Object with id '{oid}' not found")
        if kind == "acl":  # as Asterisk 22 answers for an ACL that exists
            raise AriError(500, "GET", path, "Allocation failed")
        return [{"attribute": k, "value": v} for k, v in self.objects[(kind, oid)].items()]

    async def delete_dynamic_config(self, cls: str, kind: str, oid: str) -> None:
        self.calls.append(("delete", kind, oid))
        self.objects.pop((kind, oid), None)
        self.unmergeable.discard(oid)

    async def request(self, method: str, path: str, params: Any = None, body: Any = None) -> Any:
        self.calls.append((method, path))
        return {"technology": "PJSIP", "resource": path.rsplit("/", 1)[1], "state": "offline"}


def provisioner(ari: FakeAri, phones: list[SoftphoneAccount]) -> Provisioner:
    p = Provisioner(ari, engine=None)  # type: ignore[arg-type]

    async def desired() -> tuple[dict[str, str], dict[str, SoftphoneAccount]]:
        return {}, {a.endpoint: a for a in phones}

    p.desired = desired  # type: ignore[method-assign]
    return p


def failed(kind: str) -> float:
    return PROVISIONING_FAILURES.labels(kind=kind)._value.get()


async def test_a_refused_softphone_does_not_hold_back_the_others_and_is_retried() -> None:
    ari = FakeAri()
    ari.refuse = {B.endpoint}
    before = failed("softphone")
    p = provisioner(ari, [A, B, C])
    await p.sync(full=True)
    assert ("endpoint", A.endpoint) in ari.objects and ("endpoint", C.endpoint) in ari.objects
    assert failed("softphone") == before + 1

    ari.refuse.clear()
    ari.calls.clear()
    await p.sync()
    assert [c for c in ari.calls if c[0] == "put"] == [
        ("put", kind, B.endpoint) for kind in ("auth", "aor", "endpoint")
    ], "only the refused one is pushed again"
    await p.sync()
    assert failed("softphone") == before + 1


async def test_asterisk_away_ends_the_round() -> None:
    ari = FakeAri()
    ari.down = True
    p = provisioner(ari, [A, B])
    with pytest.raises(AriUnavailable):
        await p.sync(full=True)
    assert len([c for c in ari.calls if c[0] == "put"]) == 1


async def test_an_endpoint_that_cannot_be_updated_in_place_is_replaced() -> None:
    ari = FakeAri()
    ari.objects[("endpoint", A.endpoint)] = {"set_var": "VIP_TRUNK=softphone"}
    ari.unmergeable.add(A.endpoint)
    p = provisioner(ari, [A])
    p.states = SoftphoneStates()
    await p.sync(full=True)
    assert ari.objects[("endpoint", A.endpoint)] == endpoint_fields(A)["endpoint"]
    assert ("delete", "endpoint", A.endpoint) in ari.calls
    assert ("POST", "/applications/vipcall/subscription") in ari.calls
    assert not p.states.reachable(A.endpoint), "its state was read after the push"


def test_pushed_endpoints_carry_no_set_var() -> None:
    assert "set_var" not in endpoint_fields(A)["endpoint"]


def test_behind_the_proxy_a_softphone_endpoint_carries_no_password() -> None:
    """The two-node layout: Kamailio checked the password, the node only knows the user."""
    objects = endpoint_fields(A, auth_by_proxy=True)
    assert "auth" not in objects
    assert objects["endpoint"]["auth"] == ""
    assert A.password not in repr(objects)
    assert endpoint_fields(A)["endpoint"]["auth"] == A.endpoint, "one node alone: its own login"



async def test_without_the_proxy_acl_no_softphone_is_pushed_without_a_password() -> None:
    """Behind the proxy the endpoints carry no password; on a node whose ACL does not limit
    SIP to the proxy that would let anyone in, so the app pushes none there."""
    ari = FakeAri()
    p = provisioner(ari, [A])
    p.auth_by_proxy = True
    await p.sync(full=True)
    assert ("endpoint", A.endpoint) not in ari.objects
    ari.objects[("acl", "proxy-only")] = {"deny": "0.0.0.0/0.0.0.0"}
    await p.sync(full=True)
    assert ari.objects[("endpoint", A.endpoint)]["auth"] == ""
    assert ("auth", A.endpoint) not in ari.objects
