#!/usr/bin/env bash
# The seeded chaos soak (docs/reliability.md): runs N seeds (default 200)
# of crates/server/tests/chaos_soak.rs, each a scripted workload under
# seeded faults and restarts compared with a fault-free run of the same
# workload. A failing seed is printed with its faults; rerun it alone with
#   PAYDOWN_SOAK_FIRST_SEED=<seed> PAYDOWN_SOAK_SEEDS=1 PAYDOWN_SOAK_VERBOSE=1 scripts/chaos-soak.sh
# PAYDOWN_SOAK_TWO_REPOS=1 runs only the two-repository variant (two jobs
# of one installation at once).
# Usage: scripts/chaos-soak.sh [seeds] [first-seed]
set -euo pipefail
cd "$(dirname "$0")/.."
export PAYDOWN_SOAK_SEEDS="${1:-${PAYDOWN_SOAK_SEEDS:-200}}"
export PAYDOWN_SOAK_FIRST_SEED="${2:-${PAYDOWN_SOAK_FIRST_SEED:-1}}"
if [ "${PAYDOWN_SOAK_TWO_REPOS:-}" = 1 ]; then
  exec cargo test -p paydown-server --test chaos_soak -- \
    seeded_chaos_over_two_repositories --nocapture
fi
exec cargo test -p paydown-server --test chaos_soak -- --nocapture
