#!/usr/bin/env bash
# Local Neo4j Community 5.26 for memos-graph, without Docker.
#
# Neo4j publishes no tar.gz distribution on Maven Central, so the server's jars are resolved from
# Maven Central (scripts/neo4j/pom.xml) and its real entry point, org.neo4j.server.CommunityEntryPoint,
# is started with a neo4j.conf written here. Everything lives in a cache directory outside git.
#
#   scripts/neo4j.sh install   resolve the jars (idempotent)
#   scripts/neo4j.sh start     install, set the password on first start, start, wait until Bolt answers
#   scripts/neo4j.sh stop      stop the server this script started
#   scripts/neo4j.sh status    running or not, and where; the store's size and the page cache it needs
#   scripts/neo4j.sh env       print NEO4J_URI / NEO4J_USER / NEO4J_PASSWORD exports for eval
#   scripts/neo4j.sh wipe      stop and delete the local database (the jars stay)
#
# Settings (environment): MEMOS_GRAPH_CACHE (default ~/.cache/memos-graph), NEO4J_VERSION,
# NEO4J_BOLT_PORT (7687), NEO4J_HTTP_PORT (7474), NEO4J_HEAP (1g), NEO4J_PAGECACHE (1g),
# NEO4J_START_TIMEOUT seconds (120).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${MEMOS_GRAPH_CACHE:-$HOME/.cache/memos-graph}"
version="${NEO4J_VERSION:-5.26.30}"
bolt_port="${NEO4J_BOLT_PORT:-7687}"
http_port="${NEO4J_HTTP_PORT:-7474}"
lib_dir="$cache/neo4j-$version/lib"
home="$cache/neo4j-home-$bolt_port"
pid_file="$home/run/neo4j.pid"
password_file="$home/password"

log() { echo "[neo4j] $*" >&2; }

install() {
  if [ -f "$lib_dir/.complete" ]; then
    return 0
  fi
  command -v java >/dev/null || { log "java (17+) is required"; exit 1; }
  command -v mvn >/dev/null || { log "maven is required to fetch Neo4j from Maven Central"; exit 1; }
  log "resolving Neo4j Community $version from Maven Central into $lib_dir"
  rm -rf "$lib_dir.partial"
  mkdir -p "$(dirname "$lib_dir")"
  mvn -q -B -f "$here/neo4j/pom.xml" dependency:copy-dependencies \
    -Dneo4j.version="$version" -DoutputDirectory="$lib_dir.partial" -DincludeScope=runtime >&2
  rm -rf "$lib_dir"
  mv "$lib_dir.partial" "$lib_dir"
  touch "$lib_dir/.complete"
}

write_conf() {
  mkdir -p "$home/conf" "$home/data" "$home/logs" "$home/run" "$home/plugins" "$home/import"
  cat > "$home/conf/neo4j.conf" <<EOF
# written by scripts/neo4j.sh; edits are overwritten on the next start
server.default_listen_address=127.0.0.1
server.bolt.listen_address=127.0.0.1:$bolt_port
server.http.listen_address=127.0.0.1:$http_port
server.https.enabled=false
server.memory.heap.initial_size=${NEO4J_HEAP:-1g}
server.memory.heap.max_size=${NEO4J_HEAP:-1g}
server.memory.pagecache.size=${NEO4J_PAGECACHE:-1g}
dbms.security.auth_enabled=true
dbms.usage_report.enabled=false
db.transaction.timeout=60s
EOF
}

running_pid() {
  if [ -f "$pid_file" ]; then
    local pid
    pid="$(cat "$pid_file")"
    if kill -0 "$pid" 2>/dev/null; then
      echo "$pid"
      return 0
    fi
  fi
  return 1
}

bolt_answers() { (exec 3<>"/dev/tcp/127.0.0.1/$bolt_port") 2>/dev/null; }

java_opts=(
  --add-opens=java.base/java.nio=ALL-UNNAMED
  --add-opens=java.base/sun.nio.ch=ALL-UNNAMED
  --add-opens=java.base/java.io=ALL-UNNAMED
  --add-opens=java.base/java.lang=ALL-UNNAMED
  --add-opens=java.base/java.lang.invoke=ALL-UNNAMED
  --add-opens=java.base/java.util=ALL-UNNAMED
  --add-opens=java.base/java.util.concurrent=ALL-UNNAMED
  --add-opens=java.base/java.net=ALL-UNNAMED
  --add-opens=java.base/jdk.internal.misc=ALL-UNNAMED
  --add-opens=java.base/sun.net.www.protocol.http=ALL-UNNAMED
  -XX:+UseG1GC -XX:-OmitStackTraceInFastThrow -XX:+DisableExplicitGC
  -Dfile.encoding=UTF-8
)

start() {
  install
  if pid="$(running_pid)"; then
    log "already running (pid $pid) on bolt://127.0.0.1:$bolt_port"
    return 0
  fi
  if bolt_answers; then
    log "port $bolt_port is taken by another process; set NEO4J_BOLT_PORT or NEO4J_URI"
    exit 1
  fi
  write_conf
  export NEO4J_HOME="$home" NEO4J_CONF="$home/conf"
  if [ ! -f "$password_file" ]; then
    umask 077
    head -c 18 /dev/urandom | base64 | tr -d '/+=' > "$password_file"
    java -cp "$lib_dir/*" org.neo4j.cli.AdminTool dbms set-initial-password "$(cat "$password_file")" \
      >"$home/logs/set-password.log" 2>&1 || { log "setting the password failed:"; cat "$home/logs/set-password.log" >&2; rm -f "$password_file"; exit 1; }
  fi
  log "starting Neo4j $version on bolt://127.0.0.1:$bolt_port (home $home)"
  nohup java -Xms"${NEO4J_HEAP:-1g}" -Xmx"${NEO4J_HEAP:-1g}" "${java_opts[@]}" -cp "$lib_dir/*" \
    org.neo4j.server.CommunityEntryPoint --home-dir="$home" --config-dir="$home/conf" \
    >"$home/logs/console.log" 2>&1 </dev/null &
  echo $! > "$pid_file"
  local deadline=$((SECONDS + ${NEO4J_START_TIMEOUT:-120}))
  until bolt_answers; do
    if ! running_pid >/dev/null; then
      log "Neo4j exited during start; last lines of its logs:"
      tail -n 30 "$home/logs/console.log" "$home/logs/neo4j.log" >&2 2>/dev/null || true
      exit 1
    fi
    if [ $SECONDS -ge $deadline ]; then
      log "Bolt did not answer within ${NEO4J_START_TIMEOUT:-120}s"
      exit 1
    fi
    sleep 1
  done
  log "ready"
}

stop() {
  if pid="$(running_pid)"; then
    kill "$pid"
    for _ in $(seq 1 60); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 1
    done
    kill -9 "$pid" 2>/dev/null || true
    log "stopped"
  else
    log "not running"
  fi
  rm -f "$pid_file"
}

# The store against the page cache: searches read vectors and postings through the page cache, and a store
# larger than it is read from disk (bench/results/scale.md: 1M memories, a 9.9 GB store, 2 GB of cache).
# Suggests NEO4J_PAGECACHE as the store plus a fifth for growth, in whole GB (at least 1g).
sizing() {
  local store_dir="$home/data/databases/neo4j" configured bytes suggested
  configured="$(sed -n 's/^server.memory.pagecache.size=//p' "$home/conf/neo4j.conf" 2>/dev/null || true)"
  bytes="$(du -sb "$store_dir" 2>/dev/null | cut -f1 || true)"
  [ -n "$bytes" ] || return 0
  suggested=$(( (bytes * 6 / 5 + 1073741823) / 1073741824 ))
  [ "$suggested" -ge 1 ] || suggested=1
  echo "store $(( bytes / 1048576 )) MB ($store_dir); page cache ${configured:-?}; NEO4J_PAGECACHE=${suggested}g holds it with a fifth to grow (set it before start; heap is NEO4J_HEAP)"
}

status() {
  if pid="$(running_pid)"; then
    echo "running pid=$pid bolt://127.0.0.1:$bolt_port http://127.0.0.1:$http_port version=$version home=$home"
    sizing
  else
    echo "stopped (home=$home)"
    return 3
  fi
}

print_env() {
  [ -f "$password_file" ] || { log "no password yet: run '$0 start' first"; exit 1; }
  echo "export NEO4J_URI=bolt://127.0.0.1:$bolt_port"
  echo "export NEO4J_USER=neo4j"
  echo "export NEO4J_PASSWORD=$(cat "$password_file")"
}

wipe() {
  stop
  rm -rf "$home"
  log "deleted $home"
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  status) status ;;
  env) print_env ;;
  wipe) wipe ;;
  *) echo "usage: $0 install|start|stop|status|env|wipe" >&2; exit 2 ;;
esac
