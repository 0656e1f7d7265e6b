#!/usr/bin/env bash
# measure.sh LABEL COMMIT [extra cargo args]: a fresh clone's demo build and the demo to /readyz.
set -u
repo=${REPO:-$(git -C "$(dirname "$0")" rev-parse --show-toplevel)}
label=$1; commit=$2; shift 2
dir=${MEASURE_DIR:-/tmp/m}/$label
rm -rf "$dir" && git clone -q "$repo" "$dir" && cd "$dir" && git checkout -q "$commit"
cargo fetch -q
start=$(date +%s.%N)
SQLX_OFFLINE=true cargo build --profile demo -p caseledger --timings "$@" > build.log 2>&1
built=$(date +%s.%N)
units=$(grep -c "Compiling" build.log)
data=$(mktemp -d)
CASELEDGER_DATA_DIR=$data CASELEDGER_LISTEN=127.0.0.1:18080 ./target/demo/caseledger demo > demo.log 2>&1 &
pid=$!
until curl -sf http://127.0.0.1:18080/readyz >/dev/null; do sleep 0.05; done
ready=$(date +%s.%N)
echo "$label $commit build=$(echo "$built - $start" | bc) s ready=$(echo "$ready - $built" | bc) s units=$units" | tee -a ${MEASURE_DIR:-/tmp/m}/results.txt
echo "$pid" > "$dir/demo.pid"
