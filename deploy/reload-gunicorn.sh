#!/usr/bin/env bash
# Deploy new code to a running gunicorn without refusing or stalling a request
# (deploy/README.md, "Reloading the app servers").
#
#   deploy/reload-gunicorn.sh PIDFILE [HEALTH_URL]
#
# PIDFILE is the pid file of a master started with config/gunicorn.conf.py and GUNICORN_PIDFILE.
# USR2 makes that master start a new one with the new code (gunicorn's binary upgrade): the new
# master imports the app (preload_app), writes PIDFILE.2 and forks its workers on the same
# listening socket, while the old workers go on answering. Once the new workers are up and HEALTH_URL answers, TERM stops the
# old master gracefully (its workers finish the requests they hold) and the new master takes over
# PIDFILE.
#
# Exit 0: the new master serves and the old one has exited. Exit 1: the new master died, or did not
# answer within RELOAD_TIMEOUT; it is stopped and the old master serves on, untouched.
#
# Environment (all optional):
#   HEALTH_URL           where to ask, if not the second argument; by default /healthz at the
#                        address config/gunicorn.conf.py binds: GUNICORN_BIND, or HOST:PORT
#                        (127.0.0.1:8000)
#   HEALTH_HOST          the Host header to send, when ALLOWED_HOSTS does not list that address
#   RELOAD_TIMEOUT       seconds the new master has to answer (default 60)
#   RELOAD_STOP_TIMEOUT  seconds the old master has to finish its requests and exit (default 40;
#                        gunicorn's graceful_timeout is 20)
set -euo pipefail

log() { printf '%s reload-gunicorn: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() {
  log "$*"
  exit 1
}

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  echo "usage: $0 PIDFILE [HEALTH_URL]" >&2
  exit 2
fi
pidfile=$1
reload_timeout=${RELOAD_TIMEOUT:-60}
stop_timeout=${RELOAD_STOP_TIMEOUT:-40}
checks=3 # answers in a row, workers unchanged, before the new master is trusted

url=${2:-${HEALTH_URL:-}}
curl_args=(--silent --output /dev/null --write-out '%{http_code}' --max-time 2)
if [ -z "$url" ]; then
  bind=${GUNICORN_BIND:-${HOST:-127.0.0.1}:${PORT:-8000}}
  case $bind in
  unix:*)
    curl_args+=(--unix-socket "${bind#unix:}")
    url=http://localhost/healthz
    ;;
  *)
    host=${bind%:*}
    case $host in
    0.0.0.0 | "") host=127.0.0.1 ;;
    "[::]") host="[::1]" ;;
    esac
    url="http://$host:${bind##*:}/healthz"
    ;;
  esac
fi
if [ -n "${HEALTH_HOST:-}" ]; then
  curl_args+=(--header "Host: $HEALTH_HOST")
fi

# A process that has exited but not been reaped by its parent yet (a zombie) is gone.
running() {
  local state
  state=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
  [[ $state != Z* ]]
}
children() { ps -o pid= --ppid "$1" 2>/dev/null | tr -d ' ' | sort || true; }
healthy() { [ "$(curl "${curl_args[@]}" "$url" 2>/dev/null)" = 200 ]; }

# Stop what was started of a new master, leave the old one as it was, and fail.
give_up() {
  local reason=$1
  shift
  local pid
  if [ $# -gt 0 ]; then
    log "$reason: stopping the new master ($*)"
    kill -TERM "$@" 2>/dev/null || true
    local deadline=$((SECONDS + stop_timeout))
    for pid in "$@"; do
      while running "$pid" && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
      if running "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
    done
  else
    log "$reason (gunicorn's log says why)"
  fi
  # A new master that failed in its start leaves PIDFILE.2 behind.
  if [ -s "$pidfile.2" ] && ! running "$(<"$pidfile.2")"; then rm -f "$pidfile.2"; fi
  log "the old master $old serves on"
  exit 1
}

command -v curl >/dev/null || die "curl is needed for the health check"
[ -s "$pidfile" ] || die "no pid file at $pidfile (is GUNICORN_PIDFILE set for gunicorn?)"
old=$(<"$pidfile")
running "$old" || die "no master runs as $old (from $pidfile)"
if [ -s "$pidfile.2" ] && running "$(<"$pidfile.2")"; then
  die "a new master already runs as $(<"$pidfile.2") ($pidfile.2): a reload is under way"
fi
healthy || log "warning: $url does not answer 200 before the reload"

workers=$(children "$old")
log "USR2 to the master $old: a new master with the new code, on the same socket"
kill -USR2 "$old"
asked=$SECONDS
deadline=$((asked + reload_timeout))

# The new master imports the app, then writes PIDFILE.2. Until then it is only a new child of the
# old master: once none is left, it has died.
new=""
seen=0
while [ -z "$new" ]; do
  written=$(cat "$pidfile.2" 2>/dev/null || true)
  if [ -n "$written" ] && running "$written"; then
    new=$written
    break
  fi
  started=$(comm -13 <(echo "$workers") <(children "$old"))
  if [ -n "$started" ]; then
    seen=1
  elif [ $seen = 1 ] || [ $((SECONDS - asked)) -ge 5 ]; then
    give_up "the new master exited before it served"
  fi
  # Stops the new master (and, should the old one have replaced a worker meanwhile, that worker,
  # gracefully: the old master starts another).
  # shellcheck disable=SC2086 # one pid a word
  [ $SECONDS -lt $deadline ] || give_up "no new master within ${reload_timeout}s" $started
  sleep 0.2
done
log "new master $new: waiting for its workers to answer $url"

# It answered /healthz itself before forking them (config/gunicorn.conf.py). Its workers must be
# there, the same ones for a few checks in a row, and the address must answer.
ok=0
last=""
while [ $ok -lt $checks ]; do
  running "$new" || give_up "the new master $new exited"
  [ $SECONDS -lt $deadline ] || give_up "no healthy answer within ${reload_timeout}s" "$new"
  now=$(children "$new")
  if [ -n "$now" ] && [ "$now" = "$last" ] && healthy; then
    ok=$((ok + 1))
  else
    ok=0
  fi
  last=$now
  sleep 0.2
done

log "TERM to the old master $old: its workers finish what they hold, then exit"
kill -TERM "$old"
deadline=$((SECONDS + stop_timeout))
# The new master renames PIDFILE.2 to PIDFILE once it sees the old one gone.
while running "$old" || [ "$(cat "$pidfile" 2>/dev/null)" != "$new" ]; do
  running "$new" || die "the new master $new exited while the old one stopped"
  [ $SECONDS -lt $deadline ] || die "the old master $old has not exited within ${stop_timeout}s"
  sleep 0.2
done
log "done: the master is now $new"
