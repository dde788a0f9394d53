#!/usr/bin/env bash
# A local Apache Kafka broker (KRaft, one combined broker/controller) from Maven Central jars.
#   infra/kafka.sh start    fetch jars once with mvn (infra/kafka/pom.xml -> .infra/kafka/libs),
#                           format storage and start on 127.0.0.1 with free ports
#   infra/kafka.sh stop     stop it
#   infra/kafka.sh status   say whether it runs
#   infra/kafka.sh restart [SECONDS]   stop the broker, stay down SECONDS (default 0), start
#                           it again on the same ports and data (for recovery tests)
#   infra/kafka.sh cluster-start [N]   a cluster of N (default 3) combined KRaft nodes on
#                           127.0.0.1, beside the single broker: replication 3 (at most N),
#                           min.insync.replicas 2; `. .infra/kafka-cluster/env` exports
#                           CPIS_KAFKA_CLUSTER_BOOTSTRAP (every node)
#   infra/kafka.sh cluster-kill NODE   SIGKILL node NODE (1..N), for the broker-loss test
#   infra/kafka.sh cluster-stop
# After start, `. .infra/kafka/env` exports CPIS_KAFKA_BOOTSTRAP.
set -euo pipefail
. "$(dirname "$0")/common.sh"

state="$CPIS_INFRA/kafka"
envfile="$state/env"
libs="$state/libs"

fetch_jars() {
  if [ -f "$libs/.complete" ]; then return 0; fi
  command -v java >/dev/null || apt_install openjdk-17-jre-headless
  command -v mvn >/dev/null || apt_install maven
  log "fetching the Kafka broker jars from Maven Central (once)"
  mvn -B -q -f "$CPIS_ROOT/infra/kafka/pom.xml" dependency:copy-dependencies \
    -DoutputDirectory="$libs" -Dmaven.repo.local="$CPIS_INFRA/m2" >&2
  touch "$libs/.complete"
}

java_opts=(-Xmx512m -Xms256m -cp "$libs/*" "-Dlog4j2.configurationFile=$state/log4j2.properties")

port_open() { python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', int(sys.argv[1])), 1)" "$1"; }

is_running() {
  [ -f "$envfile" ] && [ -f "$state/pid" ] && kill -0 "$(cat "$state/pid")" 2>/dev/null
}

start() {
  mkdir -p "$state"
  if is_running; then . "$envfile"; log "already running at $CPIS_KAFKA_BOOTSTRAP"; return 0; fi
  fetch_jars
  local port cport cluster
  port=$(free_port); cport=$(free_port)
  rm -rf "$state/data" && mkdir -p "$state/data"
  cat >"$state/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$state/data
num.partitions=3
offsets.topic.replication.factor=1
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=3
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
PROPS
  cat >"$state/log4j2.properties" <<'LOG'
rootLogger.level=WARN
rootLogger.appenderRef.stdout.ref=STDOUT
appender.stdout.type=Console
appender.stdout.name=STDOUT
appender.stdout.layout.type=PatternLayout
appender.stdout.layout.pattern=[%d] %p %m (%c)%n
LOG
  cluster=$(java "${java_opts[@]}" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1)
  java "${java_opts[@]}" kafka.tools.StorageTool format --standalone -t "$cluster" \
    -c "$state/server.properties" >"$state/format.log" 2>&1 \
    || { cat "$state/format.log" >&2; die "kafka storage format failed"; }
  : >"$state/server.log"
  launch "$port"
  echo "export CPIS_KAFKA_BOOTSTRAP=127.0.0.1:$port" >"$envfile"
  log "Kafka running at 127.0.0.1:$port; . $envfile"
}

launch() {  # launch PORT: run the broker on the formatted storage and wait for PORT
  nohup java "${java_opts[@]}" kafka.Kafka "$state/server.properties" >>"$state/server.log" 2>&1 &
  echo $! >"$state/pid"
  if ! wait_for 90 "Kafka on 127.0.0.1:$1" port_open "$1"; then
    tail -n 30 "$state/server.log" >&2; die "Kafka did not start"
  fi
}

restart() {
  is_running || die "Kafka is not running; start it first"
  . "$envfile"
  stop_pidfile "$state/pid"
  log "Kafka stopped; down for ${1:-0} s"
  sleep "${1:-0}"
  launch "${CPIS_KAFKA_BOOTSTRAP##*:}"
}

stop() {
  stop_pidfile "$state/pid"
  rm -f "$envfile"
  log "Kafka stopped"
}


cluster="$CPIS_INFRA/kafka-cluster"

cluster_node_properties() {  # NODE N PORTS... : one node's configuration
  local node=$1 n=$2; shift 2
  local ports=("$@") voters="" i
  for i in $(seq 1 "$n"); do voters+="${voters:+,}$i@127.0.0.1:${ports[$((2 * i - 1))]}"; done
  local rf=$((n < 3 ? n : 3)) isr=$((n < 2 ? n : 2))
  cat <<PROPS
process.roles=broker,controller
node.id=$node
controller.quorum.voters=$voters
listeners=PLAINTEXT://127.0.0.1:${ports[$((2 * node - 2))]},CONTROLLER://127.0.0.1:${ports[$((2 * node - 1))]}
advertised.listeners=PLAINTEXT://127.0.0.1:${ports[$((2 * node - 2))]}
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$cluster/node$node/data
num.partitions=3
default.replication.factor=$rf
min.insync.replicas=$isr
offsets.topic.replication.factor=$rf
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$isr
transaction.state.log.num.partitions=3
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
# a killed node leaves the in-sync replicas and loses its leaderships within seconds, not
# the default 30 s, so a local failure test runs in reasonable time
replica.lag.time.max.ms=5000
broker.session.timeout.ms=6000
broker.heartbeat.interval.ms=1000
PROPS
}

cluster_alive() {  # every node of the running cluster is up
  local pidfile
  for pidfile in "$cluster"/node*/pid; do
    [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null || return 1
  done
}

cluster_start() {  # cluster_start N
  local n=${1:-3} ports=() node id bootstrap=""
  if [ -f "$cluster/env" ] && cluster_alive; then
    . "$cluster/env"; log "cluster already at $CPIS_KAFKA_CLUSTER_BOOTSTRAP"; return 0
  fi
  [ -f "$cluster/env" ] && cluster_stop  # a node of it is down (a test killed it): afresh
  fetch_jars
  rm -rf "$cluster" && mkdir -p "$cluster"
  cp "$state/log4j2.properties" "$cluster/" 2>/dev/null || printf 'rootLogger.level=WARN\n' >"$cluster/log4j2.properties"
  for _ in $(seq 1 $((2 * n))); do ports+=("$(free_port)"); done
  id=$(java -cp "$libs/*" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1)
  for node in $(seq 1 "$n"); do
    mkdir -p "$cluster/node$node/data"
    cluster_node_properties "$node" "$n" "${ports[@]}" >"$cluster/node$node/server.properties"
    java -cp "$libs/*" kafka.tools.StorageTool format -t "$id" \
      -c "$cluster/node$node/server.properties" >"$cluster/node$node/format.log" 2>&1 \
      || { cat "$cluster/node$node/format.log" >&2; die "node $node: storage format failed"; }
    bootstrap+="${bootstrap:+,}127.0.0.1:${ports[$((2 * node - 2))]}"
  done
  for node in $(seq 1 "$n"); do
    nohup java -Xmx384m -Xms128m -cp "$libs/*" "-Dlog4j2.configurationFile=$cluster/log4j2.properties" \
      kafka.Kafka "$cluster/node$node/server.properties" >>"$cluster/node$node/server.log" 2>&1 &
    echo $! >"$cluster/node$node/pid"
  done
  for node in $(seq 1 "$n"); do
    wait_for 120 "cluster node $node" port_open "${ports[$((2 * node - 2))]}" \
      || { tail -n 30 "$cluster/node$node/server.log" >&2; die "node $node did not start"; }
  done
  echo "export CPIS_KAFKA_CLUSTER_BOOTSTRAP=$bootstrap" >"$cluster/env"
  log "Kafka cluster of $n at $bootstrap; . $cluster/env"
}

cluster_kill() {  # cluster_kill NODE: as a machine failing would, no clean shutdown
  kill -9 "$(cat "$cluster/node$1/pid")" && log "cluster node $1 killed (SIGKILL)"
}

cluster_stop() {
  local pidfile
  for pidfile in "$cluster"/node*/pid; do [ -f "$pidfile" ] && stop_pidfile "$pidfile"; done
  rm -f "$cluster/env"
  log "Kafka cluster stopped"
}

case "${1:-}" in
  start) start ;;
  cluster-start) cluster_start "${2:-3}" ;;
  cluster-kill) cluster_kill "${2:?which node}" ;;
  cluster-stop) cluster_stop ;;
  stop) stop ;;
  restart) restart "${2:-0}" ;;
  status) if is_running; then . "$envfile"; echo "running at $CPIS_KAFKA_BOOTSTRAP"; else echo "stopped"; exit 1; fi ;;
  *) echo "usage: $0 start|stop|status|restart [SECONDS]" >&2; exit 2 ;;
esac
