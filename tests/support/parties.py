"""The SIP parties of an end-to-end test, each a fresh SIPp process (harness.party) in the
test's own folder, killed at its end. A layout gives its addresses: the one-Asterisk stack
(tests/scenarios/conftest.py) and the two nodes behind Kamailio (tests/scenarios/two_nodes/)
each subclass :class:`SippParties` as their ``Parties``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from harness.app import eventually
from harness.party import Sipp


class SippParties:
    """Builds the parties: callers from the PSTN, the mobile core and softphones' addresses
    to ``remote`` (each from its own port of ``ports``), and the answering handsets, PSTN
    far end and softphones. ``caller_keys``: what every PSTN or handset caller is given
    besides its number."""

    def __init__(
        self,
        workdir: Path,
        *,
        pstn: str,
        mobile_core: str,
        softphones: str,
        remote: str,
        ports: range,
        caller_keys: Mapping[str, str],
    ) -> None:
        self.workdir = workdir
        self.pstn = pstn
        self.mobile_core = mobile_core
        self.softphones = softphones
        self.remote = remote
        self._ports = iter(ports)
        self.caller_keys = dict(caller_keys)
        self.started: list[Sipp] = []

    def _sipp(self, **kw: object) -> Sipp:
        sipp = Sipp(workdir=self.workdir, **kw)  # type: ignore[arg-type]
        self.started.append(sipp)
        return sipp

    def _caller(
        self, ip: str, number: str, dialled: str, scenario: str, keys: dict[str, object]
    ) -> Sipp:
        return self._sipp(
            scenario=scenario, ip=ip, port=next(self._ports), remote=self.remote,
            service=dialled, keys={"from": number, **self.caller_keys, **keys},
        )  # fmt: skip

    def external_caller(
        self, number: str, dialled: str, scenario: str = "uac_call.xml", **keys: object
    ) -> Sipp:
        """Someone outside calling in through the PSTN trunk."""
        return self._caller(self.pstn, number, dialled, scenario, keys)

    def handset_caller(
        self, mobile: str, dialled: str, scenario: str = "uac_call.xml", **keys: object
    ) -> Sipp:
        """A user's own handset calling out through the mobile core."""
        return self._caller(self.mobile_core, mobile, dialled, scenario, keys)

    def softphone_caller(self, endpoint: str, password: str, dialled: str, **keys: object) -> Sipp:
        return self._sipp(
            scenario="uac_call_auth.xml", ip=self.softphones, port=next(self._ports),
            remote=self.remote, service=dialled, auth=(endpoint, password),
            keys={"from": endpoint, "hold": "1000", **keys},
        )  # fmt: skip

    def softphone_registration(self, endpoint: str, password: str, contact_port: int) -> Sipp:
        """Registers from the port the softphone then answers on: Asterisk rewrites the
        contact to the REGISTER's source (rewrite_contact, as for softphones behind NAT)."""
        return self._sipp(
            scenario="uac_register.xml", ip=self.softphones, port=contact_port,
            remote=self.remote, auth=(endpoint, password),
            keys={"from": endpoint, "contact_port": str(contact_port)},
        )  # fmt: skip

    async def softphone_registers(self, endpoint: str, password: str, contact_port: int) -> bool:
        """One REGISTER (with its digest round) from ``contact_port``: accepted?"""
        return bool((await self.softphone_registration(endpoint, password, contact_port).run()).ok)

    async def softphone_registered(
        self,
        endpoint: str,
        password: str,
        contact_port: int,
        *,
        timeout: float = 10.0,
        interval: float = 0.3,
    ) -> None:
        """Register, retried until Asterisk has the endpoint (the app pushes it)."""
        await eventually(
            lambda: self.softphone_registers(endpoint, password, contact_port), timeout, interval
        )

    def softphone(
        self, contact_port: int, scenario: str = "uas_answer.xml", ring_ms: int = 300, **kw: object
    ) -> Sipp:
        return self._sipp(
            scenario=scenario, ip=self.softphones, port=contact_port, keys={"ring": str(ring_ms)},
            **kw,
        )  # fmt: skip

    def handset(self, scenario: str = "uas_answer.xml", ring_ms: int = 300, **kw: object) -> Sipp:
        """Every handset, as the mobile core delivers calls to it (its address, port 5060)."""
        return self._sipp(
            scenario=scenario, ip=self.mobile_core, port=5060, keys={"ring": str(ring_ms)}, **kw
        )

    def pstn_far_end(
        self, scenario: str = "uas_answer.xml", ring_ms: int = 300, **kw: object
    ) -> Sipp:
        """Whoever answers calls sent out through the PSTN trunk (its address, port 5060)."""
        return self._sipp(
            scenario=scenario, ip=self.pstn, port=5060, keys={"ring": str(ring_ms)}, **kw
        )

    def kill_all(self) -> None:
        for sipp in self.started:
            sipp.kill()
