#!/usr/bin/env bash
# Fuzzes the whole HTTP API from Relay's own OpenAPI document (/api/v1/openapi.json) with
# schemathesis, against a running Relay on SQLite and on a fresh PostgreSQL database at the same
# time. Each engine is fuzzed once per API key scope (the operations another scope may not use
# answer 403, which is documented too). Fails on any 5xx or any answer the document does not describe.
#
#   scripts/fuzz-api.sh            both engines (PostgreSQL at TEST_DATABASE_URL's server)
#   FUZZ_ENGINES=sqlite scripts/fuzz-api.sh
#   FUZZ_MAX_EXAMPLES=50 scripts/fuzz-api.sh   (default 15: a few minutes on a loaded CI machine)
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv-ci
MAX_EXAMPLES="${FUZZ_MAX_EXAMPLES:-15}"
ENGINES="${FUZZ_ENGINES:-sqlite postgres}"
PG_SERVER="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
# The checks: no 5xx (not_a_server_error); every status, content type, header and body as the
# document says (the four *_conformance checks); and data the document calls invalid is refused
# (negative_data_rejection). Left out: positive_data_acceptance, because intake's rules go beyond
# what JSON Schema can say (NHS number check digits, UK postcodes, which outcome may name a team),
# so schema-valid referrals are rightly refused; unsupported_method, because an undeclared method
# is answered 404 (or 400 for a body-carrying one) rather than 405, which is not a fault worth a red
# build. ignored_auth is in: every operation that needs a key or a session refuses a request
# without one (the mail catcher's API included). FUZZ_CHECKS=all runs them all.
CHECKS="${FUZZ_CHECKS:-not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance,negative_data_rejection,ignored_auth}"

if [ ! -x "$VENV/bin/schemathesis" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check schemathesis
fi

work="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() {
  node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

# CREATE/DROP DATABASE beside TEST_DATABASE_URL's, through node's pg (psql may not be installed).
pg_admin() {
  PG_SERVER="$PG_SERVER" node -e "
    const pg = require('pg');
    const c = new pg.Client({ connectionString: process.env.PG_SERVER });
    c.connect().then(() => c.query(process.argv[1])).then(() => c.end(), (e) => { console.error(e.message); process.exit(1); });
  " "$1"
}

# fuzz_engine NAME DATABASE_URL: one Relay, three keys, three schemathesis runs; exit status 0 if clean.
fuzz_engine() {
  local name="$1" url="$2" port log
  port="$(free_port)"
  log="$work/$name.relay.log"
  local env=(DATABASE_URL="$url" RELAY_ENV=development HOST=127.0.0.1 PORT="$port"
    BASE_URL="http://127.0.0.1:$port" MAILCATCHER=on MAILCATCHER_PORT=0 SAFEGUARDING_EMAIL=safeguarding@example.org LOG_LEVEL=warn TEST_ALERT_INTERVAL=off)
  env "${env[@]}" node bin/relay.js directory import --demo >/dev/null
  local keys=()
  keys+=("$(env "${env[@]}" node bin/relay.js apikey create --name fuzz-epcr --scope referrals:write --system fuzz-epcr)")
  keys+=("$(env "${env[@]}" node bin/relay.js apikey create --name fuzz-team --scope acknowledgements:write --team birmingham-adults)")
  keys+=("$(env "${env[@]}" node bin/relay.js apikey create --name fuzz-escalations --scope escalations:write)")
  env "${env[@]}" node bin/relay.js start >"$log" 2>&1 &
  local relay_pid=$!
  # This function runs in a background subshell: its own trap stops its Relay if it is cut short.
  trap 'kill "$relay_pid" 2>/dev/null || true' EXIT
  local up=0
  for _ in $(seq 1 120); do
    if node -e "fetch('http://127.0.0.1:$port/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"; then
      up=1 && break
    fi
    sleep 1
  done
  if [ "$up" != 1 ]; then
    echo "Relay did not come up on $name:" && tail -n 50 "$log"
    return 1
  fi
  local status=0 i=0
  for key in "${keys[@]}"; do
    i=$((i + 1))
    "$VENV/bin/schemathesis" run "http://127.0.0.1:$port/api/v1/openapi.json" \
      --header "Authorization: Bearer $key" \
      --checks "$CHECKS" --max-examples "$MAX_EXAMPLES" --seed 14 --workers 2 --no-color \
      --generation-database none \
      --request-timeout 30 >"$work/$name.$i.txt" 2>&1 || status=1
  done
  kill "$relay_pid" 2>/dev/null || true
  wait "$relay_pid" 2>/dev/null || true
  for f in "$work/$name".*.txt; do
    echo "---- $name: $(basename "$f")"
    cat "$f"
  done
  if [ "$status" != 0 ]; then
    echo "---- $name: relay log (last 50 lines)"
    tail -n 50 "$log"
  fi
  return "$status"
}

results=()
for engine in $ENGINES; do
  case "$engine" in
  sqlite) fuzz_engine sqlite "sqlite:$work/relay.db" >"$work/sqlite.out" 2>&1 & ;;
  postgres)
    db="relay_fuzz_$$"
    pg_admin "CREATE DATABASE $db"
    trap 'pg_admin "DROP DATABASE IF EXISTS '"$db"' WITH (FORCE)" || true; cleanup' EXIT
    fuzz_engine postgres "${PG_SERVER%/*}/$db" >"$work/postgres.out" 2>&1 &
    ;;
  *) echo "unknown engine $engine" >&2 && exit 2 ;;
  esac
  pids+=($!)
  results+=("$engine:$!")
done

failed=0
for entry in "${results[@]}"; do
  engine="${entry%%:*}"
  if wait "${entry#*:}"; then echo "== fuzz $engine: clean"; else echo "== fuzz $engine: FAILED" && failed=1; fi
  cat "$work/$engine.out"
done
exit "$failed"
