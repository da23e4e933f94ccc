"""The demo's local Spark side (pkg/demo): runs the real import job
(infra/glue/import_job.py with infra/glue/local_runtime.py, the stand-in for
what only Glue provides) and answers SQL on the lake it wrote, with one
SparkSession for both.

Line protocol, one JSON document per line:
  {"cmd": "import", "arguments": {...}, "connection": {...}, "secret": {...}, "warehouse": "...", "catalog": true}
      ("catalog": the adopt step reads and updates moto's Glue catalog through
      boto3, with the process's AWS_ENDPOINT_URL)
      -> {"ok": true, "manifest": {...}, "manifestFile": "..."} | {"ok": false, "error": "..."}
  {"cmd": "blueprint", "arguments": {...}, "warehouse": "...", "jdbc": {"url", "user", "password"},
   "tables": [{"source": "schema.table", "location": "s3://..."}]}
      -> {"ok": true, "columns": {location: [{"name", "type"}]}, "rows": {location: n}}
      (the Lake Formation blueprint's job, for the migration test: Parquet as it writes it)
  {"cmd": "sql", "sql": "..."} -> {"ok": true, "columns": [...], "rows": [[...]]} | {"ok": false, ...}
"""

import json
import os
import sys
import time
import traceback

# The protocol owns the original stdout; everything else that writes to
# stdout (the job's prints, the JVM Spark starts) goes to stderr instead.
PROTO = os.fdopen(os.dup(1), "w")
os.dup2(2, 1)
sys.stdout = sys.stderr

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "infra", "glue"))
os.environ["TZ"] = "UTC"
time.tzset()

import import_job  # noqa: E402
import local_runtime  # noqa: E402

state = {}


def reply(msg):
    PROTO.write(json.dumps(msg, default=str) + "\n")
    PROTO.flush()


def run_import(req):
    catalog = None
    if req.get("catalog"):
        import boto3
        catalog = boto3.client("glue")
    rt = local_runtime.LocalRuntime(req["arguments"], req["warehouse"], req["connection"], req["secret"], catalog=catalog)
    state["rt"] = rt
    manifest = import_job.run(rt.args, rt)
    where = rt.storage_uri(rt.args["runs_path"])[len("file://"):] + manifest["runId"] + "/manifest.json"
    return {"ok": True, "manifest": manifest, "manifestFile": where}


def run_blueprint(req):
    """Writes Parquet tables as the blueprint's Glue job does: a plain JDBC
    read (no lakeforge options), the column names the Spark Parquet writer
    rejects written with "_", one directory of Parquet files per table."""
    spark = local_runtime.spark_session(req["arguments"], req["warehouse"])
    j = req["jdbc"]
    columns, rows = {}, {}
    for t in req["tables"]:
        df = (spark.read.format("jdbc").option("url", j["url"]).option("user", j["user"]).option("password", j["password"])
              .option("driver", "org.postgresql.Driver").option("dbtable", t["source"]).load())
        for c in df.columns:
            if import_job.mangled(c) != c:
                df = df.withColumnRenamed(c, import_job.mangled(c))
        df.write.mode("overwrite").parquet(local_runtime.storage_uri(t["location"], req["warehouse"]))
        columns[t["location"]] = [{"name": f.name, "type": f.dataType.simpleString()} for f in df.schema.fields]
        rows[t["location"]] = df.count()
    return {"ok": True, "columns": columns, "rows": rows}


def run_sql(req):
    rt = state.get("rt")
    if rt is None:
        return {"ok": False, "error": "no import has run in this process, so there is no lake to query"}
    df = rt.spark.sql(req["sql"])
    return {"ok": True, "columns": df.columns, "rows": [[None if v is None else str(v) for v in r] for r in df.collect()]}


for line in sys.stdin:
    req = json.loads(line)
    try:
        cmd = {"import": run_import, "blueprint": run_blueprint, "sql": run_sql}[req["cmd"]]
        reply(cmd(req))
    except Exception as e:  # the Go side prints it; never a fake answer
        reply({"ok": False, "error": "%s: %s" % (type(e).__name__, e), "trace": traceback.format_exc()[-2000:]})
