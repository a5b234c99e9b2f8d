"""``vipcall serve ...``, ``vipcall web ...`` and ``vipcall sandbox ...``: handed, with the
rest of the command line, to another module's ``main(argv)`` before the admin parser sees
them."""

from __future__ import annotations

import importlib
import os

from vipcall.cli.common import CliError, Commands

PASSTHROUGH = {
    "serve": ("vipcall.service.main", "main"),
    "sandbox": ("vipcall.sandbox.__main__", "main"),
    "web": ("vipcall.web.main", "main"),
}


def register(commands: Commands) -> None:
    """Listed in ``vipcall --help``; never parsed here (see :func:`split`)."""
    commands.add_parser("serve", help="run the ARI application (vipcall.service)", add_help=False)
    commands.add_parser("sandbox", help="manage the Asterisk sandbox", add_help=False)
    commands.add_parser("web", help="run the home page and REST API (vipcall.web)", add_help=False)


def split(argv: list[str]) -> tuple[str, list[str], str | None] | None:
    """If the command is ``serve``/``sandbox``: (command, its argv, --database-url or None)."""
    i = 0
    url: str | None = None
    while i < len(argv):
        arg = argv[i]
        if arg == "--database-url" and i + 1 < len(argv):
            url = argv[i + 1]
            i += 2
        elif arg.startswith("--database-url="):
            url = arg.split("=", 1)[1]
            i += 1
        elif arg.startswith("-"):
            return None
        else:
            return (arg, argv[i + 1 :], url) if arg in PASSTHROUGH else None
    return None


def run(command: str, argv: list[str], url: str | None) -> int:
    module_name, attr = PASSTHROUGH[command]
    if url:
        os.environ["VIPCALL_DATABASE_URL"] = url
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            raise CliError(f"'{command}' is not available ({module_name} is missing)") from None
        raise
    result = getattr(module, attr)(argv)
    return int(result or 0)
