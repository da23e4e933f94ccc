"""The demo's local Spark side (pkg/demo): runs the real import job
(infra/glue/import_job.py with infra/glue/local_runtime.py, the stand-in for
what only Glue provides) and answers SQL on the lake it wrote, with one
SparkSession for both.

Line protocol, one JSON document per line:
  {"cmd": "import", "arguments": {...}, "connection": {...}, "secret": {...}, "warehouse": "...", "catalog": true}
      ("catalog": the adopt step reads and updates moto's Glue catalog through
      boto3, with the process's AWS_ENDPOINT_URL)
      -> {"ok": true, "manifest": {...}, "manifestFile": "..."} | {"ok": false, "error": "..."}
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


def run_sql(req):
    rt = state.get("rt")
    if rt is None:
        return {"ok": False, "error": "no import has run in this process, so there is no lake to query"}
    df = rt.spark.sql(req["sql"])
    return {"ok": True, "columns": df.columns, "rows": [[None if v is None else str(v) for v in r] for r in df.collect()]}


for line in sys.stdin:
    req = json.loads(line)
    try:
        reply(run_import(req) if req["cmd"] == "import" else run_sql(req))
    except Exception as e:  # the Go side prints it; never a fake answer
        reply({"ok": False, "error": "%s: %s" % (type(e).__name__, e), "trace": traceback.format_exc()[-2000:]})
