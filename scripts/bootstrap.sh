#!/usr/bin/env bash
# Installs what vipcall needs on a fresh Debian 12 machine (as root): the SIP test peer,
# the prompt tools, debootstrap for the Asterisk sandbox, PostgreSQL if there is none, and
# the Python venv. Idempotent: a second run only checks.
#
# PostgreSQL, in this order:
#   1. something answers on 127.0.0.1:5432        -> use it, untouched;
#   2. a cluster exists (pg_lsclusters) but is down -> start it (nothing else changed);
#   3. neither                                     -> apt-get install postgresql, make sure
#      a cluster exists and runs, and let user postgres connect over TCP from localhost
#      without a password (trust), which is what the default VIPCALL_DATABASE_URL
#      postgresql+asyncpg://postgres@127.0.0.1:5432/vipcall needs.
# There is no systemd here, so clusters are started with
# `pg_ctlcluster --skip-systemctl-redirect`.
#
# The functions can be sourced and called one by one (tests/unit/test_bootstrap.py);
# running the script runs main.
set -euo pipefail

PG_HOST=127.0.0.1
PG_PORT=5432
# Left by case 3 so a run interrupted after the install still configures the cluster.
PG_MARKER=${VIPCALL_PG_MARKER:-/var/lib/vipcall/postgresql-installed-by-bootstrap}
PG_HBA_TAG="# vipcall bootstrap"
PG_ETC=/etc/postgresql
PG_LIB=/usr/lib/postgresql

apt_install() {
  echo "bootstrap: installing $*"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@"
}

# Does anything accept TCP connections on 127.0.0.1:5432? (no client tools needed)
pg_answers() {
  (exec 3<>"/dev/tcp/$PG_HOST/$PG_PORT") 2>/dev/null
}

# The machine's clusters, one per line: "version name port status ..." (none: no output).
pg_clusters() {
  if command -v pg_lsclusters >/dev/null; then
    pg_lsclusters -h 2>/dev/null || true
  fi
}

# What to do: use-running | start-cluster | install.
pg_plan() {
  if pg_answers; then
    echo use-running
  elif [ -n "$(pg_clusters)" ]; then
    echo start-cluster
  else
    echo install
  fi
}

# The cluster to use: the one on port 5432, else the first. Prints "version name".
pg_pick_cluster() {
  pg_clusters | awk -v port="$PG_PORT" '
    $3 == port && !picked { print $1, $2; picked = 1 }
    NR == 1 { first = $1 " " $2 }
    END { if (!picked && first != "") print first }'
}

# Let user postgres connect over TCP from localhost without a password. Prepends the rules
# (pg_hba.conf is first-match) once; the rest of the file is kept as it is.
pg_trust_postgres() {
  local hba=$1
  if grep -qF "$PG_HBA_TAG" "$hba"; then
    return 0
  fi
  local tmp
  tmp=$(mktemp)
  {
    echo "$PG_HBA_TAG: the default VIPCALL_DATABASE_URL connects as postgres without a password"
    printf 'host\tall\tpostgres\t127.0.0.1/32\ttrust\n'
    printf 'host\tall\tpostgres\t::1/128\ttrust\n'
    cat "$hba"
  } >"$tmp"
  cat "$tmp" >"$hba" # in place: keeps the file's owner and mode
  rm -f "$tmp"
}

ensure_postgres() {
  local plan
  plan=$(pg_plan)
  case $plan in
    use-running)
      echo "bootstrap: PostgreSQL answers on $PG_HOST:$PG_PORT: using it as it is"
      return 0
      ;;
    install)
      echo "bootstrap: no PostgreSQL on $PG_HOST:$PG_PORT and no cluster: installing Debian's postgresql"
      mkdir -p "$(dirname "$PG_MARKER")"
      touch "$PG_MARKER"
      apt_install postgresql
      ;;
  esac

  local cluster version name
  cluster=$(pg_pick_cluster)
  if [ -z "$cluster" ]; then # the package normally creates one; make sure
    version=$(find "$PG_LIB" -mindepth 1 -maxdepth 1 -printf '%f\n' | sort -V | tail -1)
    echo "bootstrap: creating PostgreSQL cluster $version/main on port $PG_PORT"
    pg_createcluster "$version" main --port "$PG_PORT"
    cluster=$(pg_pick_cluster)
  fi
  read -r version name <<<"$cluster"

  if [ -f "$PG_MARKER" ]; then # a cluster this script installed: trust for user postgres
    pg_trust_postgres "$PG_ETC/$version/$name/pg_hba.conf"
  fi
  if pg_ctlcluster "$version" "$name" status >/dev/null 2>&1; then
    pg_ctlcluster --skip-systemctl-redirect "$version" "$name" reload
  else
    echo "bootstrap: starting PostgreSQL cluster $version/$name"
    pg_ctlcluster --skip-systemctl-redirect "$version" "$name" start
  fi
  local _
  for _ in $(seq 1 60); do
    pg_answers && return 0
    sleep 0.5
  done
  echo "bootstrap: PostgreSQL cluster $version/$name does not answer on $PG_HOST:$PG_PORT" \
    "(its port: $(pg_clusters | awk -v v="$version" -v n="$name" '$1 == v && $2 == n { print $3 }'));" \
    "set VIPCALL_DATABASE_URL" >&2
  return 1
}

main() {
  cd "$(dirname "$0")/.."

  local need=() pkg
  # chromium: the browser tests (Playwright drives it), chromium-l10n: its Finnish date and time
  # inputs (scripts/screenshots.py); ffmpeg: uploaded greetings in any format
  # kamailio: the SIP proxy of the two-node layout (dispatcher; its service stays off: RUN_KAMAILIO),
  # kamailio-postgres-modules: where it reads the softphones' passwords
  for pkg in sip-tester espeak-ng sox debootstrap kannel kannel-extras chromium chromium-l10n ffmpeg \
    kamailio kamailio-postgres-modules; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
  done
  if ((${#need[@]})); then
    apt_install "${need[@]}"
  fi

  ensure_postgres

  local py=${PYTHON:-python3}
  if [ ! -x .venv/bin/python ]; then
    "$py" -m venv .venv
  fi
  local stamp=.venv/.installed
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    .venv/bin/pip install -q --upgrade pip
    .venv/bin/pip install -q -e '.[test]'
    touch "$stamp"
  fi

  # The Asterisk 22 sandbox (Debian sid chroot), built once and reused.
  .venv/bin/python -m vipcall.sandbox build
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  main "$@"
fi
