#!/usr/bin/env bash
# Installs what the benchmark (`make bench`, python -m bench.run) needs beyond
# scripts/bootstrap.sh: tshark (its dumpcap captures the calls' packets) and sip-tester
# (SIPp); py-spy in the venv for the app profile (optional: the run goes on without it).
# Debian 12, as root; idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
for pkg in sip-tester tshark; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
if ((${#need[@]})); then
  echo "bench-tools: installing ${need[*]}"
  apt-get update -q
  # tshark asks whether non-root users may capture: the default (no) is what we want
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}"
fi

if [ -x .venv/bin/pip ] && [ ! -x .venv/bin/py-spy ]; then
  .venv/bin/pip install -q py-spy || echo "bench-tools: py-spy not installed: no app profile" >&2
fi
