#!/usr/bin/env bash
# Sync-state benchmark (issue 14): what keeping a repository's sync state
# costs per push, and the memory of `paydown serve` with many repositories.
#
# 1. bytes written and time per incremental push for N items (default
#    10,000; k = 5 changed), the JSON blob of versions before migration
#    0007 against the rows, on SQLite and (with PAYDOWN_TEST_POSTGRES_URL)
#    PostgreSQL, in one run: crates/server/tests/bench_state.rs.
# 2. RSS of `paydown serve` on an SQLite database with no repositories and
#    with 1,000 installed repositories of 100 items each (as rows; and as
#    blobs, which the server converts to rows on start), plus the RSS of a
#    process loading each of the 1,000 states in turn.
#
# Usage: scripts/bench-state.sh
# Env:   BENCH_ITEMS (default 10000), PAYDOWN_BIN (skip building the binary),
#        PAYDOWN_TEST_POSTGRES_URL (adds PostgreSQL), PORT (default 3927),
#        SETTLE (seconds to let a server run before reading its RSS, 5),
#        BENCH_PROFILE (cargo profile of the benchmark test, default release),
#        SKIP_PUSH=1 (only the memory part).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PORT="${PORT:-3927}"
SETTLE="${SETTLE:-5}"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
PROFILE="${BENCH_PROFILE:-release}"
cd "$ROOT"

if [[ -z "${SKIP_PUSH:-}" ]]; then
    echo "== 1. state written per push ($PROFILE build) =="
    cargo test --profile "$PROFILE" -q -p paydown-server --test bench_state -- --ignored --nocapture \
        --test-threads 1 state_bytes_and_time_per_push 2>&1 | grep -E '^\||items'
fi

if [[ -z "${PAYDOWN_BIN:-}" ]]; then
    cargo build --release --quiet --bin paydown
    PAYDOWN_BIN="$TARGET/release/paydown"
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
openssl genrsa -out "$WORK/app.pem" 2048 2>/dev/null

fill() { # $1 db path, $2 blobs (0/1)
    BENCH_RSS_DB="$1" BENCH_RSS_BLOBS="$2" cargo test --profile "$PROFILE" -q -p paydown-server \
        --test bench_state -- --ignored --nocapture --test-threads 1 \
        many_repositories_fill_and_load 2>&1 | grep -E '^RSS_LOAD|^filled' || true
}

# Prints "rss_kib hwm_kib" of `paydown serve` on the SQLite file $1, read
# after it answered /readyz and ran for $SETTLE seconds.
serve_rss() {
    PAYDOWN_APP_ID=1 PAYDOWN_PRIVATE_KEY_PATH="$WORK/app.pem" PAYDOWN_WEBHOOK_SECRET=s \
    PAYDOWN_DATABASE_URL="sqlite://$1?mode=rwc" PAYDOWN_GITHUB_API_URL="http://127.0.0.1:9" \
    PAYDOWN_LISTEN="127.0.0.1:$PORT" RUST_LOG=error \
        "$PAYDOWN_BIN" serve >"$WORK/server.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 600); do
        curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
        kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log" >&2; exit 1; }
        sleep 0.1
    done
    sleep "$SETTLE"
    local rss hwm
    rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$SERVER_PID/status")
    hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$SERVER_PID/status")
    kill -TERM "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""
    echo "$rss $hwm"
}

echo
echo "== 2. memory with 1,000 installed repositories of 100 items =="
fill "$WORK/rows.db" 0 | sed 's/^/   in-process: /'
fill "$WORK/blobs.db" 1 >/dev/null
empty=$(serve_rss "$WORK/empty.db")
rows=$(serve_rss "$WORK/rows.db")
blobs=$(serve_rss "$WORK/blobs.db")
again=$(serve_rss "$WORK/blobs.db")
printf '| %-44s | %9s | %9s |\n' "paydown serve, SQLite" "RSS KiB" "peak KiB"
printf '| %-44s | %9s | %9s |\n' "no repositories" $empty
printf '| %-44s | %9s | %9s |\n' "1,000 repos x 100 items (rows)" $rows
printf '| %-44s | %9s | %9s |\n' "1,000 repos x 100 items (blobs, converted)" $blobs
printf '| %-44s | %9s | %9s |\n' "the same, restarted after the conversion" $again
