"""``python -m vipcall.sandbox build|render|start|stop|status|cli "cmd"``.

``vipcall sandbox ...`` (vipcall/cli.py) dispatches here through :func:`main`.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from pathlib import Path
from urllib.parse import urlparse

from vipcall.config import Settings, read_ari_password
from vipcall.sandbox.chroot import ChrootError, default_root, ensure_chroot
from vipcall.sandbox.instance import Instance, InstanceError


def _parser(settings: Settings) -> argparse.ArgumentParser:
    ari_port = urlparse(settings.ari_url).port or 8088
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--root",
        type=Path,
        default=default_root(),
        help="chroot directory (env VIPCALL_ASTERISK_ROOT; '/' = no chroot)",
    )
    common.add_argument("--name", default="vipcall", help="instance name (/srv/vipcall/<name>)")
    common.add_argument("--sip-port", type=int, default=5060)
    common.add_argument("--ari-port", type=int, default=ari_port)
    common.add_argument("--rtp-start", type=int, default=10000)
    common.add_argument("--rtp-end", type=int, default=20000)
    common.add_argument("--pstn-host", default="127.0.0.2")
    common.add_argument("--mobile-host", default="127.0.0.3")
    common.add_argument("--peer-port", type=int, default=5060)
    common.add_argument(
        "--state-dir",
        type=Path,
        default=settings.state_dir,
        help="where ari-password is written (settings.state_dir)",
    )
    common.add_argument("-v", "--verbose", action="store_true")

    parser = argparse.ArgumentParser(prog="vipcall sandbox", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("build", parents=[common], help="build the chroot if missing (needs root)")
    sub.add_parser("render", parents=[common], help="render the instance config only")
    start = sub.add_parser("start", parents=[common], help="render and start an instance")
    start.add_argument("--foreground", action="store_true", help="run until Ctrl-C")
    start.add_argument("--timeout", type=float, default=30.0)
    sub.add_parser("stop", parents=[common], help="stop an instance")
    sub.add_parser("status", parents=[common], help="is the instance running (exit 0) or not (3)")
    cli = sub.add_parser("cli", parents=[common], help="run an Asterisk CLI command")
    cli.add_argument("cli_command", metavar="CMD")
    return parser


def _instance(args: argparse.Namespace, settings: Settings) -> Instance:
    password = settings.ari_password or read_ari_password(args.state_dir)
    return Instance(
        name=args.name,
        root=args.root,
        sip_port=args.sip_port,
        ari_port=args.ari_port,
        rtp_start=args.rtp_start,
        rtp_end=args.rtp_end,
        ari_password=password,  # empty -> generated
        pstn_host=args.pstn_host,
        mobile_host=args.mobile_host,
        peer_port=args.peer_port,
        ari_user=settings.ari_user,
        ari_app=settings.ari_app,
        ring_timeout=settings.ring_timeout,
        pstn_trusted=settings.pstn_trusted,
    )


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    settings = Settings.from_env()
    args = _parser(settings).parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)
    try:
        if args.command == "build":
            ensure_chroot(args.root)
            print(f"chroot ready: {args.root}")
            return 0
        inst = _instance(args, settings)
        if args.command == "render":
            print(inst.render())
            print(f"ARI password written to {inst.write_password(args.state_dir)}")
            return 0
        if args.command == "start":
            ensure_chroot(args.root)
            inst.write_password(args.state_dir)
            inst.start(timeout=args.timeout)
            print(
                f"asterisk '{inst.name}' running: SIP 127.0.0.1:{inst.sip_port}, "
                f"ARI {inst.ari_url} (user {inst.ari_user}, password in "
                f"{Path(args.state_dir) / 'ari-password'}), log {inst.messages_log}"
            )
            if not args.foreground:
                return 0
            # docker stop / systemd send SIGTERM: stop Asterisk gracefully as on Ctrl-C.
            signal.signal(signal.SIGTERM, _raise_interrupt)
            try:
                return inst.wait()
            except KeyboardInterrupt:
                print("stopping ...", file=sys.stderr)
                inst.stop()
                return 0
        if args.command == "stop":
            was = inst.is_running()
            inst.stop()
            print(f"asterisk '{inst.name}' {'stopped' if was else 'was not running'}")
            return 0
        if args.command == "status":
            running = inst.is_running()
            print(f"asterisk '{inst.name}' {'running' if running else 'not running'}")
            return 0 if running else 3
        if args.command == "cli":
            sys.stdout.write(inst.cli(args.cli_command))
            return 0
    except (ChrootError, InstanceError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 2


if __name__ == "__main__":
    sys.exit(main())
