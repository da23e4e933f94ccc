#!/usr/bin/env bash
# Start (or stop, or report) the PostgreSQL 15 and MariaDB servers that the
# direct-handshake tests of pkg/preflight use as stand-ins for RDS. Both
# listen on 127.0.0.1 only. Idempotent: running `start` twice changes
# nothing the second time.
#
# Needs the Debian packages postgresql-15 and mariadb-server, and root (the
# servers run as their own users). The tests find the servers through:
#   LAKEFORGE_TEST_POSTGRES_DSN  default postgres://lakeforge_test:testing@127.0.0.1:5432/lakeforge_test
#   LAKEFORGE_TEST_MYSQL_DSN     default lakeforge_test:testing@tcp(127.0.0.1:3306)/lakeforge_test
# The password is a dummy for a loopback-only test server.
set -euo pipefail

PG_VERSION=${PG_VERSION:-15}
PG_CLUSTER=${PG_CLUSTER:-main}
TEST_USER=lakeforge_test
TEST_PASSWORD=testing
TEST_DB=lakeforge_test

log() { echo "test-databases: $*"; }

need_root() {
  if [[ $(id -u) -ne 0 ]]; then
    echo "test-databases: run as root (it starts system database servers)" >&2
    exit 1
  fi
}

pg_running() { pg_lsclusters -h | awk -v v="$PG_VERSION" -v c="$PG_CLUSTER" '$1==v && $2==c {print $4}' | grep -q online; }

start_postgres() {
  command -v pg_ctlcluster >/dev/null || { echo "test-databases: PostgreSQL is not installed: apt-get install -y postgresql-$PG_VERSION" >&2; exit 1; }
  # Loopback only, whatever the cluster's configuration says.
  local conf_dir=/etc/postgresql/$PG_VERSION/$PG_CLUSTER/conf.d
  install -d -o postgres -g postgres "$conf_dir"
  echo "listen_addresses = '127.0.0.1'" >"$conf_dir/lakeforge-test.conf"
  if pg_running; then
    log "PostgreSQL $PG_VERSION/$PG_CLUSTER already running"
  else
    pg_ctlcluster "$PG_VERSION" "$PG_CLUSTER" start
    log "PostgreSQL $PG_VERSION/$PG_CLUSTER started"
  fi
  su postgres -c "psql -v ON_ERROR_STOP=1 -q" <<SQL
DO \$\$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$TEST_USER') THEN
    CREATE ROLE $TEST_USER LOGIN PASSWORD '$TEST_PASSWORD';
  ELSE
    ALTER ROLE $TEST_USER LOGIN PASSWORD '$TEST_PASSWORD';
  END IF;
END
\$\$;
SELECT 'CREATE DATABASE $TEST_DB OWNER $TEST_USER'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$TEST_DB')\gexec
SQL
  log "PostgreSQL: user $TEST_USER, database $TEST_DB on 127.0.0.1:$(pg_conftool -s "$PG_VERSION" "$PG_CLUSTER" show port)"
}

mariadb_running() { mariadb-admin --protocol=socket -uroot ping >/dev/null 2>&1; }

start_mariadb() {
  command -v mariadbd >/dev/null || { echo "test-databases: MariaDB is not installed: apt-get install -y mariadb-server" >&2; exit 1; }
  if mariadb_running; then
    log "MariaDB already running"
  else
    install -d -o mysql -g mysql /run/mysqld
    if [[ ! -d /var/lib/mysql/mysql ]]; then
      mariadb-install-db --user=mysql --datadir=/var/lib/mysql >/dev/null
    fi
    # mysqld_safe restarts the server if it dies; detach it from this shell.
    nohup mysqld_safe --bind-address=127.0.0.1 --port=3306 >/dev/null 2>&1 &
    for _ in $(seq 1 60); do
      mariadb_running && break
      sleep 0.5
    done
    mariadb_running || { echo "test-databases: MariaDB did not start; see /var/log/mysql/error.log or journal" >&2; exit 1; }
    log "MariaDB started"
  fi
  # The grant covers every database named lakeforge_test*, so a test can
  # ask for a missing one and get "unknown database" (1049) rather than
  # "access denied to database" (1044).
  mariadb --protocol=socket -uroot <<SQL
CREATE DATABASE IF NOT EXISTS $TEST_DB;
CREATE USER IF NOT EXISTS '$TEST_USER'@'127.0.0.1' IDENTIFIED BY '$TEST_PASSWORD';
CREATE USER IF NOT EXISTS '$TEST_USER'@'localhost' IDENTIFIED BY '$TEST_PASSWORD';
ALTER USER '$TEST_USER'@'127.0.0.1' IDENTIFIED BY '$TEST_PASSWORD';
ALTER USER '$TEST_USER'@'localhost' IDENTIFIED BY '$TEST_PASSWORD';
GRANT ALL ON \`lakeforge\\_test%\`.* TO '$TEST_USER'@'127.0.0.1';
GRANT ALL ON \`lakeforge\\_test%\`.* TO '$TEST_USER'@'localhost';
FLUSH PRIVILEGES;
SQL
  log "MariaDB: user $TEST_USER, database $TEST_DB on 127.0.0.1:3306"
}

stop_all() {
  if pg_running; then pg_ctlcluster "$PG_VERSION" "$PG_CLUSTER" stop && log "PostgreSQL stopped"; fi
  if mariadb_running; then mariadb-admin --protocol=socket -uroot shutdown && log "MariaDB stopped"; fi
}

status() {
  pg_running && log "PostgreSQL $PG_VERSION/$PG_CLUSTER: running" || log "PostgreSQL $PG_VERSION/$PG_CLUSTER: stopped"
  mariadb_running && log "MariaDB: running" || log "MariaDB: stopped"
}

case "${1:-}" in
  start) need_root; start_postgres; start_mariadb ;;
  stop) need_root; stop_all ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
