"""``vipcall`` admin CLI.

    vipcall [--database-url URL] db upgrade [--revision R] | db downgrade REVISION
    vipcall org create --name NAME --domain DOMAIN [--switchboard N] [--customer-service N]
                       [--language fi|en]
    vipcall org list
    vipcall org set-red DOMAIN 2,3,4,5,6                   ('' or none = no red activities)
    vipcall user create --org DOMAIN --name NAME --mobile N [--landline N] [--email E]
                        [--admin] [--password P]
    vipcall user list [--org DOMAIN]
    vipcall user import --org DOMAIN FILE.csv
    vipcall demo
    vipcall softphone add --user USER [--label L]
    vipcall softphone list [--user USER]
    vipcall activity set USER N
    vipcall activity schedule USER N --start ISO --end ISO   (naive = Europe/Helsinki time)
    vipcall activity list USER [--all]
    vipcall activity unschedule ID
    vipcall activity show USER [--at ISO]                  (activity, role and forwardings)
    vipcall role set USER N
    vipcall role show USER
    vipcall forward set USER [TARGET] [--activity N]      (no TARGET = clear)
    vipcall forward clear USER [--activity N]
    vipcall forward show USER
    vipcall service-number create --org DOMAIN --number N --kind KIND --name NAME [--strategy S]
                        [--ring-seconds S] [--max-wait S] [--overflow KIND] [--overflow-target T]
                        [--announce-position]
    vipcall service-number list [--org DOMAIN] | show SERVICE
    vipcall service-number add-member|remove-member|login|logout SERVICE USER
    vipcall serve ...      -> vipcall.service.main.main(argv)
    vipcall sandbox ...    -> vipcall.sandbox.__main__.main(argv)

One module per noun (``org``, ``user``, ``softphone``, ``activity``, ``role``, ``forward``,
``db``, ``demo``, ``passthrough`` for serve/sandbox); each keeps a command's options beside
its handler, and adds them to the parser in :func:`register`. Shared pieces are in
:mod:`vipcall.cli.common`, the parser and :func:`main` in :mod:`vipcall.cli.app`. Rules are
not here but in the service layer :mod:`vipcall.directory` (finding a user, the presence
view, local time, red-activity lists), so the web API can use them too.

USER is a username (``fi0401234567@taipalsaari.fi``), a user id or one of the user's numbers.
Times are shown in Europe/Helsinki local time.
Expected errors print ONE line ``vipcall: error: ...`` on stderr and exit 1 (usage errors 2).
"""

from vipcall.cli.app import build_parser, main
from vipcall.cli.common import PROG, CliError, format_table, parse_timestamp
from vipcall.cli.org import parse_activity_list

__all__ = [
    "PROG",
    "CliError",
    "build_parser",
    "format_table",
    "main",
    "parse_activity_list",
    "parse_timestamp",
]
