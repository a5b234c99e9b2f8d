"""scripts/bootstrap.sh's PostgreSQL step: which case it picks and what it does.

The functions are sourced into a real bash. The case this machine is in (a server answers
on 127.0.0.1:5432) runs for real. The install and start paths cannot run for real here (the
machine's PostgreSQL cannot be removed): they run with stand-in commands on PATH that
record their calls and keep a cluster's state in files.
"""

from __future__ import annotations

import shutil
import socket
import stat
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "bootstrap.sh"


def _bash(body: str, *, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", f'source "{SCRIPT}"\n{body}'],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def _answers(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_script_is_valid_bash_and_sourcing_runs_nothing() -> None:
    assert subprocess.run(["bash", "-n", str(SCRIPT)]).returncode == 0
    out = _bash("echo sourced")
    assert out.returncode == 0 and out.stdout == "sourced\n", out.stderr


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck not installed")
def test_shellcheck_clean() -> None:
    out = subprocess.run(["shellcheck", str(SCRIPT)], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout


def test_a_running_server_is_used_untouched() -> None:
    """Real path on this machine: nothing is installed, started or configured."""
    if not _answers(5432):
        pytest.skip("nothing answers on 127.0.0.1:5432 here")
    out = _bash("pg_plan; ensure_postgres")
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [
        "use-running",
        "bootstrap: PostgreSQL answers on 127.0.0.1:5432: using it as it is",
    ]


def test_plan_with_a_real_closed_port() -> None:
    port = _free_port()  # nothing listens there
    # the machine's own clusters (if any) -> start one; none -> install
    out = _bash(f"PG_PORT={port}; pg_plan; pg_clusters() {{ :; }}; pg_plan")
    assert out.returncode == 0, out.stderr
    has_clusters = shutil.which("pg_lsclusters") is not None and bool(
        subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True).stdout.strip()
    )
    assert out.stdout.split() == [("start-cluster" if has_clusters else "install"), "install"]


def test_pick_cluster_prefers_port_5432() -> None:
    clusters = (
        "13 old 5433 down postgres /var/lib/postgresql/13/old log\n"
        "15 main 5432 down postgres /var/lib/postgresql/15/main log\n"
    )
    out = _bash(f"pg_clusters() {{ printf '{clusters}'; }}; pg_pick_cluster")
    assert out.stdout == "15 main\n"
    out = _bash("pg_clusters() { echo '16 other 5440 down x y z'; }; pg_pick_cluster")
    assert out.stdout == "16 other\n"
    out = _bash("pg_clusters() { :; }; pg_pick_cluster")
    assert out.stdout == ""


DEBIAN_HBA = """\
# Database administrative login by Unix domain socket
local   all             postgres                                peer
local   all             all                                     peer
host    all             all             127.0.0.1/32            scram-sha-256
host    all             all             ::1/128                 scram-sha-256
"""


def test_trust_rules_go_first_once_and_keep_the_file(tmp_path: Path) -> None:
    hba = tmp_path / "pg_hba.conf"
    hba.write_text(DEBIAN_HBA)
    hba.chmod(0o640)
    for _ in range(2):  # idempotent
        out = _bash(f'pg_trust_postgres "{hba}"')
        assert out.returncode == 0, out.stderr
    lines = hba.read_text().splitlines()
    assert lines[0].startswith("# vipcall bootstrap")
    assert [line.split() for line in lines[1:3]] == [
        ["host", "all", "postgres", "127.0.0.1/32", "trust"],
        ["host", "all", "postgres", "::1/128", "trust"],
    ]
    assert "\n".join(lines[3:]) + "\n" == DEBIAN_HBA
    assert stat.S_IMODE(hba.stat().st_mode) == 0o640


# Stand-ins for apt-get and postgresql-common's tools. State: <state>/cluster (exists),
# <state>/running. apt-get "installs" postgresql and, like Debian's postinst, creates the
# main cluster unless <state>/no-auto-cluster exists.
FAKES = {
    "apt-get": """
echo "apt-get $*" >> "$STATE/calls"
case "$*" in *install*postgresql*) [ -f "$STATE/no-auto-cluster" ] || touch "$STATE/cluster";; esac
""",
    "pg_lsclusters": """
[ -f "$STATE/cluster" ] || exit 0
if [ -f "$STATE/running" ]; then s=online; else s=down; fi
echo "15 main 5432 $s postgres /var/lib/postgresql/15/main /var/log/postgresql/x.log"
""",
    "pg_createcluster": """
echo "pg_createcluster $*" >> "$STATE/calls"
touch "$STATE/cluster"
""",
    "pg_ctlcluster": """
echo "pg_ctlcluster $*" >> "$STATE/calls"
case "$*" in
  *status*) [ -f "$STATE/running" ] || exit 3;;
  *start*) touch "$STATE/running";;
esac
""",
}


def _fake_machine(tmp_path: Path, *, cluster: bool, running: bool, auto_cluster: bool = True):
    bin_dir, state, etc, lib = (tmp_path / d for d in ("bin", "state", "etc", "lib"))
    for d in (bin_dir, state, etc / "15" / "main", lib / "15"):
        d.mkdir(parents=True)
    for name, body in FAKES.items():
        path = bin_dir / name
        path.write_text("#!/bin/bash\n" + body)
        path.chmod(0o755)
    (etc / "15" / "main" / "pg_hba.conf").write_text(DEBIAN_HBA)
    if cluster:
        (state / "cluster").touch()
    if running:
        (state / "running").touch()
    if not auto_cluster:
        (state / "no-auto-cluster").touch()
    env = {
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "STATE": str(state),
        "VIPCALL_PG_MARKER": str(tmp_path / "marker"),
    }
    # the "server answers" probe reads the fake cluster's state
    prelude = (
        f'PG_ETC="{etc}"; PG_LIB="{lib}"; '
        'pg_answers() { [ -f "$STATE/running" ]; }; sleep() { :; }\n'
    )
    return env, prelude, state, etc / "15" / "main" / "pg_hba.conf"


@pytest.mark.parametrize("auto_cluster", [True, False])
def test_install_path(tmp_path: Path, auto_cluster: bool) -> None:
    env, prelude, state, hba = _fake_machine(
        tmp_path, cluster=False, running=False, auto_cluster=auto_cluster
    )
    out = _bash(prelude + "pg_plan; ensure_postgres", env=env)
    assert out.returncode == 0, out.stderr + out.stdout
    assert out.stdout.splitlines()[0] == "install"
    calls = (state / "calls").read_text().splitlines()
    assert "apt-get install -y -q --no-install-recommends postgresql" in calls
    if not auto_cluster:
        assert "pg_createcluster 15 main --port 5432" in calls
    assert calls[-2:] == [
        "pg_ctlcluster 15 main status",
        "pg_ctlcluster --skip-systemctl-redirect 15 main start",
    ]
    assert hba.read_text().splitlines()[1].split() == [
        "host",
        "all",
        "postgres",
        "127.0.0.1/32",
        "trust",
    ]
    # a second run finds it running and changes nothing
    again = _bash(prelude + "ensure_postgres", env=env)
    assert again.stdout.strip().endswith("using it as it is")
    assert (state / "calls").read_text().splitlines() == calls


def test_a_stopped_cluster_of_the_machine_is_started_but_not_reconfigured(tmp_path: Path) -> None:
    env, prelude, state, hba = _fake_machine(tmp_path, cluster=True, running=False)
    out = _bash(prelude + "pg_plan; ensure_postgres", env=env)
    assert out.returncode == 0, out.stderr + out.stdout
    assert out.stdout.splitlines()[0] == "start-cluster"
    calls = (state / "calls").read_text().splitlines()
    assert calls == [
        "pg_ctlcluster 15 main status",
        "pg_ctlcluster --skip-systemctl-redirect 15 main start",
    ]
    assert hba.read_text() == DEBIAN_HBA  # not ours to change


def test_interrupted_install_is_finished_on_the_next_run(tmp_path: Path) -> None:
    # the package got installed (cluster created) but the run stopped before configuring it
    env, prelude, state, hba = _fake_machine(tmp_path, cluster=True, running=False)
    (tmp_path / "marker").touch()
    out = _bash(prelude + "ensure_postgres", env=env)
    assert out.returncode == 0, out.stderr + out.stdout
    assert "trust" in hba.read_text().splitlines()[1]
    assert (state / "running").exists()


def test_a_cluster_that_never_answers_is_a_clear_error(tmp_path: Path) -> None:
    env, prelude, state, _ = _fake_machine(tmp_path, cluster=True, running=False)
    out = _bash(prelude + "pg_answers() { false; }; ensure_postgres", env=env)
    assert out.returncode == 1
    assert "does not answer on 127.0.0.1:5432" in out.stderr
    assert "set VIPCALL_DATABASE_URL" in out.stderr
