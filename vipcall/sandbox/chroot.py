"""Build and prepare the Debian sid chroot that holds Asterisk 22.

The chroot is built once into ``<root>.tmp`` and renamed to ``<root>`` only when complete,
so a half-built tree is never reused. A lock file next to it serialises concurrent builders.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger(__name__)

DEFAULT_ROOT = Path("/var/lib/vipcall/asterisk-sid")
MIRROR = "http://deb.debian.org/debian"
SUITE = "sid"
PACKAGES = ("asterisk", "asterisk-core-sounds-en-gsm", "asterisk-moh-opsound-gsm")
# The mirror serves a frozen snapshot whose Release file has expired.
APT_OPTS = ("-o", "Acquire::Check-Valid-Until=false", "-o", "Acquire::Retries=3")
HOST_FILES = ("/etc/hosts", "/etc/resolv.conf")


class ChrootError(RuntimeError):
    """The chroot could not be built or prepared."""


def default_root() -> Path:
    """``VIPCALL_ASTERISK_ROOT`` or ``/var/lib/vipcall/asterisk-sid`` (docs/design.md)."""
    return Path(os.environ.get("VIPCALL_ASTERISK_ROOT", str(DEFAULT_ROOT)))


def is_host_root(root: Path) -> bool:
    """``/`` means "no chroot" (used inside the Docker image)."""
    return root.resolve() == Path("/")


def chroot_argv(root: Path, *argv: str) -> list[str]:
    return list(argv) if is_host_root(root) else ["chroot", str(root), *argv]


def asterisk_works(root: Path) -> bool:
    if not is_host_root(root) and not (root / "usr/sbin/asterisk").exists():
        return False
    try:
        res = subprocess.run(
            chroot_argv(root, "asterisk", "-V"), capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return res.returncode == 0 and res.stdout.startswith("Asterisk")


def _run(argv: Sequence[str], *, env: dict[str, str] | None = None) -> None:
    log.info("running: %s", " ".join(argv))
    res = subprocess.run(list(argv), env=env)
    if res.returncode != 0:
        raise ChrootError(f"command failed ({res.returncode}): {' '.join(argv)}")


@contextmanager
def _lock(root: Path) -> Iterator[None]:
    root.parent.mkdir(parents=True, exist_ok=True)
    with open(root.parent / f".{root.name}.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _mounts_under(path: Path) -> list[str]:
    prefix = str(path.resolve())
    found: list[str] = []
    with open("/proc/mounts") as fh:
        for line in fh:
            target = line.split()[1].replace("\\040", " ")
            if target == prefix or target.startswith(prefix + "/"):
                found.append(target)
    return found


def is_mounted(path: Path) -> bool:
    return str(path.resolve()) in _mounts_under(path)


def mount_proc(root: Path) -> None:
    """Mount proc at ``root/proc`` unless already mounted."""
    if is_host_root(root):
        return
    proc = root / "proc"
    proc.mkdir(exist_ok=True)
    if not is_mounted(proc):
        _run(["mount", "-t", "proc", "proc", str(proc)])


def unmount_all(root: Path) -> None:
    for target in sorted(_mounts_under(root), key=len, reverse=True):
        subprocess.run(["umount", "-l", target], check=False)


def copy_host_files(root: Path) -> None:
    """Host name resolution inside the chroot (without it every call resolved via DNS)."""
    if is_host_root(root):
        return
    for name in HOST_FILES:
        src = Path(name)
        if src.exists():
            dest = root / name.lstrip("/")
            dest.parent.mkdir(parents=True, exist_ok=True)
            if dest.is_symlink():
                dest.unlink()
            shutil.copyfile(src, dest)


def prepare_chroot(root: Path) -> None:
    """Everything a start needs: host files copied in, proc mounted. Idempotent."""
    if not asterisk_works(root):
        raise ChrootError(f"no working asterisk in {root}; run `python -m vipcall.sandbox build`")
    copy_host_files(root)
    mount_proc(root)


def _ensure_debootstrap() -> None:
    if shutil.which("debootstrap"):
        return
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    _run(["apt-get", *APT_OPTS, "update"], env=env)
    _run(["apt-get", "install", "-y", "--no-install-recommends", "debootstrap"], env=env)


def ensure_chroot(root: Path = DEFAULT_ROOT, *, mirror: str = MIRROR) -> None:
    """Build the chroot unless ``root`` already holds a working ``asterisk``."""
    if asterisk_works(root):
        return
    if is_host_root(root):
        raise ChrootError("asterisk is not installed on this host")
    if os.geteuid() != 0:
        raise ChrootError("building the chroot needs root")
    with _lock(root):
        if asterisk_works(root):  # built by someone else while we waited
            return
        _ensure_debootstrap()
        tmp = root.with_name(root.name + ".tmp")
        if tmp.exists():
            unmount_all(tmp)
            shutil.rmtree(tmp)
        _run(["debootstrap", "--variant=minbase", SUITE, str(tmp), mirror])
        copy_host_files(tmp)
        # Never start services from maintainer scripts inside the chroot.
        policy = tmp / "usr/sbin/policy-rc.d"
        policy.write_text("#!/bin/sh\nexit 101\n")
        policy.chmod(0o755)
        env = {
            "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
            "DEBIAN_FRONTEND": "noninteractive",
            "LANG": "C.UTF-8",
        }
        _run(["chroot", str(tmp), "apt-get", *APT_OPTS, "update"], env=env)
        _run(
            [
                "chroot",
                str(tmp),
                "apt-get",
                *APT_OPTS,
                "install",
                "-y",
                "--no-install-recommends",
                *PACKAGES,
            ],
            env=env,
        )
        _run(["chroot", str(tmp), "apt-get", "clean"], env=env)
        unmount_all(tmp)
        if not asterisk_works(tmp):
            raise ChrootError(f"asterisk -V fails in freshly built {tmp}")
        if root.exists():  # a broken leftover: never reuse it
            unmount_all(root)
            shutil.rmtree(root)
        os.rename(tmp, root)
        log.info("chroot ready at %s", root)
