"""Database layer: models (:mod:`vipcall.db.models`), engine/session helpers
(:mod:`vipcall.db.engine`) and migrations (:mod:`vipcall.db.migrate`)."""

from vipcall.db.engine import create_engine, session_factory, transaction
from vipcall.db.models import Base

__all__ = ["Base", "create_engine", "session_factory", "transaction"]
