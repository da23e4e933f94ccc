"""lakeforge import job: copies the source database's tables into the lake.

Run by the Glue workflow (on-demand trigger -> this job). It needs no AWS API
to find its work, so a subnet with only an S3 gateway endpoint reaches the
source and the lake:

1. Discover: the source's tables, columns and primary keys come from the
   database itself (information_schema over JDBC), filtered by the include
   paths of config source.includePaths (the crawler's syntax, % wildcards).
2. Stage: every table is read with partitioned JDBC reads (key ranges of a
   numeric primary key, or the column of config import.partitioning), several
   tables at a time, and written as a new snapshot on a staging branch of its
   Apache Iceberg table. The analyst reads the main branch, which staging
   never changes.
3. Publish: only when every table is staged, each table's main branch is
   fast-forwarded to its staged snapshot (a metadata commit), the staging
   branches are dropped, snapshots older than the retention are expired, and
   the row counts go to <runs_path><run id>/manifest.json for VerifyQuery.

A failed, killed or timed-out run therefore leaves the analyst yesterday's
tables, complete; the previous snapshots stay for time travel and rollback.

Modes:
  snapshot     each run replaces every table's rows.
  incremental  each run appends the rows whose key (config
               import.bookmarkKeys) is above the highest key already in the
               lake table's main branch: the watermark lives in the published
               data, so a failed run moves no watermark.

Only what exists solely inside Glue sits behind GlueRuntime (arguments,
GlueContext, connection-to-JDBC resolution, job commit); local_runtime.py is
the stand-in the tests and the benchmark use. Everything else here is the
code Glue runs.
"""

import json
import re
import sys
import time
from concurrent.futures import ThreadPoolExecutor

# The Spark catalog the job's --conf configures (Glue Data Catalog in Glue).
CATALOG = "glue_catalog"

REQUIRED_ARGS = [
    "JOB_NAME", "connection_name", "engine", "source_dbname", "include_paths", "require_tls",
    "lake_database", "table_prefix", "lake_path", "runs_path", "mode", "bookmark_keys",
    "partitioning", "read_partitions", "parallel_tables", "snapshot_retention_days",
]
# Glue adds these when a workflow trigger starts the job; a job started by
# hand has no workflow run and records its manifest under its job run id.
OPTIONAL_ARGS = ["WORKFLOW_NAME", "WORKFLOW_RUN_ID", "JOB_RUN_ID"]

MODES = ("snapshot", "incremental")
ENGINES = ("postgresql", "mysql", "mariadb")
# JDBC driver classes: the ones Glue 5.0 ships (PostgreSQL 42.7.3, MySQL
# Connector/J 8.0.33). Glue's driver for MariaDB is the MySQL one.
DRIVERS = {
    "postgresql": "org.postgresql.Driver",
    "mysql": "com.mysql.cj.jdbc.Driver",
    "mariadb": "com.mysql.cj.jdbc.Driver",
}
INTEGER_TYPES = {"smallint", "integer", "int", "bigint", "mediumint", "tinyint", "int2", "int4", "int8"}
# A range holds at least this many keys before the read is split further.
MIN_KEYS_PER_PARTITION = 10000
STAGE_BRANCH_PREFIX = "lakeforge_stage_"


class ImportError_(Exception):
    """A problem the operator must fix; the message says how."""


# ---------------------------------------------------------------- arguments

def resolve_args(argv, get_resolved_options):
    names = REQUIRED_ARGS + [n for n in OPTIONAL_ARGS if "--" + n in argv]
    args = get_resolved_options(argv, names)
    return check_args(args)


def _json_arg(args, key, kind, config_key):
    try:
        value = json.loads(args[key] or ("{}" if kind is dict else "[]"))
    except ValueError as err:
        raise ImportError_("--%s is not JSON (config %s): %s" % (key, config_key, err))
    if not isinstance(value, kind):
        raise ImportError_("--%s must be a JSON %s (config %s)" % (key, kind.__name__, config_key))
    return value


def _int_arg(args, key, low, config_key):
    try:
        value = int(args[key])
    except (TypeError, ValueError):
        value = None
    if value is None or value < low:
        raise ImportError_("--%s is %r: a whole number >= %d (config %s)" % (key, args[key], low, config_key))
    return value


def check_args(args):
    if args["mode"] not in MODES:
        raise ImportError_("--mode is %r: use snapshot or incremental (config import.mode)" % args["mode"])
    if args["engine"] not in ENGINES:
        raise ImportError_("--engine is %r: one of %s (config source.engine)" % (args["engine"], ", ".join(ENGINES)))
    for key in ("lake_path", "runs_path"):
        if not args[key].startswith("s3://") or not args[key].endswith("/"):
            raise ImportError_("--%s is %r: an s3:// URI ending with '/'" % (key, args[key]))
    if args["require_tls"] not in ("true", "false"):
        raise ImportError_("--require_tls is %r: true or false (config source.requireTls)" % args["require_tls"])
    args["require_tls"] = args["require_tls"] == "true"
    args["include_paths"] = _json_arg(args, "include_paths", list, "source.includePaths")
    if not args["include_paths"]:
        raise ImportError_("--include_paths is empty: name the tables to import (config source.includePaths)")
    keys = _json_arg(args, "bookmark_keys", dict, "import.bookmarkKeys")
    for table, cols in keys.items():
        if not isinstance(cols, list) or len(cols) != 1:
            raise ImportError_(
                "--bookmark_keys.%s is %r: incremental mode keeps one watermark column per table (config import.bookmarkKeys)"
                % (table, cols))
    args["bookmark_keys"] = {t.lower(): c[0] for t, c in keys.items()}
    parts = _json_arg(args, "partitioning", dict, "import.partitioning")
    for table, spec in parts.items():
        if not isinstance(spec, dict) or not isinstance(spec.get("partitions"), int) or spec["partitions"] < 1:
            raise ImportError_(
                "--partitioning.%s is %r: {\"column\": <numeric column>, \"partitions\": <n >= 1>} (config import.partitioning)"
                % (table, spec))
    args["partitioning"] = {t.lower(): s for t, s in parts.items()}
    args["read_partitions"] = _int_arg(args, "read_partitions", 1, "import.numberOfWorkers")
    args["parallel_tables"] = _int_arg(args, "parallel_tables", 1, "import.numberOfWorkers")
    args["snapshot_retention_days"] = _int_arg(args, "snapshot_retention_days", 0, "import.snapshotRetentionDays")
    if not re.fullmatch(r"[a-z0-9_]{1,255}", args["lake_database"]):
        raise ImportError_("--lake_database is %r: a lower-case Glue database name (config database.name)" % args["lake_database"])
    return args


def run_id(args):
    if args.get("WORKFLOW_RUN_ID"):
        return args["WORKFLOW_RUN_ID"]
    if args.get("JOB_RUN_ID"):
        return args["JOB_RUN_ID"]
    raise ImportError_("no WORKFLOW_RUN_ID or JOB_RUN_ID argument: start the job through the workflow")


# ---------------------------------------------------------------- source

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

    def reader(self):
        r = self.spark.read.format("jdbc").option("url", self.url)
        for k, v in self.props.items():
            r = r.option(k, v)
        # timestamp without time zone stays without one in the lake.
        return r.option("preferTimestampNTZ", "true").option("fetchsize", "10000")

    def query(self, sql):
        return self.reader().option("query", sql).load().collect()

    def quote(self, name):
        return '"%s"' % name.replace('"', '""') if self.pg else "`%s`" % name.replace("`", "``")

    def qualified(self, schema, table):
        return "%s.%s" % (self.quote(schema), self.quote(table))

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
        """{(schema, table): [(column, data_type)]} of single-column primary keys."""
        sql = ("SELECT k.table_schema AS sch, k.table_name AS tbl, k.column_name AS col, c.data_type AS typ "
               "FROM information_schema.table_constraints t "
               "JOIN information_schema.key_column_usage k ON k.constraint_name = t.constraint_name "
               " AND k.table_schema = t.table_schema AND k.table_name = t.table_name "
               "JOIN information_schema.columns c ON c.table_schema = k.table_schema "
               " AND c.table_name = k.table_name AND c.column_name = k.column_name "
               "WHERE t.constraint_type = 'PRIMARY KEY'")
        if not self.pg:
            sql += " AND t.table_schema = DATABASE()"
        found = {}
        for r in self.query(sql):
            found.setdefault((r["sch"], r["tbl"]), []).append((r["col"], r["typ"].lower()))
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

    def read(self, table_sql, predicates, custom_schema=None):
        """One DataFrame partition per predicate (a single read when None)."""
        extra = {"customSchema": custom_schema} if custom_schema else {}
        if not predicates:
            r = self.reader().option("dbtable", table_sql)
            for k, v in extra.items():
                r = r.option(k, v)
            return r.load()
        return self.spark.read.jdbc(self.url, table_sql, predicates=predicates,
                                    properties=dict(self.props, preferTimestampNTZ="true", fetchsize="10000", **extra))


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


def lake_name(table):
    """The lake table name (before the prefix) of a source table."""
    return re.sub(r"[^a-z0-9_]", "_", table.lower())


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


def sql_literal(value):
    """A watermark value as a SQL literal both engines accept."""
    if isinstance(value, bool) or value is None:
        raise ImportError_("watermark %r: the incremental key must be numeric, date or timestamp" % (value,))
    if isinstance(value, (int, float)) or type(value).__name__ == "Decimal":
        return str(value)
    if hasattr(value, "isoformat"):
        return "'%s'" % value.isoformat(sep=" ") if hasattr(value, "hour") else "'%s'" % value.isoformat()
    raise ImportError_("watermark %r: the incremental key must be numeric, date or timestamp" % (value,))


def plan(source, args):
    """What to read and where to write, one entry per source table."""
    keys = source.keys()
    zoned = source.zoned_timestamps()
    entries, seen = [], {}
    for db, schema, table in sorted(source.tables()):
        if not matches(args["include_paths"], args["engine"], db, schema, table):
            continue
        name = lake_name(table)
        if name in seen:
            raise ImportError_(
                "source tables %s and %s.%s both map to lake table %s: narrow config source.includePaths"
                % (seen[name], schema, table, name))
        seen[name] = "%s.%s" % (schema, table)
        entry = {
            "name": name,
            "sourceTable": "%s.%s" % (schema, table),
            "tableSql": source.qualified(schema, table),
            "ident": "%s.%s.%s" % (CATALOG, args["lake_database"], args["table_prefix"] + name),
            "partitionColumn": None,
            "partitions": 1,
            "configured": False,
            "watermark": None,
            "customSchema": ", ".join("`%s` TIMESTAMP" % c.replace("`", "``") for c in zoned.get((schema, table), [])),
        }
        spec = args["partitioning"].get(name)
        pk = keys.get((schema, table), [])
        if spec is not None:
            entry["partitionColumn"], entry["partitions"] = spec.get("column"), spec["partitions"]
            entry["configured"] = True
            if entry["partitions"] > 1 and not entry["partitionColumn"]:
                raise ImportError_("import.partitioning.%s needs a numeric \"column\" to split the read" % name)
        elif len(pk) == 1 and pk[0][1].split()[0] in INTEGER_TYPES:
            entry["partitionColumn"], entry["partitions"] = pk[0][0], args["read_partitions"]
        if args["mode"] == "incremental":
            col = args["bookmark_keys"].get(name)
            if not col:
                raise ImportError_(
                    "incremental mode needs a monotonic key for table %s: add it to config import.bookmarkKeys" % name)
            entry["watermark"] = col
        entries.append(entry)
    if not entries:
        raise ImportError_(
            "no source table matches the include paths %s: check config source.includePaths and the connection's user"
            % json.dumps(args["include_paths"]))
    return entries


# ---------------------------------------------------------------- lake

def table_exists(spark, ident):
    return spark.catalog.tableExists(ident)


def iceberg_table(spark, ident):
    """The Iceberg Table object: metadata reads without a Spark job."""
    jvm = spark.sparkContext._jvm
    table = jvm.org.apache.iceberg.spark.Spark3Util.loadIcebergTable(spark._jsparkSession, ident)
    table.refresh()
    return table


def ref_summary(table, ref):
    """(snapshot id, summary) at a branch, (None, {}) when it has none."""
    r = table.refs().get(ref)
    if r is None:
        return None, {}
    snap = table.snapshot(r.snapshotId())
    return r.snapshotId(), {k: snap.summary().get(k) for k in ("total-records", "added-records")}


def table_properties(args):
    days_ms = args["snapshot_retention_days"] * 24 * 3600 * 1000
    return {
        "format-version": "2",
        "history.expire.max-snapshot-age-ms": str(days_ms),
        "history.expire.min-snapshots-to-keep": "1",
        # A dropped source column leaves its lake column, NULL from then on.
        "write.spark.accept-any-schema": "true",
    }


def nullable(schema):
    from pyspark.sql.types import StructType, StructField
    return StructType([StructField(f.name, f.dataType, True) for f in schema.fields])


def ensure_table(spark, ident, schema, args):
    """Creates a missing table (empty), adds columns new in the source."""
    if not table_exists(spark, ident):
        # An empty snapshot (from an RDD with no partitions: no task runs),
        # so the staging branch has a parent.
        empty = spark.createDataFrame(spark.sparkContext.emptyRDD(), nullable(schema))
        w = empty.writeTo(ident).using("iceberg")
        for k, v in table_properties(args).items():
            w = w.tableProperty(k, v)
        w.create()
        return
    have = {f.name.lower() for f in spark.table(ident).schema.fields}
    for f in schema.fields:
        if f.name.lower() not in have:
            spark.sql("ALTER TABLE %s ADD COLUMN `%s` %s" % (ident, f.name.replace("`", "``"), f.dataType.simpleString()))


def drop_stale_branches(spark, ident):
    """Staging branches of killed runs: never published, safe to drop."""
    for name in list(iceberg_table(spark, ident).refs().keySet()):
        if name.startswith(STAGE_BRANCH_PREFIX):
            spark.sql("ALTER TABLE %s DROP BRANCH IF EXISTS `%s`" % (ident, name))


def stage_table(spark, source, entry, args, branch):
    """Reads one source table and writes it to its staging branch."""
    from pyspark.sql.functions import lit
    ident = entry["ident"]
    where = None
    if entry["watermark"] and table_exists(spark, ident):
        wm = spark.sql("SELECT MAX(`%s`) AS wm FROM %s" % (entry["watermark"], ident)).collect()[0]["wm"]
        if wm is not None:
            where = "%s > %s" % (source.quote(entry["watermark"]), sql_literal(wm))
    predicates = None
    if entry["partitions"] > 1:
        col_sql = source.quote(entry["partitionColumn"])
        lo, hi = source.bounds(entry["tableSql"], entry["partitionColumn"], where)
        if lo is not None:
            n = entry["partitions"]
            if not entry["configured"]:
                # Automatic splits keep ranges worth a connection each.
                n = min(n, int((hi - lo) // MIN_KEYS_PER_PARTITION) + 1)
            predicates = range_predicates(col_sql, lo, hi, n)
    if where:
        predicates = ["(%s) AND %s" % (p, where) for p in predicates] if predicates else [where]
    df = source.read(entry["tableSql"], predicates, entry["customSchema"])
    ensure_table(spark, ident, df.schema, args)
    drop_stale_branches(spark, ident)
    spark.sql("ALTER TABLE %s CREATE BRANCH `%s`" % (ident, branch))
    target = "%s.branch_%s" % (ident, branch)
    writer = df.writeTo(target).option("mergeSchema", "true")
    if args["mode"] == "snapshot":
        writer.overwrite(lit(True))
    else:
        writer.append()
    table = iceberg_table(spark, ident)
    _, summary = ref_summary(table, branch)
    _, before = ref_summary(table, "main")
    total = int(summary.get("total-records") or 0)
    if args["mode"] == "snapshot":
        written = total
    else:
        written = total - int(before.get("total-records") or 0)
    return {"name": entry["name"], "sourceTable": entry["sourceTable"], "rowsWritten": written,
            "rowsTotal": total, "partitions": len(predicates) if predicates else 1}


def publish(spark, entries, branch, args):
    """Moves every table's main branch to its staged snapshot."""
    for e in entries:
        _, db, table = e["ident"].split(".")
        spark.sql("CALL %s.system.fast_forward('%s.%s', 'main', '%s')" % (CATALOG, db, table, branch))
    for e in entries:
        spark.sql("ALTER TABLE %s DROP BRANCH IF EXISTS `%s`" % (e["ident"], branch))


def expire_snapshots(spark, entries, args):
    """Expires snapshots older than the retention, keeping the newest.

    Iceberg's own API on the driver: a daily import leaves a handful of
    snapshots per table, too few to need Spark's distributed procedure.
    """
    older_than_ms = int((time.time() - args["snapshot_retention_days"] * 86400) * 1000)
    for e in entries:
        iceberg_table(spark, e["ident"]).expireSnapshots().expireOlderThan(older_than_ms).retainLast(1).commit()


def table_location(spark, ident):
    return str(iceberg_table(spark, ident).location()).rstrip("/") + "/"


def write_text(spark, uri, text):
    """Writes a small object through Spark's Hadoop filesystem (S3 in Glue)."""
    jvm = spark.sparkContext._jvm
    path = jvm.org.apache.hadoop.fs.Path(uri)
    fs = path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    out = fs.create(path, True)
    try:
        out.write(bytearray(text.encode("utf-8")))
    finally:
        out.close()


# ---------------------------------------------------------------- adopt
#
# A table the Lake Formation blueprint wrote (Parquet, catalogued by its
# crawler) under a name this job imports into. Iceberg's Glue catalog
# neither loads nor replaces such a table ("Input Glue table is not an
# iceberg table"), and Glue cannot rename one. `lakeforge adopt --apply`
# marks it (table parameter lakeforge:convert=requested); this job then
# converts it in place before it imports:
#   1. copies its rows, column names mapped, into a new Iceberg table
#      written next to lakeforge's tables (an Iceberg Hadoop catalog on the
#      same warehouse path, so no catalog entry exists yet);
#   2. checks that the copy has every row;
#   3. points the existing Glue table at the copy with one glue:UpdateTable
#      (same name; Glue archives the Parquet definition as a table
#      version), which is how Iceberg's own Glue catalog commits to an
#      existing table: Lake Formation grants and LF-tags on the table stay.
# A failure before step 3 leaves the Parquet table as it was and removes
# the copy. The Parquet files are never touched.

CONVERT_PARAM = "lakeforge:convert"
CONVERT_REQUESTED = "requested"
CONVERTED_FROM_PARAM = "lakeforge:converted-from"
ADOPT_CATALOG = "lakeforge_adopt"
# The characters the Spark Parquet writer rejects in column names (the Lake
# Formation blueprint documentation's note); the blueprint writes "_" in
# their place, so a Parquet column equal to a source column with each of
# them replaced by "_" is that source column.
PARQUET_REJECTS = " ,;{}()\n\t="


def mangled(name):
    return "".join("_" if ch in PARQUET_REJECTS else ch for ch in name)


def column_mapping(parquet_columns, source_columns):
    """{parquet column: source column} for the columns the blueprint renamed."""
    exact = {c.lower() for c in source_columns}
    out = {}
    for p in parquet_columns:
        if p.lower() in exact:
            continue
        found = [s for s in source_columns if mangled(s).lower() == p.lower()]
        if len(found) == 1:
            out[p] = found[0]
        elif len(found) > 1:
            raise ImportError_("Parquet column %s stands for several source columns (%s): rename them in the source"
                               % (p, ", ".join(found)))
    return out


def table_format(table):
    params = {k.lower(): v for k, v in (table.get("Parameters") or {}).items()}
    if params.get("table_type", "").upper() == "ICEBERG":
        return "iceberg"
    sd = table.get("StorageDescriptor") or {}
    serde = ((sd.get("SerdeInfo") or {}).get("SerializationLibrary") or "").lower()
    if params.get("classification", "").lower() == "parquet" or "parquet" in (sd.get("InputFormat") or "").lower() or "parquet" in serde:
        return "parquet"
    return params.get("classification", "unknown").lower()


def hive_type(data_type):
    return data_type.simpleString()


def tables_to_adopt(catalog, entries, args):
    """The entries whose Glue table exists and is not Iceberg, checked
    before anything changes: all of them must be marked Parquet tables."""
    found, problems = [], []
    db = args["lake_database"]
    for e in entries:
        name = args["table_prefix"] + e["name"]
        table = catalog.get(db, name)
        if table is None or table_format(table) == "iceberg":
            continue
        fmt = table_format(table)
        if (table.get("Parameters") or {}).get(CONVERT_PARAM) != CONVERT_REQUESTED:
            problems.append("%s.%s is a %s table lakeforge did not make (the blueprint's?): run `lakeforge adopt`, then "
                            "`lakeforge adopt --apply`, which marks it for conversion to Iceberg in place (docs/migration.md)"
                            % (db, name, fmt))
        elif fmt != "parquet":
            problems.append("%s.%s is a %s table: only Parquet tables are converted; rename or drop it (docs/migration.md)"
                            % (db, name, fmt))
        else:
            found.append((e, table))
    if problems:
        raise ImportError_("nothing imported: " + "; ".join(problems))
    return found


def conform(df, mapping, source_schema, where):
    """The Parquet rows under the source's column names and the types the
    import writes, so the next import continues the same columns. A value
    the cast would change (NULL because it does not fit, or rounded) is an
    error: it is read back through the source type and compared."""
    from pyspark.sql import functions as F
    for old, new in mapping.items():
        df = df.withColumnRenamed(old, new)
    types = {f.name.lower(): f.dataType for f in source_schema.fields}
    casts = [c for c in df.columns if c.lower() in types and df.schema[c].dataType != types[c.lower()]]
    if not casts:
        return df
    q = lambda c: F.col("`%s`" % c.replace("`", "``"))  # noqa: E731
    changed = df.select([F.sum(F.when(~q(c).eqNullSafe(q(c).cast(types[c.lower()]).cast(df.schema[c].dataType)), 1).otherwise(0)).alias(c)
                         for c in casts]).collect()[0]
    lost = ["%s (%s -> %s: %d values do not fit)" % (c, df.schema[c].dataType.simpleString(), types[c.lower()].simpleString(), changed[i])
            for i, c in enumerate(casts) if changed[i]]
    if lost:
        raise ImportError_("%s: the Parquet values of %s do not fit the source's types; nothing converted"
                           % (where, ", ".join(lost)))
    for c in casts:
        df = df.withColumn(c, q(c).cast(types[c.lower()]))
    return df


def convert_table(spark, runtime, catalog, entry, table, source_schema, args):
    """Converts one marked Parquet table in place (see the section comment)."""
    db, name = args["lake_database"], table["Name"]
    parquet_uri = table["StorageDescriptor"]["Location"]
    warehouse = spark.conf.get("spark.sql.catalog.%s.warehouse" % CATALOG)
    for k, v in (("", "org.apache.iceberg.spark.SparkCatalog"), (".type", "hadoop"), (".warehouse", warehouse)):
        spark.conf.set("spark.sql.catalog.%s%s" % (ADOPT_CATALOG, k), v)
    ident = "%s.`%s`.`%s`" % (ADOPT_CATALOG, db, name)
    if spark.catalog.tableExists("%s.%s.%s" % (ADOPT_CATALOG, db, name)):
        raise ImportError_("%s.%s: an Iceberg table already exists where the conversion writes (%s/%s/%s): "
                           "move it away, then run again" % (db, name, warehouse.rstrip("/"), db, name))
    try:
        df = spark.read.parquet(runtime.storage_uri(parquet_uri))
        rows = df.count()
        mapping = column_mapping(df.columns, [f.name for f in source_schema.fields])
        df = conform(df, mapping, source_schema, "%s.%s" % (db, name))
        w = df.writeTo(ident).using("iceberg")
        for k, v in table_properties(args).items():
            w = w.tableProperty(k, v)
        w.create()
        copied = spark.table(ident).count()
        if copied != rows:
            raise ImportError_("%s.%s: the Iceberg copy has %d rows, the Parquet table %d" % (db, name, copied, rows))
        ice = iceberg_table(spark, ident)
        metadata = str(ice.operations().current().metadataFileLocation())
        location = str(ice.location())
        columns = [{"Name": f.name, "Type": hive_type(f.dataType)} for f in spark.table(ident).schema.fields]
        params = {"table_type": "ICEBERG", "metadata_location": runtime.catalog_uri(metadata), CONVERTED_FROM_PARAM: "parquet"}
        table_input = {"Name": name, "TableType": "EXTERNAL_TABLE", "Parameters": params,
                       "StorageDescriptor": {"Location": runtime.catalog_uri(location), "Columns": columns}}
        for k in ("Description", "Owner", "Retention"):
            if table.get(k) is not None:
                table_input[k] = table[k]
        catalog.update(db, table_input, table.get("VersionId"))
    except Exception:
        # The Parquet table is as it was; the copy goes.
        try:
            spark.sql("DROP TABLE IF EXISTS %s PURGE" % ident)
        except Exception:
            pass
        raise
    print("converted %s.%s in place: Parquet (%s, %d rows) -> Iceberg (%s), columns renamed: %s"
          % (db, name, parquet_uri, rows, runtime.catalog_uri(location), json.dumps(mapping) if mapping else "none"))
    return {"table": name, "from": "parquet", "parquetLocation": parquet_uri, "rows": rows, "columns": mapping}


def adopt_tables(spark, runtime, source, entries, args):
    """Converts the marked Parquet tables among the entries; [] without a
    catalog (the local tests that have no Glue catalog)."""
    catalog = getattr(runtime, "catalog", None)
    if catalog is None:
        return []
    done = []
    for e, table in tables_to_adopt(catalog, entries, args):
        schema = source.read(e["tableSql"], ["1 = 0"], e["customSchema"]).schema
        done.append(convert_table(spark, runtime, catalog, e, table, schema, args))
    return done


class GlueTables:
    """glue:GetTable and glue:UpdateTable through boto3 (the adopt step)."""

    def __init__(self, client):
        self.glue = client

    def get(self, db, name):
        try:
            return self.glue.get_table(DatabaseName=db, Name=name)["Table"]
        except self.glue.exceptions.EntityNotFoundException:
            return None

    def update(self, db, table_input, version_id):
        kw = {"DatabaseName": db, "TableInput": table_input}
        if version_id:
            kw["VersionId"] = version_id  # Glue's optimistic lock
        self.glue.update_table(**kw)


# ---------------------------------------------------------------- run

def describe(err):
    """The first line of an error, the Java cause's for a Py4J error."""
    java = getattr(err, "java_exception", None)
    text = str(java.toString()) if java is not None else str(err)
    return (text.strip().splitlines() or [repr(err)])[0]


def run(args, runtime):
    """One import: discover, stage every table, publish, record counts."""
    rid = run_id(args)
    spark = runtime.spark
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    runtime.init(args)
    conf = runtime.jdbc_conf(args["connection_name"])
    source = Source(spark, args["engine"], jdbc_url(conf, args["engine"], args["source_dbname"], args["require_tls"]),
                    conf.get("user") or conf.get("username"), conf.get("password"))
    entries = plan(source, args)
    converted = adopt_tables(spark, runtime, source, entries, args)
    branch = STAGE_BRANCH_PREFIX + re.sub(r"[^A-Za-z0-9_]", "_", rid)[-60:]
    print("importing %d tables, %d at a time: %s" % (len(entries), args["parallel_tables"],
                                                     ", ".join(e["sourceTable"] for e in entries)))
    with ThreadPoolExecutor(max_workers=args["parallel_tables"]) as pool:
        futures = [pool.submit(stage_table, spark, source, e, args, branch) for e in entries]
        results, errors = [], []
        for e, f in zip(entries, futures):
            try:
                results.append(f.result())
            except Exception as err:  # every table gets its chance; all errors are reported
                errors.append("%s: %s" % (e["sourceTable"], describe(err)))
    if errors:
        for e in entries:
            try:
                spark.sql("ALTER TABLE %s DROP BRANCH IF EXISTS `%s`" % (e["ident"], branch))
            except Exception:
                pass  # a table that was never created has no branch
        raise ImportError_("import failed, nothing published (the lake keeps the previous run's tables): " + "; ".join(errors))
    publish(spark, entries, branch, args)
    for e, r in zip(entries, results):
        r["path"] = table_location(spark, e["ident"])
        print("imported %s -> %s: %d rows written, %d in the lake, %d read partitions"
              % (r["sourceTable"], e["ident"], r["rowsWritten"], r["rowsTotal"], r["partitions"]))
    manifest = {"workflowName": args.get("WORKFLOW_NAME", ""), "runId": rid, "mode": args["mode"],
                "tables": [{"name": r["name"], "sourceTable": r["sourceTable"], "path": r["path"],
                            "rowsWritten": r["rowsWritten"], "rowsTotal": r["rowsTotal"],
                            "readPartitions": r["partitions"]} for r in results]}
    if converted:
        manifest["converted"] = converted
    where = runtime.storage_uri(args["runs_path"]) + rid + "/manifest.json"
    write_text(spark, where, json.dumps(manifest, indent=1))
    print("row counts of run %s recorded in %s" % (rid, where))
    expire_snapshots(spark, entries, args)
    runtime.commit()
    return manifest


class GlueRuntime:
    """What only exists inside Glue: GlueContext, argument parsing, the
    connection's JDBC settings (glue:GetConnection and the connection's
    Secrets Manager secret, resolved by Glue) and the job commit."""

    def __init__(self, argv):
        from awsglue.context import GlueContext
        from awsglue.job import Job
        from awsglue.utils import getResolvedOptions
        from pyspark.context import SparkContext
        self.args = resolve_args(argv, getResolvedOptions)
        self.glue_context = GlueContext(SparkContext.getOrCreate())
        self.spark = self.glue_context.spark_session
        self.job = Job(self.glue_context)
        import boto3
        self.catalog = GlueTables(boto3.client("glue"))

    def init(self, args):
        self.job.init(args["JOB_NAME"], args)

    def jdbc_conf(self, connection_name):
        return self.glue_context.extract_jdbc_conf(connection_name)

    def storage_uri(self, uri):
        return uri

    def catalog_uri(self, uri):
        return uri

    def commit(self):
        self.job.commit()


def main():
    runtime = GlueRuntime(sys.argv)
    run(runtime.args, runtime)


if __name__ == "__main__":
    main()
