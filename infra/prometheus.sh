#!/usr/bin/env bash
# A local Prometheus (Debian's package) scraping CP-IS's processes, with CP-IS's alert rules.
#   infra/prometheus.sh start    install the package once, start on 127.0.0.1 (free port)
#   infra/prometheus.sh stop | status
# It scrapes every second whatever `.infra/prometheus/targets/*.json` lists (file-based
# discovery: write a file there and it is scraped within seconds), job "cpis". Debian's
# package also installs a service; it is not used. After start, `. .infra/prometheus/env`
# exports CPIS_PROMETHEUS_URL and CPIS_PROMETHEUS_TARGETS.
set -euo pipefail
. "$(dirname "$0")/common.sh"

state="$CPIS_INFRA/prometheus"
envfile="$state/env"

is_running() { [ -f "$envfile" ] && [ -f "$state/pid" ] && kill -0 "$(cat "$state/pid")" 2>/dev/null; }

ready() { curl -fs "http://127.0.0.1:$1/-/ready" >/dev/null; }

config() {
  cat >"$state/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  evaluation_interval: 5s
rule_files: ["$CPIS_ROOT/infra/prometheus/alerts.yml"]
scrape_configs:
  - job_name: cpis
    file_sd_configs: [{files: ["$state/targets/*.json"]}]
YML
}

start() {
  mkdir -p "$state/targets" "$state/data"
  if is_running; then . "$envfile"; log "already running at $CPIS_PROMETHEUS_URL"; return 0; fi
  command -v prometheus >/dev/null || apt_install prometheus
  local port; port=$(free_port)
  config
  nohup prometheus --config.file="$state/prometheus.yml" --storage.tsdb.path="$state/data" \
    --web.listen-address="127.0.0.1:$port" >>"$state/prometheus.log" 2>&1 &
  echo $! >"$state/pid"
  if ! wait_for 60 "Prometheus on 127.0.0.1:$port" ready "$port"; then
    tail -n 20 "$state/prometheus.log" >&2
    die "Prometheus did not start (log: $state/prometheus.log)"
  fi
  printf 'export CPIS_PROMETHEUS_URL=http://127.0.0.1:%s\nexport CPIS_PROMETHEUS_TARGETS=%s\n' \
    "$port" "$state/targets" >"$envfile"
}

stop() { if [ -f "$state/pid" ]; then stop_pidfile "$state/pid"; fi; rm -f "$envfile"; log "Prometheus stopped"; }

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) if is_running; then . "$envfile"; echo "running at $CPIS_PROMETHEUS_URL"; else echo "stopped"; exit 1; fi ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
