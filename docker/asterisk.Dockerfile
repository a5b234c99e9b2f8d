# Asterisk 22 (Debian sid package) with config rendered from the SAME templates as the
# chroot sandbox (asterisk-conf/ + dialplan/), by the same code (vipcall.sandbox) with
# --root / (no chroot). Build context: the repository root (see compose.yaml).
FROM debian:sid-slim

ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get -o Acquire::Check-Valid-Until=false update \
 && apt-get install -y --no-install-recommends \
      asterisk asterisk-core-sounds-en-gsm asterisk-moh-opsound-gsm python3 \
 && apt-get clean && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/vipcall
# Only what rendering needs: the sandbox package imports vipcall.config (stdlib only).
COPY vipcall/__init__.py vipcall/config.py vipcall/
COPY vipcall/sandbox/ vipcall/sandbox/
COPY asterisk-conf/ asterisk-conf/
COPY dialplan/ dialplan/
COPY sounds/ sounds/

ENV PYTHONPATH=/opt/vipcall \
    VIPCALL_ASTERISK_ROOT=/ \
    VIPCALL_STATE_DIR=/var/lib/vipcall/state \
    VIPCALL_SIP_PORT=5060 \
    VIPCALL_ARI_PORT=8088

# Renders /srv/vipcall/docker/, writes the ARI password to $VIPCALL_STATE_DIR/ari-password
# (reused on restart), runs Asterisk in the foreground; SIGTERM stops it gracefully.
ENTRYPOINT ["/bin/sh", "-c", "exec python3 -m vipcall.sandbox start --foreground --root / --name docker --sip-port \"$VIPCALL_SIP_PORT\" --ari-port \"$VIPCALL_ARI_PORT\" --state-dir \"$VIPCALL_STATE_DIR\""]

HEALTHCHECK --interval=5s --timeout=5s --start-period=10s --retries=5 \
  CMD python3 -m vipcall.sandbox status --root / --name docker || exit 1
