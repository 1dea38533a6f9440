#!/usr/bin/env bash
# Webhook intake, paydown against Probot (issue 14), A/B interleaved.
#
# The same wrk driver hits each target in turn, round after round, the
# order rotating each round: signed ~10.7 KB `push` bodies (to a branch
# other than the default, so the work behind each delivery is a no-op as in
# a counting app), a unique X-GitHub-Delivery per request. Targets:
#   probot  npm `probot` (installed into a temporary directory) running a
#           counting app (`app.onAny(() => count++)`); it stores nothing
#   sqlite  `paydown serve`, fresh SQLite file (every 2xx is on disk)
#   pg1     `paydown serve`, fresh PostgreSQL schema
#   pg3     three `paydown serve` replicas sharing a fresh schema, each
#           driven by its own wrk with a third of the connections
# Each paydown target also gets `GET /healthz` (the HTTP stack's ceiling).
# Every target starts fresh each round and is stopped after it, so no
# backlog runs into the next target's round. Prints one table of medians
# over the rounds: rate (2xx/s), p50, p99, max latency (the longest stall a
# request saw), the ratio to Probot's rate in the same round, /healthz rate
# and the share of it; and checks every acknowledged delivery was stored.
#
# Usage: scripts/bench-intake.sh [SECONDS] [ROUNDS] [CONNECTIONS]
# Env:   PAYDOWN_BIN (skip the build), PROBOT_DIR (an existing npm install
#        of probot), PG_URL (default postgres://postgres@127.0.0.1:5432/test;
#        empty skips pg1/pg3), TARGETS (default "probot sqlite pg1 pg3"),
#        PORT (first port, default 3940), PAYDOWN_WORKERS (default 4),
#        QUEUED=1 (deliveries paydown cannot settle at intake: each is
#        claimed and completed by a worker).
set -euo pipefail

DURATION="${1:-10}"
ROUNDS="${2:-3}"
CONNECTIONS="${3:-32}"
PORT="${PORT:-3940}"
PG_URL="${PG_URL-postgres://postgres@127.0.0.1:5432/test}"
TARGETS="${TARGETS:-probot sqlite pg1 pg3}"
if [[ -z "$PG_URL" ]]; then TARGETS="${TARGETS//pg1/}"; TARGETS="${TARGETS//pg3/}"; fi
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

need() { command -v "$1" >/dev/null 2>&1; }
if ! need wrk; then
    echo "installing wrk (load generator)..." >&2
    apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
fi
for tool in wrk openssl python3 curl node npm; do
    need "$tool" || { echo "error: $tool is required" >&2; exit 1; }
done
[[ -z "$PG_URL" ]] || need psql || { echo "error: psql is required for PostgreSQL targets" >&2; exit 1; }

if [[ -z "${PAYDOWN_BIN:-}" ]]; then
    (cd "$ROOT" && cargo build --release --quiet --bin paydown)
    PAYDOWN_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/paydown"
fi

WORK="$(mktemp -d)"
PIDS=()
SCHEMA=""
stop_all() {
    for pid in "${PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    PIDS=()
    if [[ -n "$SCHEMA" ]]; then
        psql -q "$PG_URL" -c "DROP SCHEMA $SCHEMA CASCADE" >/dev/null 2>&1 || true
        SCHEMA=""
    fi
}
trap 'stop_all; rm -rf "$WORK"' EXIT

if [[ -z "${PROBOT_DIR:-}" ]] && [[ " $TARGETS " == *" probot "* ]]; then
    PROBOT_DIR="$WORK/probot"
    mkdir -p "$PROBOT_DIR"
    echo "installing probot from npm into $PROBOT_DIR..." >&2
    (cd "$PROBOT_DIR" && npm install --silent --no-audit --no-fund probot >/dev/null 2>&1)
fi
if [[ -n "${PROBOT_DIR:-}" ]]; then
    cat >"$PROBOT_DIR/count.mjs" <<'JS'
// A counting Probot app: what Probot costs per webhook with no work behind it.
import { run } from "probot";
let count = 0;
await run((app) => {
  app.onAny(async () => {
    count += 1;
  });
});
process.on("SIGTERM", () => {
  console.error(`counted ${count}`);
  process.exit(0);
});
JS
fi

SECRET="bench-secret-$RANDOM$RANDOM"
# With QUEUED=1 the push handler warns once per delivery (no installation);
# that line is not what is measured.
LOG_FILTER=warn
[[ "${QUEUED:-0}" != 1 ]] || LOG_FILTER="warn,paydown_server::handlers=error"
openssl genrsa -out "$WORK/app.pem" 2048 2>/dev/null

# A real push payload (GitHub's documented shape, from the test fixtures)
# padded to 10.7 KB, to a branch that is not the default one. paydown
# settles such a push at intake (stored as done: it needs no work). With
# QUEUED=1 the payload has no installation, which paydown cannot settle:
# every delivery then goes through the queue (claimed and completed by a
# worker, whose handler ignores it) — the cost of deliveries with work.
python3 - "$WORK" "$SECRET" "$ROOT/crates/server/tests/fixtures/api.push.none.4.json" "${QUEUED:-0}" <<'PY'
import hashlib, hmac, json, sys
work, secret, fixture, queued = sys.argv[1:5]
push = json.load(open(fixture))
push["ref"] = "refs/heads/bench-topic"
if queued == "1":
    push.pop("installation", None)
base = len(json.dumps(push).encode())
push["head_commit"]["message"] += "\n" + "x" * max(0, 10_700 - base - 3)
body = json.dumps(push).encode()
sig = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
open(f"{work}/body.json", "wb").write(body)
open(f"{work}/sig", "w").write(sig)
lua = f"""
wrk.method = "POST"
wrk.path = "/webhook"
wrk.body = io.open("{work}/body.json", "rb"):read("*a")
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-GitHub-Event"] = "push"
wrk.headers["X-Hub-Signature-256"] = "{sig}"
prefix = os.getenv("BENCH_PREFIX") or "bench"
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
  wrk.headers["X-GitHub-Delivery"] = prefix .. "-" .. tid .. "-" .. counter
  return wrk.format()
end
function response(status, headers, body)
  if status < 200 or status > 299 then bad = (bad or 0) + 1 end
end
function done(summary, latency, requests)
  local bad = 0
  for _, t in ipairs(threads) do bad = bad + (t:get("bad") or 0) end
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  local ok = summary.requests - bad - errors
  io.write(string.format("RESULT acked=%d bad=%d errors=%d rate=%.1f p50=%.2f p99=%.2f max=%.2f\\n",
    ok, bad, errors, ok / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000))
end
"""
open(f"{work}/webhook.lua", "w").write(lua)
open(f"{work}/healthz.lua", "w").write("""
function done(summary, latency, requests)
  io.write(string.format("RESULT acked=%d bad=0 errors=0 rate=%.1f p50=%.2f p99=%.2f max=%.2f\\n",
    summary.requests, summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000))
end
""")
PY

wait_ready() { # port pid
    for _ in $(seq 300); do
        curl -fsS -o /dev/null "http://127.0.0.1:$1/${3:-healthz}" 2>/dev/null && return 0
        kill -0 "$2" 2>/dev/null || { cat "$WORK"/*.log >&2; exit 1; }
        sleep 0.1
    done
    echo "error: port $1 never became ready" >&2; exit 1
}

warm_up() { # port
    local code
    code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$1/webhook" \
        -H 'Content-Type: application/json' -H 'X-GitHub-Event: push' \
        -H "X-GitHub-Delivery: warmup-$RANDOM$RANDOM" -H "X-Hub-Signature-256: $(cat "$WORK/sig")" \
        --data-binary "@$WORK/body.json")
    [[ "$code" == 2* ]] || { echo "error: warm-up answered $code on port $1" >&2; cat "$WORK"/*.log >&2; exit 1; }
}

start_paydown() { # port db_url
    PAYDOWN_APP_ID=1 PAYDOWN_PRIVATE_KEY_PATH="$WORK/app.pem" PAYDOWN_WEBHOOK_SECRET="$SECRET" \
    PAYDOWN_DATABASE_URL="$2" PAYDOWN_GITHUB_API_URL="http://127.0.0.1:9" \
    PAYDOWN_LISTEN="127.0.0.1:$1" PAYDOWN_WORKERS="${PAYDOWN_WORKERS:-4}" RUST_LOG="${RUST_LOG:-$LOG_FILTER}" \
        "$PAYDOWN_BIN" serve >"$WORK/paydown-$1.log" 2>&1 &
    PIDS+=($!)
    wait_ready "$1" "$!"
    warm_up "$1"
}

# Runs wrk on the given ports at once (connections split among them) and
# prints one combined RESULT: rates and counts summed, latencies the worst.
drive() { # script seconds port...
    local script=$1 secs=$2; shift 2
    local n=$# i=0 out=()
    for port in "$@"; do
        local c=$(( (CONNECTIONS + n - 1 - i) / n ))
        BENCH_PREFIX="$PREFIX-$port" wrk -t"$(( n == 1 ? 2 : 1 ))" -c"$c" -d"${secs}s" --latency \
            -s "$WORK/$script" "http://127.0.0.1:$port/${script%.lua}" >"$WORK/wrk-$port.out" 2>&1 &
        out+=($!); i=$((i + 1))
    done
    wait "${out[@]}"
    for port in "$@"; do grep '^RESULT' "$WORK/wrk-$port.out" || { cat "$WORK/wrk-$port.out" >&2; exit 1; }; done |
        python3 -c '
import sys
rows = [dict(kv.split("=") for kv in line.split()[1:]) for line in sys.stdin]
s = lambda k: sum(float(r[k]) for r in rows)
m = lambda k: max(float(r[k]) for r in rows)
print("acked=%d bad=%d errors=%d rate=%.1f p50=%.2f p99=%.2f max=%.2f" % (
    s("acked"), s("bad"), s("errors"), s("rate"), m("p50"), m("p99"), m("max")))'
}

stored_sqlite() { python3 -c "import sqlite3,sys;print(sqlite3.connect(sys.argv[1]).execute(\"select count(*) from deliveries where delivery_id like ?\",(sys.argv[2]+'-%',)).fetchone()[0])" "$1" "$PREFIX"; }
stored_pg() { psql -qtA "$PG_URL" -c "SELECT count(*) FROM $SCHEMA.deliveries WHERE delivery_id LIKE '$PREFIX-%'"; }

RESULTS="$WORK/results"
: >"$RESULTS"
run_target() { # target round
    local target=$1 round=$2 wh hz="" stored="" ports=()
    PREFIX="r$round-$target-$RANDOM"
    case "$target" in
        probot)
            (cd "$PROBOT_DIR" && APP_ID=1 PRIVATE_KEY_PATH="$WORK/app.pem" WEBHOOK_SECRET="$SECRET" \
                PORT="$PORT" HOST=127.0.0.1 WEBHOOK_PATH=/webhook LOG_LEVEL=warn NODE_ENV=production \
                LOG_FORMAT=json exec node count.mjs >"$WORK/probot.log" 2>&1) &
            PIDS+=($!)
            wait_ready "$PORT" "$!" ping
            warm_up "$PORT"
            ports=("$PORT")
            ;;
        sqlite)
            rm -f "$WORK"/bench.db*
            start_paydown "$PORT" "sqlite://$WORK/bench.db?mode=rwc"
            ports=("$PORT")
            ;;
        pg1 | pg3)
            SCHEMA="bench_${target}_$$_$round"
            psql -q "$PG_URL" -c "CREATE SCHEMA $SCHEMA" >/dev/null
            local sep='?'; [[ "$PG_URL" == *\?* ]] && sep='&'
            local n=1; [[ "$target" == pg3 ]] && n=3
            for i in $(seq 0 $((n - 1))); do
                start_paydown $((PORT + i)) "$PG_URL${sep}options[search_path]=$SCHEMA"
                ports+=($((PORT + i)))
            done
            ;;
    esac
    wh=$(drive webhook.lua "$DURATION" "${ports[@]}")
    if [[ "$target" != probot ]]; then
        hz=$(drive healthz.lua "$(( (DURATION + 1) / 2 ))" "${ports[@]}")
        local acked; acked=$(sed -E 's/.*acked=([0-9]+).*/\1/' <<<"$wh")
        if [[ "$target" == sqlite ]]; then stored=$(stored_sqlite "$WORK/bench.db"); else stored=$(stored_pg); fi
        if (( stored < acked )); then
            echo "error: $target round $round: $acked acknowledged, $stored stored" >&2; exit 1
        fi
    fi
    echo "round=$round target=$target $wh hz_rate=$(sed -E 's/.*rate=([0-9.]+).*/\1/' <<<"${hz:-rate=0}") stored=${stored:-0}" >>"$RESULTS"
    tail -1 "$RESULTS" >&2
    stop_all
}

read -r -a order <<<"$TARGETS"
echo "intake: ${DURATION}s per target per round, $ROUNDS rounds, $CONNECTIONS connections, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for round in $(seq 1 "$ROUNDS"); do
    for t in "${order[@]}"; do run_target "$t" "$round"; done
    order=("${order[@]:1}" "${order[0]}")
done

python3 - "$RESULTS" <<'PY'
import statistics, sys
rows = [dict(kv.split("=", 1) for kv in line.split()) for line in open(sys.argv[1])]
targets = list(dict.fromkeys(r["target"] for r in rows))
probot = {r["round"]: float(r["rate"]) for r in rows if r["target"] == "probot"}
med = lambda xs: statistics.median(xs) if xs else float("nan")
names = {"probot": "Probot 14 (counting app)", "sqlite": "paydown, SQLite",
         "pg1": "paydown, PostgreSQL, 1 replica", "pg3": "paydown, PostgreSQL, 3 replicas"}
print("| target | deliveries/s | × Probot | p50 ms | p99 ms | max stall ms | /healthz/s | intake / healthz | non-2xx |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
for t in targets:
    rs = [r for r in rows if r["target"] == t]
    rate = med([float(r["rate"]) for r in rs])
    ratio = med([float(r["rate"]) / probot[r["round"]] for r in rs if r["round"] in probot])
    hz = med([float(r["hz_rate"]) for r in rs])
    bad = sum(int(r["bad"]) + int(r["errors"]) for r in rs)
    print("| %s | %.0f | %s | %.1f | %.1f | %.0f | %s | %s | %d |" % (
        names.get(t, t), rate, "%.2f×" % ratio if probot else "–",
        med([float(r["p50"]) for r in rs]), med([float(r["p99"]) for r in rs]),
        med([float(r["max"]) for r in rs]),
        "%.0f" % hz if t != "probot" else "–",
        "%.0f%%" % (100 * rate / hz) if t != "probot" and hz else "–", bad))
print(f"(medians over {len(set(r['round'] for r in rows))} interleaved rounds; × Probot is the median of per-round ratios)")
PY
