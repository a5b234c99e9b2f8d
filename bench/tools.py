"""What the benchmark needs on the machine, checked before anything is started."""

from __future__ import annotations

import shutil

from harness import sandbox

# tool -> the Debian package that brings it (dumpcap comes with tshark: wireshark-common)
TOOLS = {"sipp": "sip-tester", "dumpcap": "tshark"}


def missing_tools(*, pcap: bool = True) -> str | None:
    """One line saying what is missing and how to install it, or ``None``."""
    wanted = [tool for tool in TOOLS if pcap or tool != "dumpcap"]
    absent = [tool for tool in wanted if shutil.which(tool) is None]
    if absent:
        packages = " ".join(dict.fromkeys(TOOLS[tool] for tool in absent))
        hint = " (or run without a capture: --no-pcap)" if absent == ["dumpcap"] else ""
        return (
            f"{', '.join(absent)} not found: install with `apt-get install {packages}` "
            f"or `scripts/bench-tools.sh` (what `make bench` runs){hint}"
        )
    return sandbox.missing()
