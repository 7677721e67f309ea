#!/usr/bin/env bash
# The suite on a busy machine, in random order: RUNS runs on SQLite, then RUNS on PostgreSQL (when
# DATABASE_URL is set), while stress-ng keeps every core busy. Not part of CI: `make test-stress`.
# Each run's output is kept under var/stress/; a failed run is reported with its random-order seed,
# so it can be replayed with `.venv/bin/pytest --random-order --random-order-seed=SEED`.
set -uo pipefail
cd "$(dirname "$0")/.."
RUNS="${1:-5}"
LOAD="${STRESS_LOAD:-$(nproc)}"
OUT=var/stress
mkdir -p "$OUT"

stress-ng --cpu "$LOAD" --quiet &
STRESS=$!
trap 'kill "$STRESS" 2>/dev/null' EXIT
trap 'exit 130' INT TERM  # stop the whole series (the EXIT trap then stops stress-ng)

failed=0
run() {  # run DB N [env...]
  local db=$1 n=$2 seed=$RANDOM$RANDOM
  shift 2
  local log="$OUT/$db-$n.log" start=$SECONDS
  if env "$@" .venv/bin/pytest -q --random-order --random-order-seed="$seed" >"$log" 2>&1; then
    echo "$db run $n: passed in $((SECONDS - start)) s (seed $seed): $(tail -1 "$log")"
  else
    failed=$((failed + 1))
    echo "$db run $n: FAILED in $((SECONDS - start)) s (seed $seed), log $log:"
    grep -E "^(FAILED|ERROR) " "$log" || tail -5 "$log"
  fi
}

for n in $(seq 1 "$RUNS"); do run sqlite "$n" -u DATABASE_URL; done
if [ -n "${DATABASE_URL:-}" ]; then
  for n in $(seq 1 "$RUNS"); do run "${DATABASE_URL%%://*}" "$n"; done
else
  echo "DATABASE_URL is not set: the PostgreSQL runs were skipped."
fi
echo "$failed failed run(s) under load $LOAD."
[ "$failed" = 0 ]
