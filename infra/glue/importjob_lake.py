"""The lake side of the import: Iceberg tables in the job's catalog, their
staging branches, the facts a run keeps in its snapshots' summaries, and
small objects (manifest, publish journal) next to the tables."""

import json

# The Spark catalog the job's --conf configures (Glue Data Catalog in Glue).
CATALOG = "glue_catalog"
STAGE_BRANCH_PREFIX = "lakeforge_stage_"

# Snapshot summary keys a merge run writes on its staged snapshot, so the
# watermark travels with the data it describes: a failed run publishes no
# snapshot and moves no watermark, and rolling main back rolls it back too.
WATERMARK = "lakeforge.watermark"
WATERMARK_TYPE = "lakeforge.watermark-type"
CHANGE_COLUMN = "lakeforge.change-column"
RUN_ID = "lakeforge.run-id"
# The proof's lake figures of the published data (merge mode), so the next
# merge run can prove the table from its changed rows.
PROOF_ROWS = "lakeforge.proof-rows"
PROOF_CHECKSUM = "lakeforge.proof-checksum"
PROOF_COLUMNS = "lakeforge.proof-columns"
# Where the run that proved those figures kept the source's key set as
# ranges of consecutive keys (a JSON object under the runs path, relative
# to it), so the next merge run finds the deleted keys without a scan.
KEY_RANGES = "lakeforge.key-ranges"
PROVEN = (PROOF_ROWS, PROOF_CHECKSUM, PROOF_COLUMNS, KEY_RANGES)
CARRIED = (WATERMARK, WATERMARK_TYPE, CHANGE_COLUMN) + PROVEN

ACCEPT_ANY_SCHEMA = "write.spark.accept-any-schema"
# Old metadata files beyond this many are deleted at each commit.
METADATA_VERSIONS_KEPT = 20


def quote(name):
    return "`%s`" % name.replace("`", "``")


def table_exists(spark, ident):
    return spark.catalog.tableExists(ident)


def iceberg_table(spark, ident):
    """The Iceberg Table object: metadata reads without a Spark job."""
    jvm = spark.sparkContext._jvm
    table = jvm.org.apache.iceberg.spark.Spark3Util.loadIcebergTable(spark._jsparkSession, ident)
    table.refresh()
    return table


def ref_snapshot(table, ref):
    """The snapshot id at a branch, None when the branch does not exist."""
    r = table.refs().get(ref)
    return None if r is None else r.snapshotId()


def summary(table, snapshot_id, keys=None):
    if snapshot_id is None:
        return {}
    s = table.snapshot(snapshot_id).summary()
    if keys is None:
        return {k: s.get(k) for k in s.keySet()}
    return {k: s.get(k) for k in keys if s.get(k) is not None}


def table_properties(args, merge=False):
    days_ms = args["snapshot_retention_days"] * 24 * 3600 * 1000
    props = {
        "format-version": "2",
        "history.expire.max-snapshot-age-ms": str(days_ms),
        "history.expire.min-snapshots-to-keep": "1",
        # A dropped source column leaves its lake column, NULL from then on.
        ACCEPT_ANY_SCHEMA: "true",
        # Bounded metadata: each commit writes a new metadata file; the
        # oldest beyond these are deleted.
        "write.metadata.delete-after-commit.enabled": "true",
        "write.metadata.previous-versions-max": str(METADATA_VERSIONS_KEPT),
    }
    if merge:
        # Iceberg 1.7.1's MERGE INTO cannot resolve the target's columns on
        # a table that accepts any schema; merge writes name every column
        # instead (aligned below).
        del props[ACCEPT_ANY_SCHEMA]
        # A merge writes the changed rows and delete files for the rows
        # they replace, instead of rewriting every data file holding one
        # (copy-on-write); compaction folds the deletes back in.
        props.update({"write.merge.mode": "merge-on-read", "write.update.mode": "merge-on-read",
                      "write.delete.mode": "merge-on-read"})
    return props


def nullable(schema):
    from pyspark.sql.types import StructType, StructField
    return StructType([StructField(f.name, f.dataType, True) for f in schema.fields])


def ensure_table(spark, ident, schema, args, merge=False):
    """Creates a missing table (empty), adds columns new in the source, and
    brings the table properties lakeforge owns up to date."""
    props = table_properties(args, merge)
    if not table_exists(spark, ident):
        # An empty snapshot (from an RDD with no partitions: no task runs),
        # so the staging branch has a parent.
        empty = spark.createDataFrame(spark.sparkContext.emptyRDD(), nullable(schema))
        w = empty.writeTo(ident).using("iceberg")
        for k, v in props.items():
            w = w.tableProperty(k, v)
        w.create()
        return
    have = {f.name.lower() for f in spark.table(ident).schema.fields}
    for f in schema.fields:
        if f.name.lower() not in have:
            spark.sql("ALTER TABLE %s ADD COLUMN %s %s" % (ident, quote(f.name), f.dataType.simpleString()))
    current = iceberg_table(spark, ident).properties()
    stale = {k: v for k, v in props.items() if k != "format-version" and current.get(k) != v}
    if stale:
        spark.sql("ALTER TABLE %s SET TBLPROPERTIES (%s)" % (
            ident, ", ".join("'%s'='%s'" % (k, v) for k, v in sorted(stale.items()))))
    if merge and current.get(ACCEPT_ANY_SCHEMA) is not None:
        spark.sql("ALTER TABLE %s UNSET TBLPROPERTIES ('%s')" % (ident, ACCEPT_ANY_SCHEMA))


def aligned(spark, df, ident):
    """df with exactly the table's columns, in its order: a column the
    source no longer has is NULL (its old values stay in history)."""
    from pyspark.sql import functions as F
    have = {c.lower(): c for c in df.columns}
    return df.select(*[F.col(quote(have[f.name.lower()])).alias(f.name) if f.name.lower() in have
                       else F.lit(None).cast(f.dataType).alias(f.name) for f in spark.table(ident).schema.fields])


def drop_branch(spark, ident, branch):
    spark.sql("ALTER TABLE %s DROP BRANCH IF EXISTS %s" % (ident, quote(branch)))


def stale_branches(spark, ident):
    return [n for n in iceberg_table(spark, ident).refs().keySet() if n.startswith(STAGE_BRANCH_PREFIX)]


def commit_summary(spark, ident, branch, props):
    """Records props in the summary of a new snapshot on branch that
    changes no data (an append of no files): Iceberg 1.7's SQL MERGE has no
    way to add summary properties to its own commit."""
    table = iceberg_table(spark, ident)
    op = table.newAppend().toBranch(branch)
    for k, v in props.items():
        op = op.set(k, v)
    op.commit()


def watermark(spark, ident, change_column):
    """(value text, type) of the newest watermark among main's ancestors
    that was read on change_column, (None, None) when there is none.
    Ancestors, because compaction commits on top of a merge's snapshot."""
    if not table_exists(spark, ident):
        return None, None
    table = iceberg_table(spark, ident)
    sid = ref_snapshot(table, "main")
    while sid is not None:
        snap = table.snapshot(sid)
        if snap is None:  # expired ancestor: nothing older is known
            break
        s = snap.summary()
        if s.get(WATERMARK) is not None and s.get(CHANGE_COLUMN) == change_column:
            return s.get(WATERMARK), s.get(WATERMARK_TYPE)
        parent = snap.parentId()
        sid = None if parent is None else parent
    return None, None


def main_summary(spark, ident):
    """The summary of the snapshot main holds now ({} when the table or main
    does not exist yet): where the last proof left its figures."""
    if not table_exists(spark, ident):
        return {}
    table = iceberg_table(spark, ident)
    return summary(table, ref_snapshot(table, "main"))


def proven_figures(s, columns):
    """(rows, checksum) the job proved for the data main holds now (s, its
    main_summary), None when main's snapshot does not carry them over the
    same columns: a commit by anything but a merge run or compaction (which
    carries them) makes the next merge run recompute the figures from every
    row."""
    if s.get(PROOF_CHECKSUM) is None or s.get(PROOF_COLUMNS) != ",".join(columns):
        return None
    return int(s.get(PROOF_ROWS)), s.get(PROOF_CHECKSUM)


def proven_key_ranges(spark, s, runs_uri, key):
    """The key ranges [(lo, hi)] recorded with the proof of the data main
    holds now (s, its main_summary), None when main's snapshot has none,
    they are of another key, or they do not hold exactly its proven row
    count of keys."""
    if s.get(KEY_RANGES) is None or s.get(PROOF_ROWS) is None:
        return None
    kept = read_json(spark, runs_uri + s.get(KEY_RANGES))
    if kept is None or kept.get("key") != key:
        return None
    ranges = [(int(lo), int(hi)) for lo, hi in kept["ranges"]]
    if sum(hi - lo + 1 for lo, hi in ranges) != int(s.get(PROOF_ROWS)):
        return None
    return ranges


def carried_summary(spark, ident):
    """The lakeforge facts main's data carries, for a commit that rewrites
    files without changing the data (compaction): the newest watermark among
    main's ancestors, and the proof figures if main's own snapshot has them."""
    table = iceberg_table(spark, ident)
    sid = ref_snapshot(table, "main")
    out, first = {}, True
    while sid is not None:
        snap = table.snapshot(sid)
        if snap is None:
            break
        s = snap.summary()
        if first:
            out.update({k: s.get(k) for k in PROVEN if s.get(k) is not None})
            first = False
        if s.get(WATERMARK) is not None:
            out.update({k: s.get(k) for k in (WATERMARK, WATERMARK_TYPE, CHANGE_COLUMN) if s.get(k) is not None})
            return out
        sid = snap.parentId()
    return out


# ---------------------------------------------------------------- objects

def _fs(spark, uri):
    jvm = spark.sparkContext._jvm
    path = jvm.org.apache.hadoop.fs.Path(uri)
    return path, path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())


def write_text(spark, uri, text):
    """Writes a small object through Spark's Hadoop filesystem (S3 in Glue)."""
    path, fs = _fs(spark, uri)
    out = fs.create(path, True)
    try:
        out.write(bytearray(text.encode("utf-8")))
    finally:
        out.close()


def read_text(spark, uri):
    """A small object's text, None when it does not exist."""
    path, fs = _fs(spark, uri)
    if not fs.exists(path):
        return None
    jvm = spark.sparkContext._jvm
    stream = fs.open(path)
    try:
        return jvm.org.apache.commons.io.IOUtils.toString(stream, "UTF-8")
    finally:
        stream.close()


def delete_object(spark, uri):
    path, fs = _fs(spark, uri)
    fs.delete(path, False)


def write_json(spark, uri, value):
    write_text(spark, uri, json.dumps(value, indent=1))


def read_json(spark, uri):
    text = read_text(spark, uri)
    return None if text is None else json.loads(text)
