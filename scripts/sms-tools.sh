#!/usr/bin/env bash
# Installs the real SMS gateway the notice tests send through: Debian's Kannel (bearerbox,
# smsbox) and kannel-extras (its test programs, among them the fake SMSC `fakesmsc`).
# Debian 12, as root; idempotent: a second run only checks. The packaged kannel service is
# not needed (the tests start their own boxes on their own loopback ports): it is stopped.
set -euo pipefail

need=()
for pkg in kannel kannel-extras; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
if ((${#need[@]})); then
  echo "sms-tools: installing ${need[*]}"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}"
  # The package's own bearerbox/smsbox (port 13000 and up) are not ours: stop them if started.
  if [ -x /etc/init.d/kannel ]; then
    /etc/init.d/kannel stop >/dev/null 2>&1 || true
  fi
fi
# fakesmsc is not on PATH: print where it is for whoever asks.
dpkg -L kannel-extras | grep -E '/fakesmsc$' | head -1
