"""The source database as the import job reads it: Spark's JDBC data source,
one consistent picture of the database per run where the engine allows it,
and the database's own figures (row count, checksum) over what was read.

Consistency per engine:
  PostgreSQL  one exported snapshot per run. The driver holds a
              REPEATABLE READ transaction that ran pg_export_snapshot();
              every JDBC session of the run (each read partition of each
              table, and every query of the proof) starts with
              BEGIN ISOLATION LEVEL REPEATABLE READ; SET TRANSACTION SNAPSHOT,
              through Spark's sessionInitStatement. All tables and all
              partitions see the database as it was at that one moment.
  MySQL and   no exported snapshots. Each table is read by one statement
  MariaDB     (InnoDB's consistent read: the table as it was when the
              statement started), never split into partitions, and that
              same statement computes the proof's figures (window
              aggregates), so the proof and the rows are one picture of the
              table. Different tables may be read at different moments.
"""

import re

# JDBC driver classes: the ones Glue 5.0 ships (PostgreSQL 42.7.3, MySQL
# Connector/J 8.0.33). Glue's driver for MariaDB is the MySQL one.
DRIVERS = {
    "postgresql": "org.postgresql.Driver",
    "mysql": "com.mysql.cj.jdbc.Driver",
    "mariadb": "com.mysql.cj.jdbc.Driver",
}
INTEGER_TYPES = {"smallint", "integer", "int", "bigint", "mediumint", "tinyint", "int2", "int4", "int8"}
# Columns the read adds for the proof; never written to the lake.
ROWS_COL, SUM_COL, MAX_COL = "__lf_rows", "__lf_sum", "__lf_max"
SNAPSHOT_ID = re.compile(r"[0-9A-F]+-[0-9A-F]+(-[0-9]+)?")


class ImportError_(Exception):
    """A problem the operator must fix; the message says how."""


def jdbc_url(conf, engine, dbname, require_tls):
    """The JDBC URL of the source database from a resolved Glue connection.

    Glue's extract_jdbc_conf gives the connection's URL in "fullUrl" (with
    the database) and "url" (without it, in some versions).
    """
    url = conf.get("fullUrl") or conf.get("url") or ""
    m = re.fullmatch(r"jdbc:(postgresql|mysql|mariadb)://([^/?]+)(/[^?]*)?(\?.*)?", url)
    if not m:
        raise ImportError_("the Glue connection's JDBC URL %r is not jdbc:postgresql:// or jdbc:mysql://host:port/db" % url)
    scheme, hostport = m.group(1), m.group(2)
    if (engine == "postgresql") != (scheme == "postgresql"):
        raise ImportError_("the Glue connection's URL %r does not match --engine %s (config source.engine)" % (url, engine))
    params = []
    if require_tls:
        # Spark's own JDBC reader does not apply the connection's
        # JDBC_ENFORCE_SSL: the driver is told here.
        params.append("sslmode=require" if scheme == "postgresql" else "sslMode=REQUIRED")
    if scheme != "postgresql":
        # Zero dates would fail the read; big result sets stream.
        params += ["zeroDateTimeBehavior=CONVERT_TO_NULL", "useCursorFetch=true"]
    return "jdbc:%s://%s/%s%s" % (scheme, hostport, dbname, ("?" + "&".join(params)) if params else "")


class Source:
    """The source database, read through Spark's JDBC data source."""

    def __init__(self, spark, engine, url, user, password):
        self.spark = spark
        self.engine = engine
        self.url = url
        self.props = {"user": user, "password": password, "driver": DRIVERS[engine]}
        self.pg = engine == "postgresql"
        self.init_statement = None  # the run's snapshot import (PostgreSQL)
        self._holder = None         # the driver's connection that exported it

    # ------------------------------------------------------------ consistency

    def export_snapshot(self):
        """PostgreSQL: opens the driver's connection that holds the run's
        snapshot, and makes every later JDBC session import it. A no-op for
        MySQL/MariaDB (see the module comment)."""
        if not self.pg:
            return None
        jvm = self.spark.sparkContext._jvm
        # The drivers are on Spark's classpath (spark.jars, Glue's own
        # jars), which is the thread's context class loader, not the one
        # java.sql.DriverManager searches.
        loader = jvm.java.lang.Thread.currentThread().getContextClassLoader()
        driver = jvm.java.lang.Class.forName(self.props["driver"], True, loader).newInstance()
        props = jvm.java.util.Properties()
        props.setProperty("user", self.props["user"] or "")
        props.setProperty("password", self.props["password"] or "")
        conn = driver.connect(self.url, props)
        try:
            conn.setAutoCommit(False)
            st = conn.createStatement()
            st.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            rs = st.executeQuery("SELECT pg_export_snapshot()")
            rs.next()
            snapshot = rs.getString(1)
        except Exception as err:
            conn.close()
            java = getattr(err, "java_exception", None)
            raise ImportError_(
                "the source database could not export a snapshot for the run's consistent read (%s). PostgreSQL "
                "cannot export snapshots during recovery: point the connection (config source.host) at the primary, "
                "not a read replica" % (str(java.getMessage()) if java is not None else err))
        if not SNAPSHOT_ID.fullmatch(snapshot or ""):
            conn.close()
            raise ImportError_("PostgreSQL exported snapshot id %r has an unknown form" % snapshot)
        self._holder = conn
        # pgjdbc runs both statements of the session's init in one go; the
        # session then reads (autocommit off) inside this transaction.
        self.init_statement = ("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY; "
                               "SET TRANSACTION SNAPSHOT '%s'" % snapshot)
        return snapshot

    def release_snapshot(self):
        """Ends the exporting transaction (the snapshot is gone with it)."""
        conn, self._holder, self.init_statement = self._holder, None, None
        if conn is not None:
            try:
                conn.rollback()
            finally:
                conn.close()

    # ------------------------------------------------------------ reads

    def options(self):
        opts = dict(self.props, preferTimestampNTZ="true", fetchsize="10000")
        if self.init_statement:
            opts["sessionInitStatement"] = self.init_statement
        return opts

    def reader(self):
        r = self.spark.read.format("jdbc").option("url", self.url)
        # timestamp without time zone stays without one in the lake.
        for k, v in self.options().items():
            r = r.option(k, v)
        return r

    def query(self, sql):
        return self.reader().option("query", sql).load().collect()

    def quote(self, name):
        return '"%s"' % name.replace('"', '""') if self.pg else "`%s`" % name.replace("`", "``")

    def qualified(self, schema, table):
        return "%s.%s" % (self.quote(schema), self.quote(table))

    def read(self, table_sql, predicates, custom_schema=None):
        """One DataFrame partition per predicate (a single read when None).
        table_sql is a table or a parenthesized query with an alias."""
        opts = self.options()
        if custom_schema:
            opts["customSchema"] = custom_schema
        if not predicates:
            r = self.spark.read.format("jdbc").option("url", self.url).option("dbtable", table_sql)
            for k, v in opts.items():
                r = r.option(k, v)
            return r.load()
        return self.spark.read.jdbc(self.url, table_sql, predicates=predicates, properties=opts)

    # ------------------------------------------------------------ metadata

    def tables(self):
        """(schema, table) of every base table the connection's user sees."""
        if self.pg:
            sql = ("SELECT table_catalog AS db, table_schema AS sch, table_name AS tbl FROM information_schema.tables "
                   "WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')")
        else:
            sql = ("SELECT table_schema AS db, table_schema AS sch, table_name AS tbl FROM information_schema.tables "
                   "WHERE table_type = 'BASE TABLE' AND table_schema = DATABASE()")
        return [(r["db"], r["sch"], r["tbl"]) for r in self.query(sql)]

    def keys(self):
        """{(schema, table): [(column, data_type)]} of primary keys, in key order."""
        sql = ("SELECT k.table_schema AS sch, k.table_name AS tbl, k.column_name AS col, c.data_type AS typ, "
               "k.ordinal_position AS pos "
               "FROM information_schema.table_constraints t "
               "JOIN information_schema.key_column_usage k ON k.constraint_name = t.constraint_name "
               " AND k.table_schema = t.table_schema AND k.table_name = t.table_name "
               "JOIN information_schema.columns c ON c.table_schema = k.table_schema "
               " AND c.table_name = k.table_name AND c.column_name = k.column_name "
               "WHERE t.constraint_type = 'PRIMARY KEY'")
        if not self.pg:
            sql += " AND t.table_schema = DATABASE()"
        found = {}
        for r in sorted(self.query(sql), key=lambda r: (r["sch"], r["tbl"], r["pos"])):
            found.setdefault((r["sch"], r["tbl"]), []).append((r["col"], r["typ"].lower()))
        return found

    def columns(self):
        """{(schema, table): [(column, data_type, column_type, numeric_scale)]}
        in column order; column_type is MySQL's full type (tinyint(1),
        unsigned), the data type again for PostgreSQL."""
        if self.pg:
            sql = ("SELECT table_schema AS sch, table_name AS tbl, column_name AS col, data_type AS typ, "
                   "data_type AS ctyp, numeric_scale AS scale, ordinal_position AS pos FROM information_schema.columns "
                   "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')")
        else:
            sql = ("SELECT table_schema AS sch, table_name AS tbl, column_name AS col, data_type AS typ, "
                   "column_type AS ctyp, numeric_scale AS scale, ordinal_position AS pos FROM information_schema.columns "
                   "WHERE table_schema = DATABASE()")
        found = {}
        for r in sorted(self.query(sql), key=lambda r: (r["sch"], r["tbl"], r["pos"])):
            found.setdefault((r["sch"], r["tbl"]), []).append(
                (r["col"], r["typ"].lower(), (r["ctyp"] or "").lower(), r["scale"]))
        return found

    def zoned_timestamps(self):
        """{(schema, table): [column]} of timestamp columns that hold an
        instant (PostgreSQL timestamptz, MySQL TIMESTAMP): these stay
        time-zone aware in the lake; other timestamps stay without a zone."""
        zoned = "timestamp with time zone" if self.pg else "timestamp"
        sql = ("SELECT table_schema AS sch, table_name AS tbl, column_name AS col FROM information_schema.columns "
               "WHERE data_type = '%s'" % zoned)
        if not self.pg:
            sql += " AND table_schema = DATABASE()"
        found = {}
        for r in self.query(sql):
            found.setdefault((r["sch"], r["tbl"]), []).append(r["col"])
        return found

    def bounds(self, table_sql, column, where):
        row = self.query("SELECT MIN(%s) AS lo, MAX(%s) AS hi FROM %s%s" % (
            self.quote(column), self.quote(column), table_sql, (" WHERE " + where) if where else ""))[0]
        return row["lo"], row["hi"]


def like_to_regex(pattern):
    """A crawler include-path part (SQL LIKE: % and _) as a regex."""
    out = []
    for ch in pattern:
        out.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
    return "".join(out)


def matches(include_paths, engine, db, schema, table):
    for p in include_paths:
        parts = p.split("/")
        want = [db, schema, table] if engine == "postgresql" else [db, table]
        if len(parts) != len(want):
            raise ImportError_(
                "include path %r: use %s (config source.includePaths)"
                % (p, "database/schema/table" if engine == "postgresql" else "database/table"))
        if all(re.fullmatch(like_to_regex(pt), w, re.IGNORECASE) for pt, w in zip(parts, want)):
            return True
    return False


def range_predicates(column_sql, lo, hi, n):
    """n predicates covering every value of column (and NULL) once."""
    if lo is None or hi is None or n <= 1 or hi <= lo:
        return None
    n = min(n, int(hi - lo) + 1)
    stride = -(-(int(hi) - int(lo) + 1) // n)
    cuts = [int(lo) + i * stride for i in range(1, n)]
    preds = ["%s < %d OR %s IS NULL" % (column_sql, cuts[0], column_sql)]
    preds += ["%s >= %d AND %s < %d" % (column_sql, a, column_sql, b) for a, b in zip(cuts, cuts[1:])]
    preds.append("%s >= %d" % (column_sql, cuts[-1]))
    return preds


def sql_literal(value, zoned=False, pg=True):
    """A watermark value as a SQL literal both engines accept. A zoned
    PostgreSQL column gets the instant in UTC, the zone Spark reads it in."""
    if isinstance(value, bool) or value is None:
        raise ImportError_("watermark %r: the key must be numeric, date or timestamp" % (value,))
    if isinstance(value, (int, float)) or type(value).__name__ == "Decimal":
        return str(value)
    if hasattr(value, "isoformat"):
        if hasattr(value, "hour"):
            text = value.isoformat(sep=" ")
            return "'%s+00'" % text if zoned and pg else "'%s'" % text
        return "'%s'" % value.isoformat()
    raise ImportError_("watermark %r: the key must be numeric, date or timestamp" % (value,))
