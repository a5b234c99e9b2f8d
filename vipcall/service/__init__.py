"""The Stasis application process (``vipcall serve``): wiring (:mod:`.main`), ARI events
to per-call tasks (:mod:`.stasis`), the dispatch table (:mod:`.dispatch`), metrics and
health over HTTP (:mod:`.http`), logging (:mod:`.logs`) and what it keeps pushed into
Asterisk (:mod:`.provisioning`)."""
