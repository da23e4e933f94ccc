"""lakeforge import job: copies the crawled source tables into the lake.

Run by the Glue workflow after the JDBC crawler: reads every table the
crawler wrote to the source catalog database, writes each one as Parquet
(Snappy) under <lake_path><table>/, and records each table's row count for
the workflow run in <runs_path><run id>/manifest.json, which VerifyQuery
compares with Athena's counts. The output crawler excludes the runs folder.

Modes:
  snapshot     reload every table each run (overwrite).
  incremental  append only new rows, found with job bookmarks on the
               per-table monotonic key columns of --bookmark_keys.
"""

import json
import re
import sys

REQUIRED_ARGS = ["JOB_NAME", "source_database", "lake_path", "runs_path", "mode", "bookmark_keys"]
# Glue adds these when a workflow trigger starts the job; a job started by
# hand has no workflow run and records its manifest under its job run id.
OPTIONAL_ARGS = ["WORKFLOW_NAME", "WORKFLOW_RUN_ID", "JOB_RUN_ID"]

MODES = ("snapshot", "incremental")


class ImportError_(Exception):
    """A problem the operator must fix; the message says how."""


def resolve_args(argv, get_resolved_options):
    names = REQUIRED_ARGS + [n for n in OPTIONAL_ARGS if "--" + n in argv]
    args = get_resolved_options(argv, names)
    if args["mode"] not in MODES:
        raise ImportError_("--mode is %r: use snapshot or incremental (config import.mode)" % args["mode"])
    for key in ("lake_path", "runs_path"):
        if not args[key].startswith("s3://") or not args[key].endswith("/"):
            raise ImportError_("--%s is %r: an s3:// URI ending with '/'" % (key, args[key]))
    try:
        keys = json.loads(args["bookmark_keys"] or "{}")
    except ValueError as err:
        raise ImportError_("--bookmark_keys is not JSON (config import.bookmarkKeys): %s" % err)
    if not isinstance(keys, dict):
        raise ImportError_("--bookmark_keys must be a JSON object of table -> [columns]")
    args["bookmark_keys"] = keys
    return args


def run_id(args):
    if args.get("WORKFLOW_RUN_ID"):
        return args["WORKFLOW_RUN_ID"]
    if args.get("JOB_RUN_ID"):
        return args["JOB_RUN_ID"]
    raise ImportError_("no WORKFLOW_RUN_ID or JOB_RUN_ID argument: start the job through the workflow")


def lake_name(table):
    """The lake folder of a crawled JDBC table.

    The JDBC crawler names tables <database>_<schema>_<table> and sets their
    location to <database>.<schema>.<table>: the last part is the source
    table's own name, which the output crawler prefixes (as the blueprint's
    tables were, e.g. workflow_kthr01_products).
    """
    location = (table.get("StorageDescriptor") or {}).get("Location") or ""
    base = location.split(".")[-1] if location else table["Name"]
    return re.sub(r"[^a-z0-9_]", "_", base.lower())


def source_tables(glue, database):
    tables = []
    token = None
    while True:
        kwargs = {"DatabaseName": database}
        if token:
            kwargs["NextToken"] = token
        page = glue.get_tables(**kwargs)
        tables.extend(page.get("TableList", []))
        token = page.get("NextToken")
        if not token:
            return tables


def plan(tables, args):
    """What to read and where to write, one entry per source table."""
    if not tables:
        raise ImportError_(
            "the source crawler found no table in database %s: check config source.includePaths and the crawler's last run"
            % args["source_database"])
    keys = args["bookmark_keys"]
    entries = []
    seen = {}
    for table in sorted(tables, key=lambda t: t["Name"]):
        name = lake_name(table)
        if name in seen:
            raise ImportError_(
                "source tables %s and %s both map to lake table %s: narrow config source.includePaths to one schema"
                % (seen[name], table["Name"], name))
        seen[name] = table["Name"]
        options = {}
        if args["mode"] == "incremental":
            cols = keys.get(name)
            if not cols:
                raise ImportError_(
                    "incremental mode needs a monotonic key for table %s: add it to config import.bookmarkKeys" % name)
            options = {"jobBookmarkKeys": list(cols), "jobBookmarkKeysSortOrder": "asc"}
        entries.append({
            "name": name,
            "sourceTable": table["Name"],
            "path": args["lake_path"] + name + "/",
            "options": options,
        })
    return entries


def import_table(glue_context, spark, entry, args):
    """Copies one table; returns (rows written, rows in the lake table)."""
    frame = glue_context.create_dynamic_frame.from_catalog(
        database=args["source_database"],
        table_name=entry["sourceTable"],
        # The transformation context names the bookmark state of this read.
        transformation_ctx="read_" + entry["name"],
        additional_options=entry["options"],
    )
    df = frame.toDF()
    if args["mode"] == "snapshot":
        # Count from the Parquet just written (its footers), not from the
        # source frame: counting that would read the source database twice.
        df.write.mode("overwrite").option("compression", "snappy").parquet(entry["path"])
        total = spark.read.parquet(entry["path"]).count()
        return total, total
    # Incremental: the new rows must be counted before the append; persisting
    # them keeps the count and the write to one read of the source.
    df = df.persist()
    try:
        written = df.count()
        df.write.mode("append").option("compression", "snappy").parquet(entry["path"])
    finally:
        df.unpersist()
    return written, spark.read.parquet(entry["path"]).count()


def split_s3(uri):
    bucket, _, key = uri[len("s3://"):].partition("/")
    return bucket, key


def write_manifest(s3, args, rid, results):
    manifest = {
        "workflowName": args.get("WORKFLOW_NAME", ""),
        "runId": rid,
        "mode": args["mode"],
        "tables": results,
    }
    bucket, prefix = split_s3(args["runs_path"])
    key = prefix + rid + "/manifest.json"
    s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(manifest, indent=1).encode(),
                  ContentType="application/json")
    return "s3://%s/%s" % (bucket, key)


def run(args, glue_context, spark, job, glue, s3):
    rid = run_id(args)
    job.init(args["JOB_NAME"], args)
    results = []
    for entry in plan(source_tables(glue, args["source_database"]), args):
        written, total = import_table(glue_context, spark, entry, args)
        print("imported %s -> %s: %d rows written, %d in the lake" % (entry["sourceTable"], entry["path"], written, total))
        results.append({"name": entry["name"], "sourceTable": entry["sourceTable"], "path": entry["path"],
                        "rowsWritten": written, "rowsTotal": total})
    where = write_manifest(s3, args, rid, results)
    print("row counts of run %s recorded in %s" % (rid, where))
    # Commit last: a failed run leaves the bookmarks where they were.
    job.commit()
    return results


def main():
    import boto3
    from awsglue.context import GlueContext
    from awsglue.job import Job
    from awsglue.utils import getResolvedOptions
    from pyspark.context import SparkContext

    args = resolve_args(sys.argv, getResolvedOptions)
    glue_context = GlueContext(SparkContext.getOrCreate())
    run(args, glue_context, glue_context.spark_session, Job(glue_context),
        boto3.client("glue"), boto3.client("s3"))


if __name__ == "__main__":
    main()
