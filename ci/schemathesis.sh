#!/usr/bin/env bash
# Fuzzes every surface with schemathesis against its own OpenAPI document (served by the
# simulator at /_signsim/openapi/<name>.json), then Uanataca against the vendor's document.
#
#   ci/schemathesis.sh [BINARY]     default target/debug/signsim (built by the caller)
#
# Env: SCHEMATHESIS_EXAMPLES (cases per operation, default 20), SCHEMATHESIS_ONLY (one
# surface name, e.g. "signal", or "vendor"). Exits non-zero when a check fails anywhere.
set -euo pipefail
cd "$(dirname "$0")/.."

binary=${1:-target/debug/signsim}
examples=${SCHEMATHESIS_EXAMPLES:-20}
only=${SCHEMATHESIS_ONLY:-}
work=$(mktemp -d)

# The simulator on a port of its own; it prints `signsim http://ADDR` once it listens.
"$binary" serve --port 0 --seed 1 --host 127.0.0.1 >"$work/stdout" 2>"$work/stderr" &
server=$!
cleanup() {
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
base=""
for _ in $(seq 1 300); do
  base=$(sed -n 's/^signsim \(http:[^ ]*\).*/\1/p' "$work/stdout" | head -n 1)
  [ -n "$base" ] && break
  kill -0 "$server" 2>/dev/null || { cat "$work/stderr"; exit 1; }
  sleep 0.1
done
[ -n "$base" ] || { echo "the simulator did not start"; cat "$work/stderr"; exit 1; }
echo "simulator at $base"

# The credentials each surface takes (see tests/http/*.rs): Signal and QI Tech accept any
# bearer token / API key as a tenant of its own, IdentiaSign a JWT whose exp has not passed,
# Mensatek HTTP Basic user:token. Uanataca and the admin API take none.
jwt_part() { printf '%s' "$1" | base64 | tr -d '=\n' | tr '/+' '_-'; }
identia_jwt="$(jwt_part '{"alg":"HS256","typ":"JWT"}').$(jwt_part '{"sub":"schemathesis","exp":4102444800}').c2lnbmF0dXJl"

checks=not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance
failed=()
summary=()

# fuzz LABEL SCHEMA BASE_URL [st options...]
fuzz() {
  local label=$1 schema=$2 url=$3
  shift 3
  echo "== schemathesis: $label"
  local status=0
  st run "$schema" --url "$url" --max-examples "$examples" --seed 1 --workers 1 \
    --no-color --suppress-health-check all --request-timeout 30 \
    --report ndjson --report-ndjson-path "$work/$label.ndjson" "$@" | tee "$work/$label.out" || status=$?
  local cases
  cases=$(grep -o '"ScenarioFinished"' "$work/$label.ndjson" 2>/dev/null | wc -l || true)
  summary+=("$label: $(grep -Eo '[0-9]+ generated' "$work/$label.out" | tail -n 1 || echo '? generated') test cases, exit $status")
  [ "$status" -eq 0 ] || failed+=("$label")
}

run() { [ -z "$only" ] || [ "$only" = "$1" ]; }

surface() { fuzz "$1" "$base/_signsim/openapi/$1.json" "$base/$1" --checks "$checks" "${@:2}"; }
run uanataca && surface uanataca
run signal && surface signal -H "Authorization: Bearer schemathesis"
run mensatek && surface mensatek -H "Authorization: Basic $(printf 'schemathesis:token' | base64)"
run identiasign && surface identiasign -H "Authorization: jwt-bearer $identia_jwt"
run qitech && surface qitech -H "Authorization: qi-key-schemathesis"

echo
printf '%s\n' "${summary[@]}"
if [ "${#failed[@]}" -gt 0 ]; then
  echo "schemathesis found failures in: ${failed[*]}"
  exit 1
fi
