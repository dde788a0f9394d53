#!/usr/bin/env bash
# Kafka Connect for analytics readers: Apache Kafka's Connect worker, Apicurio's Avro
# converter and Debezium's JDBC sink, all from Maven Central (infra/connect/*/pom.xml).
#   infra/connect.sh fetch    fetch the jars once into .infra/connect/{runtime,plugins/*}
#   infra/connect.sh run WORKER.properties CONNECTOR.properties...
#                             a standalone worker in the foreground (Ctrl-C stops it)
# After fetch, `. .infra/connect/env` exports CPIS_CONNECT_HOME (the end-to-end test starts
# its own standalone worker from there).
set -euo pipefail
. "$(dirname "$0")/common.sh"

state="$CPIS_INFRA/connect"

copy() {  # copy <pom folder> <into>: the artifact and what it needs at run time
  local exclude=()
  # a plugin leaves Kafka's own jars to the worker, which loads it in an isolated class loader;
  # the JDBC sink its Jackson too: Hibernate's module lookup finds the worker's Jackson modules,
  # which only the worker's Jackson can load
  case "$1" in
    converter) exclude=(-DexcludeGroupIds=org.apache.kafka) ;;
    jdbc-sink) exclude=(-DexcludeGroupIds=org.apache.kafka,com.fasterxml.jackson.core) ;;
  esac
  mvn -B -q -f "$CPIS_ROOT/infra/connect/$1/pom.xml" dependency:copy-dependencies \
    -DincludeScope=runtime "${exclude[@]}" -DoutputDirectory="$2" \
    -Dmaven.repo.local="$CPIS_INFRA/m2" >&2
}

fetch() {
  if [ -f "$state/.complete" ]; then return 0; fi
  command -v java >/dev/null || apt_install openjdk-17-jre-headless
  command -v mvn >/dev/null || apt_install maven
  log "fetching Kafka Connect, Apicurio's converter and Debezium's JDBC sink (once)"
  rm -rf "$state" && mkdir -p "$state/plugins"
  copy runtime "$state/runtime"
  copy converter "$state/plugins/apicurio-converter"
  copy jdbc-sink "$state/plugins/debezium-jdbc"
  echo "export CPIS_CONNECT_HOME=$state" >"$state/env"
  touch "$state/.complete"
}

run() {
  fetch
  exec java -Xmx512m -cp "$state/runtime/*" \
    "-Dlog4j2.configurationFile=$CPIS_ROOT/infra/connect/log4j2.properties" \
    org.apache.kafka.connect.cli.ConnectStandalone "$@"
}

case "${1:-}" in
  fetch) fetch; log "Kafka Connect jars in $state" ;;
  run) shift; run "$@" ;;
  *) die "usage: $0 fetch | run WORKER.properties CONNECTOR.properties..." ;;
esac
