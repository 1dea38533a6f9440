#!/usr/bin/env bash
# The seeded chaos soak (docs/reliability.md), two ways, each seed a
# scripted workload under seeded faults compared with a fault-free run of
# the same workload:
#  - in process (crates/server/tests/chaos_soak.rs): the router, workers
#    and SQLite store in the test, graceful restarts; also a variant with
#    two repositories of one installation;
#  - the real `paydown serve` (tests/chaos_kill.rs), killed with SIGKILL
#    mid-work at seeded points and started again on the same database.
# N seeds (default 200) of each. A failing seed is printed with its
# faults; rerun it alone with
#   PAYDOWN_SOAK_FIRST_SEED=<seed> PAYDOWN_SOAK_SEEDS=1 PAYDOWN_SOAK_VERBOSE=1 scripts/chaos-soak.sh
# PAYDOWN_SOAK_TWO_REPOS=1 runs only the two-repository variant (two jobs
# of one installation at once); PAYDOWN_SOAK_ONLY=process or =in-process
# runs one of the two soaks.
# Usage: scripts/chaos-soak.sh [seeds] [first-seed]
set -euo pipefail
cd "$(dirname "$0")/.."
export PAYDOWN_SOAK_SEEDS="${1:-${PAYDOWN_SOAK_SEEDS:-200}}"
export PAYDOWN_SOAK_FIRST_SEED="${2:-${PAYDOWN_SOAK_FIRST_SEED:-1}}"
if [ "${PAYDOWN_SOAK_TWO_REPOS:-}" = 1 ]; then
  exec cargo test -p paydown-server --test chaos_soak -- \
    seeded_chaos_over_two_repositories --nocapture
fi
only="${PAYDOWN_SOAK_ONLY:-}"
if [ "$only" != process ]; then
  cargo test -p paydown-server --test chaos_soak -- --nocapture
fi
if [ "$only" != in-process ]; then
  cargo test --test chaos_kill -- --nocapture
fi
