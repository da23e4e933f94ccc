#!/usr/bin/env bash
# Throwaway PostgreSQL and MariaDB servers for the tests: the RDS stand-ins of
# the preflight handshake and the import job's sources.
#
#   scripts/test-databases.sh run CMD [ARGS...]
#
# starts both servers in a new temporary directory, on free 127.0.0.1 ports,
# with TLS (a test CA made for this run), runs CMD with their addresses in
# the environment, and stops them and removes the directory when CMD ends,
# fails or is interrupted. The machine's own database servers, their
# configuration, roles and data are never touched.
#
# As an ordinary user the servers run as that user. As root (CI) they run as
# the unprivileged `postgres` and `mysql` users that the Debian packages
# create, because PostgreSQL refuses to run as root.
#
# CMD sees:
#   LAKEFORGE_TEST_POSTGRES_DSN  postgres://lakeforge_test:testing@127.0.0.1:PORT/lakeforge_test
#   LAKEFORGE_TEST_MYSQL_DSN     lakeforge_test:testing@tcp(127.0.0.1:PORT)/lakeforge_test
#   LAKEFORGE_TEST_GLUE_POSTGRES_DSN  the same PostgreSQL server, database lakeforge_test_glue:
#                                the import job's tier (make test-python) runs beside the Go
#                                tier and both load the blog's kthr01 schema (DROP SCHEMA
#                                CASCADE first), so each tier has a database of its own
#   LAKEFORGE_TEST_POSTGRES_PORT, LAKEFORGE_TEST_MYSQL_PORT
#   LAKEFORGE_TEST_DB_CA         PEM file of the CA that signed both servers' certificates
#   LAKEFORGE_TEST_DB_DIR        the temporary directory (the servers' logs are there)
# The password is a dummy for a loopback-only server that lives for one run.
#
# Needs: postgresql-15 (initdb, pg_ctl), mariadb-server (mariadb-install-db,
# mariadbd), openssl, python3.
set -euo pipefail

TEST_USER=lakeforge_test
TEST_PASSWORD=testing
TEST_DB=lakeforge_test
GLUE_TEST_DB=lakeforge_test_glue

log() { echo "test-databases: $*" >&2; }
die() { echo "test-databases: $*" >&2; exit 1; }

find_pg_bin() {
  local d
  for d in "${PG_BIN:-}" /usr/lib/postgresql/*/bin; do
    [[ -n "$d" && -x "$d/initdb" && -x "$d/pg_ctl" ]] && { echo "$d"; return; }
  done
  command -v initdb >/dev/null && { dirname "$(command -v initdb)"; return; }
  die "PostgreSQL server binaries not found: apt-get install postgresql-15 (or set PG_BIN)"
}

find_mariadbd() {
  local p
  for p in "$(command -v mariadbd 2>/dev/null || true)" /usr/sbin/mariadbd; do
    [[ -n "$p" && -x "$p" ]] && { echo "$p"; return; }
  done
  die "MariaDB server not found: apt-get install mariadb-server"
}

# free_port asks the kernel for an unused loopback port.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# as_owner runs a command as the user that owns the servers.
as_owner() {
  local user=$1; shift
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u "$user" -- "$@"
  else
    "$@"
  fi
}

make_certs() {
  local dir=$1
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=lakeforge test CA" \
    -keyout "$dir/ca.key" -out "$dir/ca.pem" -addext basicConstraints=critical,CA:TRUE \
    -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
    -keyout "$dir/server.key" -out "$dir/server.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >"$dir/server.ext"
  openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial \
    -days 2 -extfile "$dir/server.ext" -out "$dir/server.pem" 2>/dev/null
  chmod 644 "$dir/ca.pem" "$dir/server.pem"
}

start_postgres() {
  local dir=$1 port=$2 bin owner
  bin=$(find_pg_bin)
  owner=$(id -un); [[ $(id -u) -eq 0 ]] && owner=postgres
  install -d -m 700 -o "$owner" "$dir/pg"
  install -m 600 -o "$owner" "$dir/certs/server.key" "$dir/pg/server.key"
  install -m 644 -o "$owner" "$dir/certs/server.pem" "$dir/pg/server.pem"
  printf '%s\n' "$TEST_PASSWORD" >"$dir/pgpass"; chown "$owner" "$dir/pgpass"
  as_owner "$owner" "$bin/initdb" -D "$dir/pg/data" -U postgres --auth=scram-sha-256 \
    --pwfile="$dir/pgpass" -E UTF8 --locale=C.UTF-8 >"$dir/pg/initdb.log" 2>&1 \
    || { cat "$dir/pg/initdb.log" >&2; die "initdb failed"; }
  cat >>"$dir/pg/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir/pg'
ssl = on
ssl_cert_file = '$dir/pg/server.pem'
ssl_key_file = '$dir/pg/server.key'
fsync = off
CONF
  as_owner "$owner" "$bin/pg_ctl" -D "$dir/pg/data" -l "$dir/pg/server.log" -w -t 60 start >/dev/null \
    || { cat "$dir/pg/server.log" >&2; die "PostgreSQL did not start"; }
  PGPASSWORD=$TEST_PASSWORD "$bin/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d postgres <<SQL
CREATE ROLE $TEST_USER LOGIN PASSWORD '$TEST_PASSWORD';
CREATE DATABASE $TEST_DB OWNER $TEST_USER;
CREATE DATABASE $GLUE_TEST_DB OWNER $TEST_USER;
SQL
  log "PostgreSQL on 127.0.0.1:$port (data in $dir/pg)"
}

start_mariadb() {
  local dir=$1 port=$2 bin owner i
  bin=$(find_mariadbd)
  owner=$(id -un); [[ $(id -u) -eq 0 ]] && owner=mysql
  install -d -m 700 -o "$owner" "$dir/my"
  install -m 600 -o "$owner" "$dir/certs/server.key" "$dir/my/server.key"
  cat >"$dir/my/my.cnf" <<CONF
[mariadbd]
datadir = $dir/my/data
socket = $dir/my/mariadb.sock
pid-file = $dir/my/mariadb.pid
port = $port
bind-address = 127.0.0.1
skip-name-resolve
log-error = $dir/my/server.log
ssl-ca = $dir/certs/ca.pem
ssl-cert = $dir/certs/server.pem
ssl-key = $dir/my/server.key
innodb-buffer-pool-size = 128M
innodb-flush-log-at-trx-commit = 0
character-set-server = utf8mb4
collation-server = utf8mb4_unicode_ci
CONF
  chmod 644 "$dir/my/my.cnf"
  # mariadb-install-db failed once in ~50 runs on a loaded 2-core machine (its bootstrap
  # server's log was the only trace): show that log and try once more on an empty data dir.
  local attempt
  for attempt in 1 2; do
    as_owner "$owner" mariadb-install-db --defaults-file="$dir/my/my.cnf" --auth-root-authentication-method=socket \
      --skip-test-db >"$dir/my/install.log" 2>&1 && break
    cat "$dir/my/install.log" >&2
    [[ -f "$dir/my/server.log" ]] && tail -n 30 "$dir/my/server.log" >&2
    [[ $attempt == 2 ]] && die "mariadb-install-db failed twice (its output and the server log are above)"
    echo "test-databases: mariadb-install-db failed; trying once more on an empty data directory" >&2
    rm -rf "$dir/my/data" "$dir/my/server.log"
  done
  # setsid: the server must not take the caller's terminal signals before we stop it.
  as_owner "$owner" setsid "$bin" --defaults-file="$dir/my/my.cnf" </dev/null >/dev/null 2>&1 &
  for i in $(seq 1 120); do
    [[ -S "$dir/my/mariadb.sock" ]] && mariadb --socket="$dir/my/mariadb.sock" -uroot -e 'SELECT 1' >/dev/null 2>&1 && break
    sleep 0.25
  done
  mariadb --socket="$dir/my/mariadb.sock" -uroot -e 'SELECT 1' >/dev/null 2>&1 \
    || { cat "$dir/my/server.log" >&2; die "MariaDB did not start"; }
  # The grant covers every database named lakeforge_test*, so a test can ask
  # for a missing one and get "unknown database" (1049) rather than "access
  # denied to database" (1044).
  mariadb --socket="$dir/my/mariadb.sock" -uroot <<SQL
CREATE DATABASE $TEST_DB CHARACTER SET utf8mb4;
CREATE USER '$TEST_USER'@'127.0.0.1' IDENTIFIED BY '$TEST_PASSWORD';
CREATE USER '$TEST_USER'@'localhost' IDENTIFIED BY '$TEST_PASSWORD';
GRANT ALL ON \`lakeforge\\_test%\`.* TO '$TEST_USER'@'127.0.0.1';
GRANT ALL ON \`lakeforge\\_test%\`.* TO '$TEST_USER'@'localhost';
FLUSH PRIVILEGES;
SQL
  log "MariaDB on 127.0.0.1:$port (data in $dir/my)"
}

stop_all() {
  local dir=$1 bin
  [[ -d "$dir" ]] || return 0
  if [[ -f "$dir/pg/data/postmaster.pid" ]]; then
    bin=$(find_pg_bin)
    local owner; owner=$(stat -c %U "$dir/pg/data")
    as_owner "$owner" "$bin/pg_ctl" -D "$dir/pg/data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
  fi
  if [[ -f "$dir/my/mariadb.pid" ]]; then
    local pid; pid=$(cat "$dir/my/mariadb.pid" 2>/dev/null || true)
    if [[ -n "$pid" ]]; then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 80); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
      kill -9 "$pid" 2>/dev/null || true
    fi
  fi
  rm -rf "$dir"
  log "servers stopped, $dir removed"
}

run() {
  [[ $# -gt 0 ]] || die "usage: $0 run CMD [ARGS...]"
  local dir pg_port my_port rc
  dir=$(mktemp -d "${TMPDIR:-/tmp}/lakeforge-testdb.XXXXXX")
  chmod 755 "$dir"
  TESTDB_DIR=$dir # global: the EXIT trap runs after this function returns
  trap 'set +e; stop_all "$TESTDB_DIR"' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  install -d -m 755 "$dir/certs"
  make_certs "$dir/certs"
  pg_port=$(free_port)
  start_postgres "$dir" "$pg_port"
  my_port=$(free_port)
  start_mariadb "$dir" "$my_port"
  export LAKEFORGE_TEST_DB_DIR=$dir
  export LAKEFORGE_TEST_DB_CA=$dir/certs/ca.pem
  export LAKEFORGE_TEST_POSTGRES_PORT=$pg_port LAKEFORGE_TEST_MYSQL_PORT=$my_port
  export LAKEFORGE_TEST_POSTGRES_DSN="postgres://$TEST_USER:$TEST_PASSWORD@127.0.0.1:$pg_port/$TEST_DB"
  export LAKEFORGE_TEST_GLUE_POSTGRES_DSN="postgres://$TEST_USER:$TEST_PASSWORD@127.0.0.1:$pg_port/$GLUE_TEST_DB"
  export LAKEFORGE_TEST_MYSQL_DSN="$TEST_USER:$TEST_PASSWORD@tcp(127.0.0.1:$my_port)/$TEST_DB"
  rc=0
  "$@" || rc=$?
  trap - EXIT
  stop_all "$dir"
  exit "$rc"
}

case "${1:-}" in
  run) shift; run "$@" ;;
  *) echo "usage: $0 run CMD [ARGS...]" >&2; exit 2 ;;
esac
