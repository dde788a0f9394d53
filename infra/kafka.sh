#!/usr/bin/env bash
# A local Apache Kafka broker (KRaft, one combined broker/controller) from Maven Central jars.
#   infra/kafka.sh start    fetch jars once with mvn (infra/kafka/pom.xml -> .infra/kafka/libs),
#                           format storage and start on 127.0.0.1 with free ports
#   infra/kafka.sh stop     stop it
#   infra/kafka.sh status   say whether it runs
#   infra/kafka.sh restart [SECONDS]   stop the broker, stay down SECONDS (default 0), start
#                           it again on the same ports and data (for recovery tests)
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

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  restart) restart "${2:-0}" ;;
  status) if is_running; then . "$envfile"; echo "running at $CPIS_KAFKA_BOOTSTRAP"; else echo "stopped"; exit 1; fi ;;
  *) echo "usage: $0 start|stop|status|restart [SECONDS]" >&2; exit 2 ;;
esac
