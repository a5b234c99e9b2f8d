"""Service numbers (switchboard, customer service, group): callers wait in a queue kept in
PostgreSQL and are offered to the logged-in members (:mod:`.rules` pure, :mod:`.flow` the
ARI side)."""
