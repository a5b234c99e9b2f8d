"""Prometheus metrics: what operations people graph and alert on."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

CALLS = Counter("vipcall_calls_total", "Calls handled by the Stasis app, by outcome", ["outcome"])
DECISION_SECONDS = Histogram(
    "vipcall_decision_seconds",
    "Time from StasisStart to a routing decision (state lookup included)",
    buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0),
)
FAIL_OPEN = Counter(
    "vipcall_fail_open_total",
    "Calls sent to the fail-open dialplan because state was unavailable",
    ["reason"],
)
MESSAGES = Counter("vipcall_voicemail_messages_total", "Voicemail messages stored")
UNSAVED = Counter(
    "vipcall_voicemail_unsaved_total",
    "Messages that could not be stored at once (kept on Asterisk until a recovery round)",
)
ACTIVE_CALLS = Gauge("vipcall_active_call_tasks", "Call tasks running in the app")
ARI_CONNECTED = Gauge("vipcall_ari_connected", "1 while the ARI websocket is connected")
RECONCILED = Counter(
    "vipcall_reconciled_channels_total", "Channels found in Stasis after a (re)connect", ["action"]
)
NOTICES = Counter(
    "vipcall_notices_total",
    "New-message notices tried, by channel (sms, email) and result (sent, retry, failed)",
    ["channel", "result"],
)
PROVISIONING_FAILURES = Counter(
    "vipcall_provisioning_failures_total",
    "Objects Asterisk refused during a provisioning round (pushed again next round), by kind",
    ["kind"],
)
MAILBOX_LOGIN_FAILURES = Counter(
    "vipcall_mailbox_login_failures_total",
    "Wrong mailbox number or PIN at the listening number (three in a row hang up)",
)
ROUTING_USERS = Gauge(
    "vipcall_routing_cache_users", "Users whose routing state the app holds in memory"
)
ROUTING_FRESH = Gauge(
    "vipcall_routing_cache_fresh", "1 while the routing state in memory is loaded and listened"
)
ROUTING_REREADS = Counter(
    "vipcall_routing_rereads",
    "Queries that re-read users, organisations or groups after a change was notified",
)
ROUTING_STALE_READS = Counter(
    "vipcall_routing_stale_reads",
    "Calls routed from the remembered state because the database did not answer",
)
DIRECT_ROUTES = Gauge(
    "vipcall_direct_routes",
    "Numbers whose calls Asterisk rings without asking the app (vipcall.service.direct)",
)
DIRECT_CALLS = Counter(
    "vipcall_direct_calls",
    "Calls that took a direct route, as their end-of-call reports say",
)
