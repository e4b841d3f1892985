#!/usr/bin/env bash
# Start/stop throw-away Redis servers for the Redis conformance suite.
#
#   .ci/redis.sh start-standalone [PORT]          default 6390
#   .ci/redis.sh start-cluster [PORT1 PORT2 PORT3] default 7101 7102 7103
#   .ci/redis.sh stop                              stops every server started here, by PID
#
# State (PID files, logs, cluster configs) lives in $SHARDMEM_REDIS_DIR
# (default /tmp/shardmem-redis). Servers listen on 127.0.0.1 only, with persistence
# off. Prints the `export` line for the URL variable the tests read.
set -euo pipefail

DIR="${SHARDMEM_REDIS_DIR:-/tmp/shardmem-redis}"
mkdir -p "$DIR"

_wait_ping() {  # port
  for _ in $(seq 1 100); do
    if redis-cli -h 127.0.0.1 -p "$1" ping >/dev/null 2>&1; then return 0; fi
    sleep 0.05
  done
  echo "redis on port $1 did not answer PING" >&2
  return 1
}

_start() {  # port, extra args...
  local port="$1"; shift
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
    --daemonize no --dir "$DIR" --logfile "$DIR/redis-$port.log" "$@" </dev/null >/dev/null 2>&1 &
  echo $! > "$DIR/redis-$port.pid"
  _wait_ping "$port"
}

start_standalone() {
  local port="${1:-6390}"
  _start "$port"
  echo "export SHARDMEM_REDIS_URL=redis://127.0.0.1:$port/0"
}

start_cluster() {
  local ports=("${@:-}")
  if [ -z "${ports[0]}" ]; then ports=(7101 7102 7103); fi
  local nodes=()
  for port in "${ports[@]}"; do
    rm -f "$DIR/nodes-$port.conf"
    _start "$port" --cluster-enabled yes --cluster-config-file "$DIR/nodes-$port.conf" \
      --cluster-node-timeout 2000
    nodes+=("127.0.0.1:$port")
  done
  redis-cli --cluster create "${nodes[@]}" --cluster-replicas 0 --cluster-yes >"$DIR/cluster-create.log"
  for _ in $(seq 1 100); do
    if redis-cli -h 127.0.0.1 -p "${ports[0]}" cluster info | grep -q 'cluster_state:ok'; then
      echo "export SHARDMEM_REDIS_CLUSTER_URL=redis://127.0.0.1:${ports[0]}"
      return 0
    fi
    sleep 0.1
  done
  echo "cluster did not reach cluster_state:ok" >&2
  return 1
}

stop() {
  local pidfile pid
  for pidfile in "$DIR"/redis-*.pid; do
    [ -e "$pidfile" ] || continue
    pid="$(cat "$pidfile")"
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid"
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    fi
    rm -f "$pidfile"
  done
}

case "${1:-}" in
  start-standalone) shift; start_standalone "$@" ;;
  start-cluster) shift; start_cluster "$@" ;;
  stop) stop ;;
  *) echo "usage: $0 start-standalone [PORT] | start-cluster [P1 P2 P3] | stop" >&2; exit 2 ;;
esac
