"""lakeforge import job: copies the source database's tables into the lake.

Run by the Glue workflow (on-demand trigger -> this job). It needs no AWS API
to find its work, so a subnet with only an S3 gateway endpoint reaches the
source and the lake:

0. Recover: a publish an earlier attempt left half done is completed (or
   rolled back) first (importjob_publish).
1. Discover: the source's tables, columns and primary keys come from the
   database itself (information_schema over JDBC), filtered by the include
   paths of config source.includePaths (the crawler's syntax, % wildcards).
2. Stage: in one consistent picture of the source (importjob_source: one
   exported snapshot per run on PostgreSQL, one statement per table on
   MySQL/MariaDB), every table is read (partitioned JDBC reads on
   PostgreSQL) several tables at a time, and written to a staging branch of
   its Apache Iceberg table as its mode says (importjob_stage: snapshot,
   incremental or merge). The analyst reads the main branch, which staging
   never changes.
3. Prove: the source database and Spark compute each table's row count and
   checksum; a mismatch fails the run (importjob_proof).
4. Publish: only when every table is staged and proven, each table's main
   branch is fast-forwarded to its staged snapshot under a journal that the
   next attempt completes if the job dies midway; the manifest (counts and
   proof figures) goes to <runs_path><run id>/manifest.json for VerifyQuery.
5. Maintain: compaction, snapshot expiry, orphan-file removal.

A failed, killed or timed-out run therefore leaves the analyst the previous
run's tables, complete; the previous snapshots stay for time travel.

Only what exists solely inside Glue sits behind GlueRuntime (arguments,
GlueContext, connection-to-JDBC resolution, job commit); local_runtime.py is
the stand-in the tests and the benchmark use. Everything else here and in
the importjob_*.py modules (shipped with --extra-py-files) is the code Glue
runs.
"""

import json
import re
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from importjob_lake import CATALOG, STAGE_BRANCH_PREFIX
from importjob_source import (  # noqa: F401 - the tests use these names here
    INTEGER_TYPES, ImportError_, Source, jdbc_url, like_to_regex, matches, range_predicates, sql_literal)
import importjob_lake as lake
from importjob_adopt import (  # noqa: F401 - the tests use these names here
    CONVERT_PARAM, CONVERT_REQUESTED, CONVERTED_FROM_PARAM, GlueTables, adopt_tables, column_mapping,
    convert_table, mangled, table_format, tables_to_adopt)
import importjob_proof as proof
import importjob_publish as publisher
import importjob_stage as stager

REQUIRED_ARGS = [
    "JOB_NAME", "connection_name", "engine", "source_dbname", "include_paths", "require_tls",
    "lake_database", "table_prefix", "lake_path", "runs_path", "mode", "bookmark_keys",
    "partitioning", "read_partitions", "parallel_tables", "snapshot_retention_days",
    "tables", "merge_overlap_minutes", "orphan_file_age_hours",
]
# Glue adds these when a workflow trigger starts the job; a job started by
# hand has no workflow run and records its manifest under its job run id.
OPTIONAL_ARGS = ["WORKFLOW_NAME", "WORKFLOW_RUN_ID", "JOB_RUN_ID"]

MODES = ("snapshot", "incremental", "merge")
ENGINES = ("postgresql", "mysql", "mariadb")
TABLE_SETTINGS = {"mode": str, "key": list, "changeColumn": str, "overlapValues": int}
COLUMN = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")


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


def _tables_arg(args):
    """--tables: {lake table: {mode, key, changeColumn, overlapValues}}."""
    tables = {}
    for name, spec in _json_arg(args, "tables", dict, "import.tables").items():
        where = "--tables.%s (config import.tables.%s)" % (name, name)
        if not isinstance(spec, dict):
            raise ImportError_("%s is %r: an object of mode, key, changeColumn, overlapValues" % (where, spec))
        for k, v in spec.items():
            if k not in TABLE_SETTINGS:
                raise ImportError_("%s has %r: the settings are %s" % (where, k, ", ".join(TABLE_SETTINGS)))
            if v is not None and not isinstance(v, TABLE_SETTINGS[k]):
                raise ImportError_("%s.%s is %r: a JSON %s" % (where, k, v, TABLE_SETTINGS[k].__name__))
        if spec.get("mode") and spec["mode"] not in MODES:
            raise ImportError_("%s.mode is %r: snapshot, incremental or merge" % (where, spec["mode"]))
        for col in (spec.get("key") or []) + ([spec["changeColumn"]] if spec.get("changeColumn") else []):
            if not isinstance(col, str) or not COLUMN.fullmatch(col):
                raise ImportError_("%s: %r is not a column name" % (where, col))
        tables[name.lower()] = {"mode": spec.get("mode") or None, "key": spec.get("key") or [],
                                "changeColumn": spec.get("changeColumn") or None,
                                "overlapValues": int(spec.get("overlapValues") or 0)}
    return tables


def check_args(args):
    if args["mode"] not in MODES:
        raise ImportError_("--mode is %r: use snapshot, incremental or merge (config import.mode)" % args["mode"])
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
    args["tables"] = _tables_arg(args)
    args["read_partitions"] = _int_arg(args, "read_partitions", 1, "import.numberOfWorkers")
    args["parallel_tables"] = _int_arg(args, "parallel_tables", 1, "import.numberOfWorkers")
    args["snapshot_retention_days"] = _int_arg(args, "snapshot_retention_days", 0, "import.snapshotRetentionDays")
    args["merge_overlap_minutes"] = _int_arg(args, "merge_overlap_minutes", 0, "import.mergeOverlapMinutes")
    args["orphan_file_age_hours"] = _int_arg(args, "orphan_file_age_hours", 1, "import.orphanFileAgeHours")
    if not re.fullmatch(r"[a-z0-9_]{1,255}", args["lake_database"]):
        raise ImportError_("--lake_database is %r: a lower-case Glue database name (config database.name)" % args["lake_database"])
    return args


def run_id(args):
    if args.get("WORKFLOW_RUN_ID"):
        return args["WORKFLOW_RUN_ID"]
    if args.get("JOB_RUN_ID"):
        return args["JOB_RUN_ID"]
    raise ImportError_("no WORKFLOW_RUN_ID or JOB_RUN_ID argument: start the job through the workflow")


# ---------------------------------------------------------------- plan

def lake_name(table):
    """The lake table name (before the prefix) of a source table."""
    return re.sub(r"[^a-z0-9_]", "_", table.lower())


def merge_settings(entry, setting, pk, columns):
    """The key and change column of a merge table, or an error naming the
    table and the setting that fixes it."""
    name = entry["name"]
    have = {c.lower(): c for c in columns}
    chg = setting.get("changeColumn")
    if not chg:
        raise ImportError_(
            "table %s is in merge mode but has no change column: set import.tables.%s.changeColumn to the column the "
            "application sets on every insert and update (for example updated_at), or set import.tables.%s.mode to "
            "snapshot" % (entry["sourceTable"], name, name))
    if chg.lower() not in have:
        raise ImportError_("import.tables.%s.changeColumn is %r: table %s has no such column (it has %s)"
                           % (name, chg, entry["sourceTable"], ", ".join(columns)))
    key = setting.get("key") or [c for c, _ in pk]
    if not key:
        raise ImportError_(
            "table %s is in merge mode but has no primary key: set import.tables.%s.key to the columns that identify "
            "a row, or set import.tables.%s.mode to snapshot" % (entry["sourceTable"], name, name))
    for k in key:
        if k.lower() not in have:
            raise ImportError_("import.tables.%s.key names %r: table %s has no such column (it has %s)"
                               % (name, k, entry["sourceTable"], ", ".join(columns)))
    entry["changeColumn"] = have[chg.lower()]
    entry["key"] = [have[k.lower()] for k in key]
    entry["overlapValues"] = setting.get("overlapValues") or 0


def plan(source, args):
    """What to read and where to write, one entry per source table."""
    keys = source.keys()
    zoned = source.zoned_timestamps()
    columns = source.columns()
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
        setting = args["tables"].get(name, {})
        cols = columns.get((schema, table), [])
        entry = {
            "name": name,
            "sourceTable": "%s.%s" % (schema, table),
            "tableSql": source.qualified(schema, table),
            "ident": "%s.%s.%s" % (CATALOG, args["lake_database"], args["table_prefix"] + name),
            "mode": setting.get("mode") or args["mode"],
            "partitionColumn": None,
            "partitions": 1,
            "configured": False,
            "watermark": None,
            "zoned": zoned.get((schema, table), []),
            "customSchema": ", ".join("`%s` TIMESTAMP" % c.replace("`", "``") for c in zoned.get((schema, table), [])),
            "checksumColumns": [(c, k) for c, k in ((c, proof.kind(args["engine"], t, ct, sc)) for c, t, ct, sc in cols)
                                if k is not None],
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
        if entry["mode"] == "incremental":
            col = args["bookmark_keys"].get(name)
            if not col:
                raise ImportError_(
                    "incremental mode needs a monotonic key for table %s: add it to config import.bookmarkKeys" % name)
            entry["watermark"] = col
        elif entry["mode"] == "merge":
            merge_settings(entry, setting, pk, [c for c, _, _, _ in cols])
            types = {c.lower(): t for c, t, _, _ in cols}
            entry["integerKey"] = len(entry["key"]) == 1 and types[entry["key"][0].lower()].split()[0] in INTEGER_TYPES
        entries.append(entry)
    if not entries:
        raise ImportError_(
            "no source table matches the include paths %s: check config source.includePaths and the connection's user"
            % json.dumps(args["include_paths"]))
    return entries


# ---------------------------------------------------------------- run

def describe(err):
    """The first line of an error, the Java cause's for a Py4J error."""
    java = getattr(err, "java_exception", None)
    text = str(java.toString()) if java is not None else str(err)
    return (text.strip().splitlines() or [repr(err)])[0]


def stage_all(spark, source, entries, args, branch, rid):
    """Stages every table in the run's consistent picture of the source.
    Returns (results, errors)."""
    source.export_snapshot()
    try:
        with ThreadPoolExecutor(max_workers=args["parallel_tables"]) as pool:
            futures = [pool.submit(stager.stage, spark, source, e, args, branch, rid) for e in entries]
            results, errors = [], []
            for e, f in zip(entries, futures):
                try:
                    results.append(f.result())
                except Exception as err:  # every table gets its chance; all errors are reported
                    errors.append("%s: %s" % (e["sourceTable"], describe(err)))
    finally:
        source.release_snapshot()
    return results, errors


def manifest_table(r):
    out = {"name": r["name"], "sourceTable": r["sourceTable"], "mode": r["mode"], "path": r["path"],
           "rowsWritten": r["rowsWritten"], "rowsTotal": r["rowsTotal"], "readPartitions": r["partitions"],
           "proof": r["proof"]}
    for k in ("rowsDeleted", "deletesFoundBy", "watermark", "readFrom"):
        if k in r:
            out[k] = r[k]
    return out


def run(args, runtime):
    """One import: recover, discover, stage and prove, publish, maintain."""
    rid = run_id(args)
    spark = runtime.spark
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    runtime.init(args)
    runs_uri = runtime.storage_uri(args["runs_path"])
    publisher.recover(spark, runs_uri)
    conf = runtime.jdbc_conf(args["connection_name"])
    source = Source(spark, args["engine"], jdbc_url(conf, args["engine"], args["source_dbname"], args["require_tls"]),
                    conf.get("user") or conf.get("username"), conf.get("password"))
    entries = plan(source, args)
    converted = adopt_tables(spark, runtime, source, entries, args)
    branch = STAGE_BRANCH_PREFIX + re.sub(r"[^A-Za-z0-9_]", "_", rid)[-60:]
    print("importing %d tables, %d at a time: %s" % (len(entries), args["parallel_tables"],
                                                     ", ".join("%s (%s)" % (e["sourceTable"], e["mode"]) for e in entries)))
    for e in entries:
        e["runsUri"] = runs_uri  # where merge runs keep the source's key ranges
    results, errors = stage_all(spark, source, entries, args, branch, rid)
    if errors:
        for e in entries:
            try:
                lake.drop_branch(spark, e["ident"], branch)
            except Exception:
                pass  # a table that was never created has no branch
        raise ImportError_("import failed, nothing published (the lake keeps the previous run's tables): " + "; ".join(errors))
    for e, r in zip(entries, results):
        r["path"] = str(lake.iceberg_table(spark, e["ident"]).location()).rstrip("/") + "/"
        p = r["proof"]
        print("staged %s -> %s (%s) in %s: %d rows written, %d in the lake, %d read partitions; proof: %d rows, "
              "checksum %s at the source and in the lake" % (
                  r["sourceTable"], e["ident"], r["mode"], ", ".join("%s %.1f s" % kv for kv in r.pop("seconds").items()),
                  r["rowsWritten"], r["rowsTotal"], r["partitions"], p["sourceRows"], p["sourceChecksum"]))
    manifest = {"workflowName": args.get("WORKFLOW_NAME", ""), "runId": rid, "mode": args["mode"],
                "tables": [manifest_table(r) for r in results]}
    if converted:
        manifest["converted"] = converted
    started = time.monotonic()
    publisher.publish(spark, runs_uri, rid, branch, entries, manifest)
    print("published run %s in %.1f s; row counts and proof figures in %s" % (
        rid, time.monotonic() - started, runs_uri + rid + "/manifest.json"))
    for e in entries:
        started = time.monotonic()
        done = publisher.maintain(spark, e["ident"], args)
        print("maintenance of %s in %.1f s%s" % (e["ident"], time.monotonic() - started,
                                                 (": " + json.dumps(done)) if done else ""))
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
