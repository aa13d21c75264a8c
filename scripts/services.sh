#!/usr/bin/env bash
# Local backing services for the cachelock integration tests (no docker needed).
#
#   scripts/services.sh start|stop|restart|status [redis|cluster|sentinel|memcached[:PORT]|postgres|mariadb ...]
#   eval "$(scripts/services.sh env)"
#
# Everything binds 127.0.0.1 on non-default ports, so a developer's own servers are
# never touched, and all state lives under <repo>/.services/.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="$ROOT/.services"

REDIS_PORT="${CACHELOCK_TEST_REDIS_PORT:-6391}"
IFS=, read -r -a CLUSTER_PORTS <<<"${CACHELOCK_TEST_REDIS_CLUSTER_PORTS:-7101,7102,7103}"
IFS=, read -r -a MEMCACHED_PORTS <<<"${CACHELOCK_TEST_MEMCACHED_PORTS:-11311,11312}"
PG_PORT="${CACHELOCK_TEST_PG_PORT:-5439}"
PG_DB=cachelock_test
SENTINEL_BASE_PORT="${CACHELOCK_TEST_SENTINEL_BASE_PORT:-26391}"
MARIADB_PORT="${CACHELOCK_TEST_MARIADB_PORT:-3316}"
MARIADB_DB=cachelock_test
WAIT_SECS="${CACHELOCK_SERVICES_TIMEOUT:-30}"
ALL_SERVICES=(redis cluster sentinel memcached postgres mariadb)

say() { echo "services: $*" >&2; } # stderr, so `env` output stays eval-able
die() { say "error: $*"; exit 1; }
join() { local IFS=$1; shift; echo "$*"; }

# --- helpers -----------------------------------------------------------------

# Poll until "$@" succeeds: daemons fork before they bind, so "launched" != "answering".
wait_for() {
  local what=$1 logf=$2 deadline=$((SECONDS + WAIT_SECS))
  shift 2
  until "$@"; do
    if ((SECONDS >= deadline)); then
      say "error: $what did not answer within ${WAIT_SECS}s"
      [[ -f $logf ]] && { echo "--- last lines of $logf:" >&2; tail -n 25 "$logf" >&2; }
      exit 1
    fi
    sleep 0.1
  done
}

# Zombies still pass `kill -0`, and PID 1 in containers does not always reap them.
# /proc first: slim images often have no `ps` (procps).
alive() {
  local st
  kill -0 "$1" 2>/dev/null || return 1
  if [[ -r /proc/$1/stat ]]; then st=$(<"/proc/$1/stat"); st=${st##*) }; else st=$(ps -o stat= -p "$1"); fi
  [[ $st != Z* ]]
}
proc_args() { if [[ -r /proc/$1/cmdline ]]; then tr '\0' ' ' <"/proc/$1/cmdline"; else ps -o args= -p "$1"; fi; }

stop_pid() {
  local pid=$1 i
  kill "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do alive "$pid" || break; sleep 0.1; done
  if alive "$pid"; then say "pid $pid ignored SIGTERM, sending SIGKILL"; kill -9 "$pid" 2>/dev/null || true; fi
}

# Only kill the pid if it still looks like our daemon (pids get recycled). A daemon on one of
# these test ports that another checkout started has no pidfile here, yet `start` finds it
# answering and uses it: `stop` must stop it too, or tests that stop a server would find it up.
stop_pidfile() {
  local pidf=$1 pattern=$2 pid
  if [[ -f $pidf ]]; then
    pid=$(<"$pidf")
    if [[ $pid =~ ^[0-9]+$ ]] && alive "$pid" && [[ $(proc_args "$pid") == $pattern ]]; then stop_pid "$pid"; fi
    rm -f "$pidf"
  fi
  for pid in $(pids_matching "$pattern"); do
    say "stopping pid $pid ($(proc_args "$pid" | tr -s " " | sed "s/ *$//")), started outside this checkout"
    stop_pid "$pid"
  done
}

# Live daemons whose command line matches a stop pattern (which names the binary and test port).
pids_matching() {
  local dir pid
  for dir in /proc/[0-9]*; do
    pid=${dir#/proc/}
    [[ $pid == "$$" ]] && continue
    alive "$pid" && [[ $(proc_args "$pid" 2>/dev/null) == $1 ]] && echo "$pid"
  done
  return 0
}

# Daemons would inherit every fd of whoever ran us (our flock, a CI runner's pipes) and keep
# a caller waiting for EOF forever; give them only stdin/stdout/stderr.
detached() {
  (
    local f
    for f in /proc/self/fd/*; do
      f=${f##*/}
      [[ $f =~ ^[0-9]+$ ]] && ((f > 2)) && eval "exec $f>&-" 2>/dev/null || true
    done
    "$@"
  )
}

pg_bin() {
  local d
  for d in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -rV); do
    [[ -x $d/initdb && -x $d/pg_ctl ]] && { echo "$d"; return 0; }
  done
  d=$(command -v initdb 2>/dev/null) && [[ -x ${d%/*}/pg_ctl ]] && { echo "${d%/*}"; return 0; }
  return 1
}

# Install only what is missing; apt-get update only if something is.
ensure_binaries() {
  local pkgs=() svc
  for svc in "$@"; do
    case $svc in
      redis | cluster | sentinel) command -v redis-server >/dev/null && command -v redis-cli >/dev/null || pkgs+=(redis-server) ;;
      memcached) command -v memcached >/dev/null || pkgs+=(memcached) ;;
      postgres) pg_bin >/dev/null || pkgs+=(postgresql) ;;
      mariadb) mariadb_bins || pkgs+=(mariadb-server) ;;
    esac
  done
  ((${#pkgs[@]})) || return 0
  mapfile -t pkgs < <(printf '%s\n' "${pkgs[@]}" | sort -u)
  ((EUID == 0)) || die "missing packages: ${pkgs[*]} (run as root, or: sudo apt-get install ${pkgs[*]})"
  command -v apt-get >/dev/null || die "missing packages: ${pkgs[*]} and no apt-get to install them"
  say "installing ${pkgs[*]} with apt"
  # Without a policy-rc.d the packages' postinst would start redis/memcached/postgres
  # on their DEFAULT ports; containers usually ship one, add it temporarily if not.
  local policy=/usr/sbin/policy-rc.d added=0 rc=0
  if [[ ! -e $policy ]]; then printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod 755 "$policy"; added=1; fi
  { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${pkgs[@]}"; } >&2 || rc=$?
  ((added)) && rm -f "$policy"
  ((rc == 0)) || die "apt-get failed (exit $rc)"
}

# --- redis (standalone + cluster nodes) -----------------------------------------

redis_ping() { [[ $(timeout 2 redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null) == PONG ]]; }

# redis_launch <dir-name> <port> [extra redis args]; no persistence: tests own the data.
redis_launch() {
  local port=$2 dir="$STATE/$1"
  shift 2
  if redis_ping "$port"; then return 0; fi
  mkdir -p "$dir"
  detached redis-server --bind 127.0.0.1 --port "$port" --dir "$dir" --daemonize yes \
    --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --save '' --appendonly no "$@"
  wait_for "redis on :$port" "$dir/redis.log" redis_ping "$port"
}

start_redis() { redis_launch "redis-$REDIS_PORT" "$REDIS_PORT"; say "redis      up  127.0.0.1:$REDIS_PORT"; }
stop_redis() { stop_pidfile "$STATE/redis-$REDIS_PORT/redis.pid" "redis-server*:$REDIS_PORT*"; say "redis      stopped"; }

cluster_info() { timeout 2 redis-cli -h 127.0.0.1 -p "$1" cluster info 2>/dev/null; }
cluster_ok() { local p; for p in "${CLUSTER_PORTS[@]}"; do [[ $(cluster_info "$p") == *cluster_state:ok* ]] || return 1; done; }
cluster_field() { local info; info=$(cluster_info "$1"); info=${info#*"$2":}; echo "${info%%[$'\r\n']*}"; }
cluster_blank() {
  local p
  for p in "${CLUSTER_PORTS[@]}"; do [[ $(cluster_field "$p" cluster_slots_assigned) == 0 ]] || return 1; done
}
# Every node still knows all peers and all slots: a restart that will heal by itself.
cluster_intact() {
  local p
  for p in "${CLUSTER_PORTS[@]}"; do
    [[ $(cluster_field "$p" cluster_known_nodes) == "${#CLUSTER_PORTS[@]}" &&
      $(cluster_field "$p" cluster_slots_assigned) == 16384 ]] || return 1
  done
}

cluster_create() {
  local p addrs=() logf="$STATE/cluster-create.log"
  for p in "${CLUSTER_PORTS[@]}"; do addrs+=("127.0.0.1:$p"); done
  redis-cli --cluster create "${addrs[@]}" --cluster-replicas 0 --cluster-yes >"$logf" 2>&1 ||
    { tail -n 25 "$logf" >&2; die "redis-cli --cluster create failed (log: $logf)"; }
}

start_cluster() {
  local p
  for p in "${CLUSTER_PORTS[@]}"; do
    redis_launch "cluster-$p" "$p" --cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout 5000
  done
  # Restarted nodes re-join from their nodes.conf (~2 s, redis' rejoin delay). Anything
  # else half-formed (e.g. one node's dir wiped) is rebuilt: the data is disposable.
  if ! cluster_ok && ! cluster_intact; then
    if ! cluster_blank; then
      say "cluster state inconsistent, resetting it"
      for p in "${CLUSTER_PORTS[@]}"; do
        redis-cli -p "$p" flushall >/dev/null && redis-cli -p "$p" cluster reset hard >/dev/null
      done
    fi
    cluster_create
  fi
  wait_for "redis cluster (cluster_state:ok)" "$STATE/cluster-create.log" cluster_ok
  say "cluster    up  127.0.0.1:$(join , "${CLUSTER_PORTS[@]}")"
}

stop_cluster() {
  local p
  for p in "${CLUSTER_PORTS[@]}"; do stop_pidfile "$STATE/cluster-$p/redis.pid" "redis-server*:$p*"; done
  say "cluster    stopped"
}

# --- redis sentinel (a primary, a replica and one Sentinel) ------------------------
#
# Sentinel on SENTINEL_BASE_PORT; the two data nodes on the next two ports. Which node is the
# primary changes when a test kills it and Sentinel promotes the other, so `start` asks Sentinel
# for the current primary and brings a missing node back as its replica. Timeouts are short so a
# failover takes a few seconds: the primary is declared down after 1 s without an answer.

SENTINEL_MASTER=cachelock-test
SENTINEL_NODES=("$((SENTINEL_BASE_PORT + 1))" "$((SENTINEL_BASE_PORT + 2))")
SENTINEL_DIR="$STATE/sentinel-$SENTINEL_BASE_PORT"

sentinel_cli() { timeout 2 redis-cli -h 127.0.0.1 -p "$SENTINEL_BASE_PORT" "$@" 2>/dev/null; }
# The port Sentinel names as the primary (it may name a dead one until it has failed over).
sentinel_primary() { local out; out=$(sentinel_cli sentinel get-master-addr-by-name "$SENTINEL_MASTER") && [[ -n $out ]] && echo "${out##*$'\n'}"; }
node_info() { timeout 2 redis-cli -h 127.0.0.1 -p "$1" info replication 2>/dev/null | tr -d '\r'; }

# The trio is usable: Sentinel's primary answers as a primary, every node is its replica with a
# live link, and Sentinel knows each replica (it finds them in the primary's INFO, up to 10 s
# after they attach), so a failover has a replica to promote.
sentinel_ok() {
  local primary port known
  primary=$(sentinel_primary) || return 1
  [[ $(node_info "$primary") == *role:master* ]] || return 1
  known=$(sentinel_cli sentinel replicas "$SENTINEL_MASTER" | tr '\n' ' ')
  for port in "${SENTINEL_NODES[@]}"; do
    [[ $port == "$primary" ]] && continue
    [[ $(node_info "$port") == *master_port:$primary*master_link_status:up* ]] || return 1
    [[ $known == *" $port "* && $known != *s_down* && $known != *disconnected* ]] || return 1
  done
}

sentinel_node_launch() { # port [replicaof-port]
  local port=$1 args=(--repl-diskless-sync yes --repl-diskless-sync-delay 0)
  [[ -n ${2:-} ]] && args+=(--replicaof 127.0.0.1 "$2")
  redis_launch "sentinel-node-$port" "$port" "${args[@]}"
}

sentinel_fresh() {
  local primary=${SENTINEL_NODES[0]} replica=${SENTINEL_NODES[1]}
  stop_pidfile "$SENTINEL_DIR/sentinel.pid" "redis-server*:$SENTINEL_BASE_PORT*"
  sentinel_node_launch "$primary"
  redis-cli -p "$primary" replicaof no one >/dev/null
  sentinel_node_launch "$replica" "$primary"
  redis-cli -p "$replica" replicaof 127.0.0.1 "$primary" >/dev/null
  mkdir -p "$SENTINEL_DIR"
  # Sentinel rewrites this file with what it learns (replicas, failovers): a fresh one each time.
  cat >"$SENTINEL_DIR/sentinel.conf" <<CONF
port $SENTINEL_BASE_PORT
bind 127.0.0.1
daemonize yes
pidfile $SENTINEL_DIR/sentinel.pid
logfile $SENTINEL_DIR/sentinel.log
dir $SENTINEL_DIR
sentinel monitor $SENTINEL_MASTER 127.0.0.1 $primary 1
sentinel down-after-milliseconds $SENTINEL_MASTER 1000
sentinel failover-timeout $SENTINEL_MASTER 5000
sentinel parallel-syncs $SENTINEL_MASTER 1
CONF
  detached redis-server "$SENTINEL_DIR/sentinel.conf" --sentinel
  wait_for "redis sentinel on :$SENTINEL_BASE_PORT" "$SENTINEL_DIR/sentinel.log" redis_ping "$SENTINEL_BASE_PORT"
}

start_sentinel() {
  local primary port
  if redis_ping "$SENTINEL_BASE_PORT" && primary=$(sentinel_primary) && redis_ping "$primary"; then
    # After a failover the old primary is down: bring it back as the new primary's replica.
    for port in "${SENTINEL_NODES[@]}"; do
      [[ $port == "$primary" ]] || redis_ping "$port" || sentinel_node_launch "$port" "$primary"
    done
    # Never rebuilt from here: a test may be holding locks on the current primary. A trio that
    # does not settle (nodes reconfigured by hand) fails below; `restart sentinel` starts over.
  else
    # First start, or no usable primary (both nodes gone, Sentinel gone): start over.
    sentinel_fresh
  fi
  # Sentinel only promotes a replica whose INFO it read within the last 5 s, and reads it every
  # 10 s until the primary is down: a failover could then be refused and retried 10 s later.
  sentinel_cli sentinel debug info-period 1000 >/dev/null
  wait_for "redis sentinel trio (primary, replica, Sentinel)" "$SENTINEL_DIR/sentinel.log" sentinel_ok
  say "sentinel   up  127.0.0.1:$SENTINEL_BASE_PORT ($SENTINEL_MASTER: primary :$(sentinel_primary), nodes :$(join , "${SENTINEL_NODES[@]}"))"
}

stop_sentinel() {
  local port
  # Sentinel first, or it would fail over while the primary stops.
  stop_pidfile "$SENTINEL_DIR/sentinel.pid" "redis-server*:$SENTINEL_BASE_PORT*"
  for port in "${SENTINEL_NODES[@]}"; do stop_pidfile "$STATE/sentinel-node-$port/redis.pid" "redis-server*:$port*"; done
  say "sentinel   stopped"
}

# --- memcached -------------------------------------------------------------------

memcached_ping() {
  timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" && printf "version\r\n" >&3 &&
    IFS= read -r line <&3 && [[ $line == VERSION* ]]' _ "$1" 2>/dev/null
}

start_memcached() {
  local port dir user=()
  # memcached refuses to run as root without -u; `nobody` would need write access to
  # the pidfile dir inside the repo, so keep root (it only listens on loopback).
  ((EUID == 0)) && user=(-u root)
  for port in "${MEMCACHED_PORTS[@]}"; do
    dir="$STATE/memcached-$port"
    if ! memcached_ping "$port"; then
      mkdir -p "$dir"
      # -v keeps stderr open after -d, so bind errors land in the log instead of /dev/null.
      detached memcached -l 127.0.0.1 -p "$port" -U 0 -m 64 -d -v -P "$dir/memcached.pid" "${user[@]}" \
        </dev/null >>"$dir/memcached.log" 2>&1
      wait_for "memcached on :$port" "$dir/memcached.log" memcached_ping "$port"
    fi
    say "memcached  up  127.0.0.1:$port"
  done
}

stop_memcached() {
  local port
  for port in "${MEMCACHED_PORTS[@]}"; do
    stop_pidfile "$STATE/memcached-$port/memcached.pid" "memcached*-p $port *"
    say "memcached  stopped :$port"
  done
}

# --- postgres --------------------------------------------------------------------

# initdb/pg_ctl refuse to run as root, so as root they run as the `postgres` user.
as_pg() { if ((EUID == 0)); then (cd / && runuser -u postgres -- "$@"); else "$@"; fi; }
pg_ready() { "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -t 2 2>/dev/null; }

# Where the cluster lives: .services/pg, unless the postgres user cannot reach it (repo
# under a private home dir) or the socket path would exceed the ~107-byte unix limit;
# then a per-repo dir in /tmp. The choice is recorded so stop/status find it.
pg_locate() {
  PG_BASE="$STATE/pg"
  if [[ -f $STATE/pg.base ]]; then PG_BASE=$(<"$STATE/pg.base"); fi
}

pg_prepare_base() {
  pg_locate
  [[ -f $PG_BASE/data/PG_VERSION ]] && return 0
  PG_BASE="$STATE/pg"
  mkdir -p "$PG_BASE"
  if ((EUID == 0)); then
    id postgres >/dev/null 2>&1 || die "no 'postgres' system user to run PostgreSQL as (apt-get install postgresql creates it)"
    chown postgres: "$PG_BASE"
  fi
  chmod 700 "$PG_BASE"
  if ! as_pg test -w "$PG_BASE" -a -x "$PG_BASE" || ((${#PG_BASE} > 80)); then
    PG_BASE="/tmp/cachelock-pg-$(printf %s "$ROOT" | sha256sum | cut -c1-12)"
    say "postgres   cannot use $STATE/pg (not reachable by user postgres or path too long), using $PG_BASE"
    mkdir -p "$PG_BASE"
    ((EUID == 0)) && chown postgres: "$PG_BASE"
    chmod 700 "$PG_BASE"
  fi
  echo "$PG_BASE" >"$STATE/pg.base"
}

start_postgres() {
  PG_BIN=$(pg_bin) || die "PostgreSQL server binaries (initdb, pg_ctl) not found"
  if ! pg_ready; then
    pg_prepare_base
    local data="$PG_BASE/data" logf="$PG_BASE/postgres.log"
    if [[ ! -f $data/PG_VERSION ]]; then
      as_pg "$PG_BIN/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --locale=C -N \
        >"$STATE/pg-initdb.log" 2>&1 || { tail -n 25 "$STATE/pg-initdb.log" >&2; die "initdb failed"; }
    fi
    as_pg mkdir -p "$PG_BASE/run"
    # Throwaway test cluster: durability off for speed; port/socket given at start so
    # the env overrides apply without editing postgresql.conf.
    detached as_pg "$PG_BIN/pg_ctl" -D "$data" -l "$logf" -w -t "$WAIT_SECS" -o \
      "-c listen_addresses=127.0.0.1 -p $PG_PORT -k '$PG_BASE/run' -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
      start >/dev/null 2>&1 || { tail -n 25 "$logf" >&2 || true; die "pg_ctl start failed (log: $logf)"; }
    wait_for "postgres on :$PG_PORT" "$logf" pg_ready
  fi
  local psql=("$PG_BIN/psql" -X -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1)
  if [[ $("${psql[@]}" -tAc "select 1 from pg_database where datname = '$PG_DB'") != 1 ]]; then
    "${psql[@]}" -c "create database $PG_DB" >/dev/null
  fi
  say "postgres   up  127.0.0.1:$PG_PORT/$PG_DB"
}

stop_postgres() {
  pg_locate
  local data="$PG_BASE/data"
  if [[ -f $data/postmaster.pid ]] && PG_BIN=$(pg_bin) && as_pg "$PG_BIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    as_pg "$PG_BIN/pg_ctl" -D "$data" -m fast -w -t "$WAIT_SECS" stop >/dev/null || die "pg_ctl stop failed (log: $PG_BASE/postgres.log)"
  fi
  say "postgres   stopped"
}

# --- mariadb ---------------------------------------------------------------------

# Debian's mariadb-server (10.11); mariadbd lives in /usr/sbin, which a non-root PATH may lack.
mariadb_bins() {
  MARIADBD=$(command -v mariadbd || command -v /usr/sbin/mariadbd) 2>/dev/null &&
    command -v mariadb-install-db >/dev/null && command -v mariadb-admin >/dev/null && command -v mariadb >/dev/null
}
mariadb_dir() { echo "$STATE/mariadb-$MARIADB_PORT"; }
mariadb_ready() { timeout 2 mariadb-admin --no-defaults -h 127.0.0.1 -P "$MARIADB_PORT" -u root --connect-timeout=2 ping >/dev/null 2>&1; }

start_mariadb() {
  mariadb_bins || die "MariaDB server binaries (mariadbd, mariadb-install-db) not found"
  local dir data logf user=()
  dir=$(mariadb_dir)
  data="$dir/data" logf="$dir/mariadb.log"
  if ! mariadb_ready; then
    mkdir -p "$dir"
    # Without systemd, as root: a private data dir owned by whoever runs this (`--user=root` lets
    # mariadbd run as root; it only listens on loopback), root allowed by password-less TCP login.
    ((EUID == 0)) && user=(--user=root)
    if [[ ! -d $data/mysql ]]; then
      mariadb-install-db --no-defaults "${user[@]}" --datadir="$data" --auth-root-authentication-method=normal \
        --skip-test-db >"$dir/install.log" 2>&1 || { tail -n 25 "$dir/install.log" >&2; die "mariadb-install-db failed"; }
    fi
    # Throwaway test server: durability off for speed; no binary log. mariadbd cannot daemonize
    # itself: `setsid -f` forks it off, so nothing of ours (our flock, a caller's pipes) waits on it.
    detached setsid -f "$MARIADBD" --no-defaults "${user[@]}" --datadir="$data" --port="$MARIADB_PORT" --bind-address=127.0.0.1 \
      --socket="$dir/mariadb.sock" --pid-file="$dir/mariadb.pid" --log-error="$logf" --skip-log-bin \
      --innodb-flush-log-at-trx-commit=0 --innodb-buffer-pool-size=64M --max-connections=500 </dev/null >/dev/null 2>&1
    wait_for "mariadb on :$MARIADB_PORT" "$logf" mariadb_ready
  fi
  timeout 10 mariadb --no-defaults -h 127.0.0.1 -P "$MARIADB_PORT" -u root -e "create database if not exists $MARIADB_DB" ||
    die "could not create database $MARIADB_DB on :$MARIADB_PORT"
  say "mariadb    up  127.0.0.1:$MARIADB_PORT/$MARIADB_DB"
}

stop_mariadb() {
  stop_pidfile "$(mariadb_dir)/mariadb.pid" "*mariadbd*--port=$MARIADB_PORT *"
  say "mariadb    stopped"
}

# --- status / env ------------------------------------------------------------------

status_line() { # name addr check...
  local name=$1 addr=$2
  shift 2
  if "$@"; then printf '%-10s %-22s up\n' "$name" "$addr"; else printf '%-10s %-22s DOWN\n' "$name" "$addr"; return 1; fi
}

status() {
  local svc p rc=0
  for svc in "${SELECTED[@]}"; do
    case $svc in
      redis) status_line redis "127.0.0.1:$REDIS_PORT" redis_ping "$REDIS_PORT" || rc=1 ;;
      cluster)
        for p in "${CLUSTER_PORTS[@]}"; do status_line cluster "127.0.0.1:$p" redis_ping "$p" || rc=1; done
        status_line cluster "cluster_state:ok" cluster_ok || rc=1 ;;
      sentinel) status_line sentinel "127.0.0.1:$SENTINEL_BASE_PORT" sentinel_ok || rc=1 ;;
      memcached) for p in "${MEMCACHED_PORTS[@]}"; do status_line memcached "127.0.0.1:$p" memcached_ping "$p" || rc=1; done ;;
      postgres)
        PG_BIN=$(pg_bin) || PG_BIN=/nonexistent
        status_line postgres "127.0.0.1:$PG_PORT" pg_ready || rc=1 ;;
      mariadb) status_line mariadb "127.0.0.1:$MARIADB_PORT" mariadb_ready || rc=1 ;;
    esac
  done
  return $rc
}

print_env() {
  local p cluster=() mc=()
  for p in "${CLUSTER_PORTS[@]}"; do cluster+=("127.0.0.1:$p"); done
  for p in "${MEMCACHED_PORTS[@]}"; do mc+=("127.0.0.1:$p"); done
  echo "export CACHELOCK_TEST_REDIS_URL=redis://127.0.0.1:$REDIS_PORT"
  echo "export CACHELOCK_TEST_REDIS_CLUSTER_URL=redis+cluster://$(join , "${cluster[@]}")"
  echo "export CACHELOCK_TEST_REDIS_SENTINEL_URL=redis+sentinel://127.0.0.1:$SENTINEL_BASE_PORT/$SENTINEL_MASTER"
  echo "export CACHELOCK_TEST_MEMCACHED_URL=memcached://$(join , "${mc[@]}")"
  echo "export CACHELOCK_TEST_MEMCACHED_URL_ONE=memcached://${mc[0]}"
  echo "export CACHELOCK_TEST_PG_URL=postgresql://postgres@127.0.0.1:$PG_PORT/$PG_DB"
  echo "export CACHELOCK_TEST_MYSQL_URL=mysql://root@127.0.0.1:$MARIADB_PORT/$MARIADB_DB"
}

# --- main -------------------------------------------------------------------------

usage() { die "usage: $0 start|stop|restart|status|env [redis|cluster|sentinel|memcached[:PORT]|postgres|mariadb ...]"; }

# Sets SELECTED; `memcached:PORT` narrows memcached to one instance (tests kill one of two).
select_services() {
  SELECTED=()
  local arg mc=()
  (($#)) || set -- "${ALL_SERVICES[@]}"
  for arg in "$@"; do
    case $arg in
      redis) SELECTED+=(redis) ;;
      cluster | redis-cluster) SELECTED+=(cluster) ;;
      sentinel | redis-sentinel) SELECTED+=(sentinel) ;;
      memcached | memcache) SELECTED+=(memcached); mc+=("${MEMCACHED_PORTS[@]}") ;;
      memcached:[0-9]*) SELECTED+=(memcached); mc+=("${arg#*:}") ;;
      postgres | postgresql | pg) SELECTED+=(postgres) ;;
      mariadb | mysql) SELECTED+=(mariadb) ;;
      *) usage ;;
    esac
  done
  ((${#mc[@]})) && mapfile -t MEMCACHED_PORTS < <(printf '%s\n' "${mc[@]}" | sort -un)
  mapfile -t SELECTED < <(printf '%s\n' "${SELECTED[@]}" | awk '!seen[$0]++')
}

main() {
  local cmd=${1:-} svc
  (($#)) && shift
  case $cmd in
    env) print_env; return ;;
    status) select_services "$@"; status; return ;;
    start | stop | restart) select_services "$@" ;;
    *) usage ;;
  esac
  mkdir -p "$STATE"
  # Serialize concurrent invocations (e.g. two test runs both starting the cluster).
  if command -v flock >/dev/null; then
    exec 9>"$STATE/.lock"
    flock -w 120 9 || die "another services.sh is still running (lock $STATE/.lock)"
  fi
  if [[ $cmd == stop || $cmd == restart ]]; then
    for svc in "${SELECTED[@]}"; do "stop_$svc"; done
  fi
  if [[ $cmd == start || $cmd == restart ]]; then
    ensure_binaries "${SELECTED[@]}"
    for svc in "${SELECTED[@]}"; do "start_$svc"; done
  fi
}

main "$@"
