"""Shared pieces of the import job's real tier (pytest).

The job runs on local Spark against the PostgreSQL and MariaDB servers that
scripts/test-databases.sh starts (`make test` does); it reads the job's
arguments and connection from the synthesized template (see
template_contract() and infra/stack/importcontract_test.go). Fixtures are
loaded with the servers' own clients (psql, mariadb), and the source side of
every comparison is read with them too, never through Spark.
"""

import csv
import io
import json
import os
import re
import subprocess
import sys
import time
from urllib.parse import urlparse

import pytest


def sh(cmd, **kw):
    """subprocess.run that fails with the command's own error output."""
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        raise AssertionError("%s failed (%d): %s" % (cmd[0], p.returncode, p.stderr.strip()[-2000:]))
    return p.stdout

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

# PySpark hands timestamps to Python in the process's zone: make it UTC,
# the zone Glue runs in.
os.environ["TZ"] = "UTC"
time.tzset()

import import_job  # noqa: E402
import local_runtime  # noqa: E402


def need(var):
    value = os.environ.get(var)
    if not value:
        pytest.fail("%s is not set: run the tests through `scripts/test-databases.sh run` (make test does)" % var)
    return value


class Postgres:
    def __init__(self):
        dsn = urlparse(need("LAKEFORGE_TEST_POSTGRES_DSN"))
        self.host, self.port, self.user, self.password = dsn.hostname, dsn.port, dsn.username, dsn.password
        self.db = dsn.path.lstrip("/")
        self.engine = "postgresql"

    def _cmd(self, *extra):
        conninfo = "host=%s port=%d user=%s dbname=%s sslmode=require" % (self.host, self.port, self.user, self.db)
        return ["psql", conninfo, "-X", "-q", "-v", "ON_ERROR_STOP=1", *extra]

    def run(self, sql=None, path=None, schema=None):
        extra = ["-v", "schema=" + schema] if schema else []
        extra += ["-f", path] if path else ["-c", sql]
        sh(self._cmd(*extra), env=dict(os.environ, PGPASSWORD=self.password))

    def rows(self, sql):
        """Rows of a query as lists of strings (None for NULL), via CSV."""
        out = sh(self._cmd("-c", "COPY (%s) TO STDOUT WITH (FORMAT csv, FORCE_QUOTE *)" % sql),
                 env=dict(os.environ, PGPASSWORD=self.password))
        # FORCE_QUOTE quotes every non-NULL value: an unquoted empty field is NULL.
        return [[None if raw == "" and not quoted else raw for raw, quoted in fields]
                for fields in _csv_with_quotes(out)]

    def url(self):
        return "jdbc:postgresql://%s:%d/%s" % (self.host, self.port, self.db)


def pg_include(schema):
    """The job's --include_paths for every table of one schema of the test
    PostgreSQL database (its name comes from the DSN: `make test-python`
    runs on a database of its own)."""
    return json.dumps(["%s/%s/%%" % (Postgres().db, schema)])


class MariaDB:
    def __init__(self, db):
        m = re.fullmatch(r"([^:]+):([^@]+)@tcp\(([^:]+):(\d+)\)/(.+)", need("LAKEFORGE_TEST_MYSQL_DSN"))
        self.user, self.password, self.host, self.port = m.group(1), m.group(2), m.group(3), int(m.group(4))
        self.db = db
        self.engine = "mariadb"

    def _cmd(self, *extra):
        return ["mariadb", "-h", self.host, "-P", str(self.port), "-u", self.user, "--ssl",
                "--ssl-ca=" + need("LAKEFORGE_TEST_DB_CA"), "--default-character-set=utf8mb4", *extra]

    def run(self, sql=None, path=None, schema=None):
        env = dict(os.environ, MYSQL_PWD=self.password)
        sh(self._cmd("-e", "CREATE DATABASE IF NOT EXISTS `%s` CHARACTER SET utf8mb4" % self.db), env=env)
        text = open(path, encoding="utf-8").read() if path else sql
        sh(self._cmd(self.db), input=text, env=env)

    def rows(self, sql):
        """Rows as lists of strings (None for NULL), tab-separated batch output."""
        out = sh(self._cmd("--batch", "--raw", "--skip-column-names", self.db, "-e", sql),
                 env=dict(os.environ, MYSQL_PWD=self.password))
        return [[None if v == "NULL" else v for v in line.split("\t")] for line in out.splitlines()]

    def url(self):
        return "jdbc:mysql://%s:%d/%s" % (self.host, self.port, self.db)


class HeldTransaction:
    """A transaction another client holds open (uncommitted) until commit():
    the late-committing writer of the merge and consistency tests."""

    def __init__(self, src, sql):
        self.src = src
        pg = src.engine == "postgresql"
        if pg:
            cmd, env = src._cmd(), dict(os.environ, PGPASSWORD=src.password)
        else:
            cmd = src._cmd("--unbuffered", "--batch", "--skip-column-names", src.db)
            env = dict(os.environ, MYSQL_PWD=src.password)
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, env=env)
        self.proc.stdin.write("BEGIN;\n%s;\nSELECT 'held';\n" % sql)
        self.proc.stdin.flush()
        if pg:
            # psql buffers its output to a pipe: ask the server instead.
            probe = ("SELECT COUNT(*) FROM pg_stat_activity WHERE state = 'idle in transaction' "
                     "AND datname = current_database() AND pid <> pg_backend_pid()")
            deadline = time.time() + 60
            while int(src.rows(probe)[0][0]) < 1:
                if self.proc.poll() is not None or time.time() > deadline:
                    raise AssertionError("the held transaction did not start: %s" % self.proc.stderr.read())
                time.sleep(0.2)
        elif self.proc.stdout.readline().strip() != "held":
            raise AssertionError("the held transaction did not start: %s" % self.proc.stderr.read())

    def commit(self):
        out, err = self.proc.communicate("COMMIT;\n", timeout=60)
        if self.proc.returncode != 0:
            raise AssertionError("the held transaction failed: %s" % err)

    def close(self):
        """Ends the client (its transaction rolls back) if still running."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def hold():
    """hold(src, sql) -> HeldTransaction; any left open is rolled back at the
    end of the test, so a failing test never blocks the next one's DDL."""
    held = []

    def start(src, sql):
        held.append(HeldTransaction(src, sql))
        return held[-1]
    yield start
    for h in held:
        h.close()


def _csv_with_quotes(text):
    """CSV records as [(value, was_quoted)], so NULL and '' differ."""
    records, fields, buf, quoted, i, inq = [], [], [], False, 0, False
    while i < len(text):
        c = text[i]
        if inq:
            if c == '"' and i + 1 < len(text) and text[i + 1] == '"':
                buf.append('"')
                i += 1
            elif c == '"':
                inq = False
            else:
                buf.append(c)
        elif c == '"':
            inq, quoted = True, True
        elif c == ",":
            fields.append(("".join(buf), quoted))
            buf, quoted = [], False
        elif c == "\n":
            fields.append(("".join(buf), quoted))
            records.append(fields)
            fields, buf, quoted = [], [], False
        else:
            buf.append(c)
        i += 1
    return records


def template_contract():
    """The import job's DefaultArguments and the Glue connection, as the
    synthesized template has them (written by the Go test
    TestImportJobContract; run here when test-go has not written it)."""
    path = os.environ.get("LAKEFORGE_IMPORT_CONTRACT") or os.path.join(REPO, ".tmp", "import-contract.json")
    if not os.path.exists(path) or not _current(path):
        env = dict(os.environ, LAKEFORGE_IMPORT_CONTRACT=path)
        subprocess.run(["go", "test", "-count=1", "-run", "^TestImportJobContract$", "./infra/stack/"],
                       cwd=REPO, env=env, check=True)
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _current(path):
    """Whether a contract file was written for the servers running now."""
    with open(path, encoding="utf-8") as f:
        c = json.load(f)
    pg = Postgres()
    urls = [c[e]["connection"]["ConnectionProperties"]["JDBC_CONNECTION_URL"] for e in ("postgresql", "mariadb")]
    # The PostgreSQL database too: `make test-python` runs on a database of
    # its own (LAKEFORGE_TEST_GLUE_POSTGRES_DSN), `make bench` on the default.
    return urls[0].endswith(":%d/%s" % (pg.port, pg.db)) and (":%s/" % need("LAKEFORGE_TEST_MYSQL_PORT")) in urls[1]


@pytest.fixture(scope="session")
def contract():
    return template_contract()


@pytest.fixture(scope="session")
def warehouse(tmp_path_factory):
    return str(tmp_path_factory.mktemp("lake"))


@pytest.fixture(scope="session")
def postgres():
    return Postgres()


def run_job(contract_for_engine, warehouse, src, overrides=None, run="jr_1", secret=None):
    """Runs import_job.run() with the template's arguments for one engine,
    and the given overrides (what a test changes, as a config change would)."""
    arguments = dict(contract_for_engine["arguments"])
    arguments.update({"--JOB_NAME": contract_for_engine["jobName"], "--JOB_RUN_ID": run})
    arguments.update(overrides or {})
    rt = local_runtime.LocalRuntime(arguments, warehouse, contract_for_engine["connection"],
                                    secret or {"username": src.user, "password": src.password})
    manifest = import_job.run(rt.args, rt)
    return manifest, rt


def read_manifest(rt, run):
    path = rt.storage_uri(rt.args["runs_path"])[len("file://"):] + run + "/manifest.json"
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def lake_rows(spark, ident, order):
    return [r.asDict() for r in spark.table(ident).orderBy(order).collect()]


def readme_type_map():
    """docs/pipeline.md's "Source types in the lake" table: {(engine, source type): lake type}."""
    text = open(os.path.join(REPO, "docs", "pipeline.md"), encoding="utf-8").read()
    start = text.index("### Source types in the lake")
    table = {}
    for line in text[start:].splitlines()[1:]:
        if line.startswith("#"):
            break
        cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0] in ("PostgreSQL", "MySQL/MariaDB"):
            for src in cells[1].split(", "):
                table[(cells[0], src.strip("`"))] = cells[2]
    return table
