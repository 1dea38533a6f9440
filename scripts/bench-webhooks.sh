#!/usr/bin/env bash
# Webhook intake benchmark for `paydown serve`.
#
# Builds the release binary, starts `paydown serve` on loopback with a fresh
# SQLite database, and drives it with wrk: signed ~10 KB deliveries, each with
# a unique X-GitHub-Delivery, then `GET /healthz` as the ceiling of the HTTP
# stack alone. Prints acknowledged (202, durably stored) deliveries per second
# with p50/p99 latency, and checks the database holds every acknowledged one.
#
# Usage: scripts/bench-webhooks.sh [SECONDS] [CONNECTIONS] [WRK_THREADS]
# Env:   PAYDOWN_BIN (skip the build and use this binary), PORT (default 3917),
#        PAYDOWN_WORKERS (default 4).
set -euo pipefail

DURATION="${1:-10}"
CONNECTIONS="${2:-32}"
THREADS="${3:-2}"
PORT="${PORT:-3917}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

need() { command -v "$1" >/dev/null 2>&1; }
if ! need wrk; then
    echo "installing wrk (load generator)..." >&2
    if need apt-get; then
        apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
    fi
    need wrk || { echo "error: wrk is required (apt-get install wrk)" >&2; exit 1; }
fi
for tool in openssl python3; do
    need "$tool" || { echo "error: $tool is required" >&2; exit 1; }
done

if [[ -z "${PAYDOWN_BIN:-}" ]]; then
    (cd "$ROOT" && cargo build --release --quiet --bin paydown)
    PAYDOWN_BIN="$ROOT/target/release/paydown"
fi

WORK="$(mktemp -d)"
SERVER_PID=""
cleanup() {
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

SECRET="bench-secret-$RANDOM$RANDOM"
openssl genrsa -out "$WORK/app.pem" 2048 2>/dev/null

# A fixed ~10 KB ping payload; its signature is computed once.
python3 - "$WORK" "$SECRET" <<'PY'
import hashlib, hmac, json, sys
work, secret = sys.argv[1], sys.argv[2]
body = json.dumps({
    "zen": "Design for failure.",
    "hook_id": 1,
    "hook": {"type": "App", "id": 1, "events": ["push", "pull_request", "issues"]},
    "padding": "x" * 9800,
}).encode()
sig = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
open(f"{work}/body.json", "wb").write(body)
lua = f"""
wrk.method = "POST"
wrk.path = "/webhook"
wrk.body = io.open("{work}/body.json", "rb"):read("*a")
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-GitHub-Event"] = "ping"
wrk.headers["X-Hub-Signature-256"] = "{sig}"
-- Globals on purpose: setup() runs in the main Lua state and thread:set()
-- writes a global of each thread's own state (a local would shadow it).
threads = {{}}
counter = 0
tid = 0
next_tid = 0
function setup(thread)
  next_tid = next_tid + 1
  thread:set("tid", next_tid)
  table.insert(threads, thread)
end
function request()
  counter = counter + 1
  wrk.headers["X-GitHub-Delivery"] = "bench-" .. tid .. "-" .. counter
  return wrk.format()
end
function response(status, headers, body)
  if status ~= 202 then bad = (bad or 0) + 1 end
end
function done(summary, latency, requests)
  local bad = 0
  for _, t in ipairs(threads) do bad = bad + (t:get("bad") or 0) end
  local ok = summary.requests - bad - summary.errors.connect - summary.errors.read
             - summary.errors.write - summary.errors.timeout
  local secs = summary.duration / 1e6
  io.write(string.format("RESULT acked=%d non202=%d errors=%d rate=%.0f p50_ms=%.2f p99_ms=%.2f\\n",
    ok, bad, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    ok / secs, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
"""
open(f"{work}/webhook.lua", "w").write(lua)
open(f"{work}/healthz.lua", "w").write("""
function done(summary, latency, requests)
  io.write(string.format("RESULT rate=%.0f p50_ms=%.2f p99_ms=%.2f\\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
""")
PY

DB="$WORK/paydown.sqlite"
PAYDOWN_APP_ID=1 \
PAYDOWN_PRIVATE_KEY_PATH="$WORK/app.pem" \
PAYDOWN_WEBHOOK_SECRET="$SECRET" \
PAYDOWN_DATABASE_URL="sqlite://$DB?mode=rwc" \
PAYDOWN_GITHUB_API_URL="http://127.0.0.1:9" \
PAYDOWN_LISTEN="127.0.0.1:$PORT" \
PAYDOWN_WORKERS="${PAYDOWN_WORKERS:-4}" \
RUST_LOG="${RUST_LOG:-warn}" \
    "$PAYDOWN_BIN" serve >"$WORK/server.log" 2>&1 &
SERVER_PID=$!

for _ in $(seq 100); do
    curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log" >&2; exit 1; }
    sleep 0.1
done

# Sanity: one signed delivery is acknowledged.
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$PORT/webhook" \
    -H 'Content-Type: application/json' -H 'X-GitHub-Event: ping' -H 'X-GitHub-Delivery: bench-warmup' \
    -H "X-Hub-Signature-256: $(python3 -c "import hmac,hashlib,sys;print('sha256='+hmac.new(sys.argv[1].encode(),open(sys.argv[2],'rb').read(),hashlib.sha256).hexdigest())" "$SECRET" "$WORK/body.json")" \
    --data-binary "@$WORK/body.json")
[[ "$code" == 202 ]] || { echo "error: warm-up delivery answered $code" >&2; cat "$WORK/server.log" >&2; exit 1; }

echo "paydown serve webhook intake: ${DURATION}s, $CONNECTIONS connections, $THREADS wrk threads, $(nproc) cores"
wh=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$WORK/webhook.lua" \
    "http://127.0.0.1:$PORT/webhook" | grep '^RESULT')
hz=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$WORK/healthz.lua" \
    "http://127.0.0.1:$PORT/healthz" | grep '^RESULT')

acked=$(sed -E 's/.*acked=([0-9]+).*/\1/' <<<"$wh")
stored=$(python3 -c "import sqlite3,sys;print(sqlite3.connect(sys.argv[1]).execute(\"select count(*) from deliveries where delivery_id like 'bench-%' and delivery_id != 'bench-warmup'\").fetchone()[0])" "$DB")

printf '%-22s %s\n' "POST /webhook:" "${wh#RESULT }"
printf '%-22s %s\n' "GET /healthz (ceiling):" "${hz#RESULT }"
printf '%-22s acknowledged=%s stored=%s\n' "durability check:" "$acked" "$stored"
if (( stored < acked )); then
    echo "error: fewer deliveries stored than acknowledged" >&2
    exit 1
fi
