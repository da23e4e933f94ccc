"""Publishing a run, and keeping the published tables in shape.

Publish: Iceberg commits one table at a time, so a job that dies between two
tables' fast-forwards would leave the analyst some tables of today and some
of yesterday. Before the first fast-forward the run writes a journal (the
tables, the snapshot each main branch had and the staged one it moves to,
and the run's manifest) to <runs_path>publish-journal.json; it deletes the
journal when every table is published. The next attempt (a retry of the
run, or the next run) finds the journal before it stages anything and
completes the publish: every staged snapshot was proven equal to the source
at one moment, so completing it gives the analyst one run's tables. Only
when a table's main branch has since moved elsewhere (someone rolled it
back or forward by hand) does it roll the tables it had moved back instead.

Maintenance, after each publish, inside the job (Iceberg's Spark actions,
with the job's own full-table access): compaction of small data files and
merge delete files once a table has more than MAX_DATA_FILES data files or
MAX_DELETE_FILES delete files; expiry of snapshots older than the retention
(the newest always kept); removal of orphan files (under the table's
location, referenced by no snapshot, older than --orphan_file_age_hours).
Old metadata files are bounded by table properties (importjob_lake).
"""

import time

import importjob_lake as lake

JOURNAL = "publish-journal.json"
MAX_DATA_FILES = 8
MAX_DELETE_FILES = 4


def journal_uri(runs_uri):
    return runs_uri + JOURNAL


def fast_forward(spark, ident, branch):
    """Moves one table's main branch to its staged snapshot."""
    _, db, table = ident.split(".")
    spark.sql("CALL %s.system.fast_forward('%s.%s', 'main', '%s')" % (lake.CATALOG, db, table, branch))


def publish(spark, runs_uri, rid, branch, entries, manifest):
    """Journal, fast-forward every table, write the manifest, end the journal."""
    tables = []
    for e in entries:
        t = lake.iceberg_table(spark, e["ident"])
        tables.append({"ident": e["ident"], "before": lake.ref_snapshot(t, "main"),
                       "staged": lake.ref_snapshot(t, branch)})
    journal = {"runId": rid, "branch": branch, "tables": tables, "manifest": manifest}
    lake.write_json(spark, journal_uri(runs_uri), journal)
    for t in tables:
        fast_forward(spark, t["ident"], branch)
    finish(spark, runs_uri, journal)


def finish(spark, runs_uri, journal):
    lake.write_json(spark, runs_uri + journal["runId"] + "/manifest.json", journal["manifest"])
    for t in journal["tables"]:
        lake.drop_branch(spark, t["ident"], journal["branch"])
    lake.delete_object(spark, journal_uri(runs_uri))


def recover(spark, runs_uri):
    """Completes (or, when it cannot, rolls back) an interrupted publish.
    Returns what it did, None when there was nothing to do."""
    journal = lake.read_json(spark, journal_uri(runs_uri))
    if journal is None:
        return None
    state = []
    for t in journal["tables"]:
        table = lake.iceberg_table(spark, t["ident"])
        main = lake.ref_snapshot(table, "main")
        state.append((t, table, main))
    if all(main in (t["before"], t["staged"]) for t, _, main in state):
        for t, _, main in state:
            if main != t["staged"]:
                fast_forward(spark, t["ident"], journal["branch"])
        finish(spark, runs_uri, journal)
        print("completed the interrupted publish of run %s (%d tables)" % (journal["runId"], len(state)))
        return "completed"
    for t, table, main in state:
        if main == t["staged"] and t["before"] is not None:
            table.manageSnapshots().replaceBranch("main", t["before"]).commit()
        lake.drop_branch(spark, t["ident"], journal["branch"])
    lake.delete_object(spark, journal_uri(runs_uri))
    moved = [t["ident"] for t, _, main in state if main not in (t["before"], t["staged"])]
    print("rolled back the interrupted publish of run %s: the main branch of %s moved since" % (
        journal["runId"], ", ".join(moved)))
    return "rolled back"


# ---------------------------------------------------------------- maintenance

def maintain(spark, ident, args):
    """Compaction, snapshot expiry and orphan removal for one table."""
    jvm = spark.sparkContext._jvm
    actions = jvm.org.apache.iceberg.spark.actions.SparkActions.get(spark._jsparkSession)
    table = lake.iceberg_table(spark, ident)
    current = table.currentSnapshot()
    done = {}
    if current is not None:
        s = current.summary()
        data, deletes = int(s.get("total-data-files") or 0), int(s.get("total-delete-files") or 0)
        if data > MAX_DATA_FILES or deletes > MAX_DELETE_FILES:
            rewrite = (actions.rewriteDataFiles(table)
                       .option("min-input-files", "2")
                       # Every file a merge deleted rows of is rewritten with
                       # the deletes applied; the delete files then go.
                       .option("delete-file-threshold", "1")
                       .option("remove-dangling-deletes", "true"))
            for k, v in lake.carried_summary(spark, ident).items():
                rewrite = rewrite.snapshotProperty(k, v)
            r = rewrite.execute()
            done["compacted"] = {"rewrittenFiles": r.rewrittenDataFilesCount(), "addedFiles": r.addedDataFilesCount()}
    table.refresh()
    older_than = int((time.time() - args["snapshot_retention_days"] * 86400) * 1000)
    table.expireSnapshots().expireOlderThan(older_than).retainLast(1).commit()
    table.refresh()
    orphans_before = int((time.time() - args["orphan_file_age_hours"] * 3600) * 1000)
    r = actions.deleteOrphanFiles(table).olderThan(orphans_before).execute()
    removed = [str(p) for p in r.orphanFileLocations()]
    if removed:
        done["orphansRemoved"] = len(removed)
    return done
