#!/usr/bin/env bash
# A real distributed run on one machine: a Spark standalone master and two workers, started from
# the pyspark installation on 127.0.0.1, build the demo end to end with
#   leadscore build --target spark --master spark://127.0.0.1:7077
# then stop (also when the build fails or is interrupted). Usage (from the project root, after
# `make data` and `make train`, or with LEADSCORE_DATA_DIR / LEADSCORE_ARTIFACTS pointing
# elsewhere), with dbt's arguments, by default the core path:
#   bench/spark_cluster.sh [build --select +lead_features +lead_training_set +lead_scores \
#       --exclude-resource-type test unit_test --vars "{as_of: '2026-06-01 00:00:00'}"]
# Environment: SPARK_WORKER_CORES (1 per worker), SPARK_WORKER_MEMORY (1g per worker),
# LEADSCORE_SPARK_HOME (metastore and warehouse; default spark/ in the project).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
SPARK_HOME="$("$PYTHON" -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))')"
export SPARK_HOME
export PYSPARK_PYTHON="${PYSPARK_PYTHON:-$PYTHON}"
export PYTHONPATH="${PYTHONPATH:-$ROOT/python}"
# master, workers, executors and the driver talk over the loopback interface only
export SPARK_LOCAL_IP=127.0.0.1
RUN_DIR="$(mktemp -d "${TMPDIR:-/tmp}/leadscore-spark-cluster.XXXXXX")"
export SPARK_LOG_DIR="$RUN_DIR/logs" SPARK_WORKER_DIR="$RUN_DIR/work"
mkdir -p "$SPARK_LOG_DIR" "$SPARK_WORKER_DIR"
MASTER_PORT="${MASTER_PORT:-7077}"
MASTER="spark://127.0.0.1:$MASTER_PORT"
CORES="${SPARK_WORKER_CORES:-1}"
MEMORY="${SPARK_WORKER_MEMORY:-1g}"
PIDS=()

stop() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    echo "[cluster] stopped (logs in $SPARK_LOG_DIR)"
}
trap stop EXIT

echo "[cluster] master $MASTER"
"$SPARK_HOME/bin/spark-class" org.apache.spark.deploy.master.Master \
    --host 127.0.0.1 --port "$MASTER_PORT" --webui-port 0 >"$SPARK_LOG_DIR/master.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 120); do
    grep -q "I have been elected leader" "$SPARK_LOG_DIR/master.log" && break
    sleep 1
done
grep -q "I have been elected leader" "$SPARK_LOG_DIR/master.log" \
    || { echo "[cluster] the master did not start: see $SPARK_LOG_DIR/master.log" >&2; exit 1; }
for n in 1 2; do
    "$SPARK_HOME/bin/spark-class" org.apache.spark.deploy.worker.Worker \
        --host 127.0.0.1 --cores "$CORES" --memory "$MEMORY" --webui-port 0 \
        --work-dir "$SPARK_WORKER_DIR/$n" "$MASTER" >"$SPARK_LOG_DIR/worker$n.log" 2>&1 &
    PIDS+=($!)
done
for _ in $(seq 120); do
    [ "$(grep -l "Successfully registered with master" "$SPARK_LOG_DIR"/worker*.log 2>/dev/null | wc -l)" -eq 2 ] && break
    sleep 1
done
registered="$(grep -l "Successfully registered with master" "$SPARK_LOG_DIR"/worker*.log 2>/dev/null | wc -l)"
[ "$registered" -eq 2 ] \
    || { echo "[cluster] $registered of 2 workers registered: see $SPARK_LOG_DIR/worker*.log" >&2; exit 1; }
echo "[cluster] 2 workers x $CORES core(s), $MEMORY registered"
if [ "$#" -eq 0 ]; then
    set -- build --select +lead_features +lead_training_set +lead_scores \
        --exclude-resource-type test unit_test
fi

start=$(date +%s)
"$PYTHON" -m leadscore.cli build --target spark --master "$MASTER" "$@"
echo "[cluster] leadscore build --target spark --master $MASTER: $(( $(date +%s) - start ))s"
