"""``vipcall web``: serve the home page and REST API (uvicorn), apart from the call app."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence

import uvicorn

from vipcall.config import Settings
from vipcall.web.app import create_app


def main(argv: Sequence[str] | None = None) -> int:
    settings = Settings.from_env()
    parser = argparse.ArgumentParser(prog="vipcall web", description=__doc__)
    parser.add_argument("--host", default=settings.web_host)
    parser.add_argument("--port", type=int, default=settings.web_port)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    app = create_app(settings)
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level=settings.log_level.lower(),
        proxy_headers=True,
        access_log=False,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
