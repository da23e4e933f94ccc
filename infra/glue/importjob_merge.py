"""Merge mode's staging of one table (see importjob_stage for the modes).

The rows whose change column is at or above the watermark less the overlap
(changed since the last run, or committed late) and the keys the source no
longer has are applied on the table's staging branch (merge()). The first
run (no watermark yet) loads every row. The new watermark (the source's
highest change value at the run's snapshot) is kept in the summary of the
staged snapshot.

What a run costs is kept apart from the table's size where it can be:

  deleted keys   on PostgreSQL with a single integer key, the source sends
                 its key set as ranges of consecutive keys (one row per
                 range, computed by the database over its key index), and
                 Spark compares them with the same ranges of the lake's keys
                 (a scan of the key column): the keys in the lake's ranges
                 and in none of the source's are the deleted ones. Otherwise
                 (another key, MySQL/MariaDB, or more than MAX_KEY_RANGES
                 ranges) every key is read and anti-joined with the lake's.
  source proof   on PostgreSQL the database adds up its rows' hashes itself,
                 one aggregate statement per read partition, so no per-row
                 data leaves it for the proof.
  lake proof     when main carries the figures the job proved last time:
                 those, less the changed keys' rows before the merge (one
                 scan of the table, hashing only those rows), plus the rows
                 the merge wrote (read from the data files its snapshot
                 added, with a key-column check that these are all the
                 changed keys' rows the staged table holds), and the staged
                 table's row count.
"""

import datetime as dt
import math
from decimal import Decimal

import importjob_lake as lake
import importjob_proof as proof
from importjob_source import ImportError_, MAX_COL, ROWS_COL, SUM_COL, sql_literal
from importjob_stage import lake_figures, open_branch, partition_predicates, prove, read_rows, source_max, windowed

# Beyond this many ranges of consecutive keys (a sparse key), on either
# side, the deleted keys are found from the full key set instead.
MAX_KEY_RANGES = 100000
DELETE_FLAG = "__lf_delete"
TOUCHED = "__lf_touched"
# Merge sources up to this many rows are broadcast to the table's scan.
BROADCAST_ROWS = 200000
KEY_PREFIX = "__lf_k_"
# The changed rows are read in one statement up to this many.
CHANGES_PER_PARTITION = 100000

def lower_bound(text, kind, overlap_minutes, overlap_values):
    """The watermark less the overlap, as a value of the change column."""
    if kind == "timestamp":
        return dt.datetime.fromisoformat(text) - dt.timedelta(minutes=overlap_minutes)
    if kind == "date":
        return dt.date.fromisoformat(text) - dt.timedelta(days=math.ceil(overlap_minutes / 1440))
    value = Decimal(text) - overlap_values
    return int(value) if value == value.to_integral_value() else value


def watermark_text(value):
    """(text, kind) of a change column's highest value."""
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" "), "timestamp"
    if isinstance(value, dt.date):
        return value.isoformat(), "date"
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return str(value), "number"
    raise ImportError_("the change column's value %r is not a number, date or timestamp" % (value,))


def stage_merge(spark, source, entry, args, branch, rid, clock):
    from pyspark.sql.functions import lit
    ident, chg = entry["ident"], entry["changeColumn"]
    wm_text, wm_kind = lake.watermark(spark, ident, chg)
    found_by = None
    if wm_text is None:
        # First run (or a new change column): every row, as snapshot mode.
        df, figures, parts = read_rows(spark, source, entry, None, with_max=chg)
        lake.ensure_table(spark, ident, df.schema, args, merge=True)
        open_branch(spark, ident, branch)
        lake.aligned(spark, df, ident).writeTo("%s.branch_%s" % (ident, branch)).overwrite(lit(True))
        clock.lap("read and write")
        (src, mx) = figures()
        changed, deleted, lo = src[0], 0, None
        ranges = source_key_ranges(spark, source, entry, None) if source.pg and entry.get("integerKey") else None
    else:
        lo = lower_bound(wm_text, wm_kind, args["merge_overlap_minutes"], entry["overlapValues"])
        chg_sql = source.quote(chg)
        where = "%s >= %s OR %s IS NULL" % (chg_sql, sql_literal(lo, chg in entry["zoned"], source.pg), chg_sql)
        main = lake.main_summary(spark, ident)
        previous = lake.proven_figures(main, [c for c, _ in entry["checksumColumns"]])
        read = read_changes_and_keys(spark, source, entry, where, clock)
        lake.ensure_table(spark, ident, read["changes"].schema, args, merge=True)
        open_branch(spark, ident, branch)
        kept = (lake.proven_key_ranges(spark, main, entry["runsUri"], entry["key"][0])
                if read.get("ranges") is not None and previous is not None else None)
        deleted_keys, found_by = deleted_keys_of(spark, "%s.branch_%s" % (ident, branch), entry, read, kept)
        ranges = read.get("ranges")
        changed, deleted, delta = merge(spark, ident, branch, entry, read["changes"], deleted_keys, clock,
                                        previous is not None)
        (src, mx) = read["figures"]()
        if read.get("cached") is not None:
            read["cached"].unpersist()
    if wm_text is not None and previous is not None:
        # The last proven figures, less the changed keys' rows before the
        # merge, plus their rows after it; the row count is the staged
        # table's own. Any other change to the table would have left main
        # without the figures (importjob_lake.proven_figures).
        before, (staged_rows, after) = delta
        staged = proof.normalized(staged_rows, int(previous[1]) - int(before[1]) + int(after[1]))
        basis = "the last proven figures and the changed keys' rows"
    else:
        staged = lake_figures(spark, ident, branch, entry)
        basis = "every row of the staged table"
    result = {"name": entry["name"], "sourceTable": entry["sourceTable"], "mode": "merge",
              "partitions": parts if wm_text is None else read["partitions"],
              "proof": dict(prove(entry, src, staged, "every row"), lakeBasis=basis)}
    if found_by:
        result["deletesFoundBy"] = found_by
    clock.lap("proof")
    props = {lake.CHANGE_COLUMN: chg, lake.RUN_ID: rid, lake.PROOF_ROWS: str(staged[0]), lake.PROOF_CHECKSUM: staged[1],
             lake.PROOF_COLUMNS: ",".join(c for c, _ in entry["checksumColumns"])}
    if ranges is not None:
        rel = "%s/key-ranges/%s.json" % (rid, entry["name"])
        lake.write_json(spark, entry["runsUri"] + rel, {"key": entry["key"][0], "ranges": ranges})
        props[lake.KEY_RANGES] = rel
    if mx is not None:
        props[lake.WATERMARK], props[lake.WATERMARK_TYPE] = watermark_text(mx)
    elif wm_text is not None:  # an empty source table keeps the old watermark
        props[lake.WATERMARK], props[lake.WATERMARK_TYPE] = wm_text, wm_kind
    lake.commit_summary(spark, ident, branch, props)
    result.update(rowsWritten=changed, rowsTotal=staged[0], rowsDeleted=deleted,
                  watermark=props.get(lake.WATERMARK), readFrom=None if lo is None else str(lo))
    return result


# ---------------------------------------------------------------- source reads

def read_changes_and_keys(spark, source, entry, where, clock):
    """What a merge run reads from the source, as a dict: changes (the
    changed rows), figures() ((rows, checksum) of the whole table, highest
    change value), partitions, keys() (a DataFrame of every source key) and
    on PostgreSQL with an integer key ranges (sorted [(lo, hi)] of
    consecutive source keys, None for a sparse key); cached: a DataFrame to
    unpersist at the end.

    PostgreSQL: separate statements in the run's snapshot. MySQL/MariaDB:
    one statement, every key LEFT JOIN the changed rows, with the figures as
    window aggregates; cached, so the keys, the changes and the figures come
    from that one statement.
    """
    keys = entry["key"]
    if source.pg:
        predicates = partition_predicates(source, entry, None)
        changes = source.read(entry["tableSql"], change_predicates(source, entry, where), entry["customSchema"])
        figures = source_figures(spark, source, entry, predicates)
        clock.lap("source figures")
        out = {"changes": changes, "partitions": len(predicates) if predicates else 1,
               "figures": lambda: (figures, source_max(source, entry, entry["changeColumn"]))}
        if entry.get("integerKey"):
            out["ranges"] = source_key_ranges(spark, source, entry, predicates)
            clock.lap("source key ranges")
        out["keys"] = lambda: source.read(entry["tableSql"], predicates).select(*[lake.quote(k) for k in keys])
        return out
    from pyspark import StorageLevel
    from pyspark.sql import functions as F
    q = source.quote
    select = ", ".join(["t.%s AS %s" % (q(k), q(KEY_PREFIX + k)) for k in keys] + ["c.*"])
    on = " AND ".join("c.%s = t.%s" % (q(k), q(k)) for k in keys)
    join = " LEFT JOIN %s c ON %s AND (%s)" % (entry["tableSql"], on, where.replace(q(entry["changeColumn"]), "c." + q(entry["changeColumn"])))
    df = source.read(windowed(source, entry, None, entry["changeColumn"], select=select, join=join),
                     None, entry["customSchema"])
    df = df.persist(StorageLevel.MEMORY_AND_DISK)
    first = df.select(F.first(ROWS_COL).alias("n"), F.first(SUM_COL).alias("s"), F.first(MAX_COL).alias("mx")).collect()[0]
    key_df = df.select(*[F.col(q(KEY_PREFIX + k)).alias(k) for k in keys])
    changes = df.filter(F.col(q(keys[0])).isNotNull()).drop(ROWS_COL, SUM_COL, MAX_COL,
                                                            *[KEY_PREFIX + k for k in keys])
    return {"changes": changes, "keys": lambda: key_df, "partitions": 1, "cached": df,
            "figures": lambda: (proof.normalized(first["n"], first["s"]), first["mx"])}


def change_predicates(source, entry, where):
    """The changed rows' read: one statement (the change column's index
    finds them) unless there are more than CHANGES_PER_PARTITION, then split
    over their own key range."""
    n = source.query("SELECT COUNT(*) AS n FROM %s WHERE %s" % (entry["tableSql"], where))[0]["n"]
    if n <= CHANGES_PER_PARTITION:
        return [where]
    return partition_predicates(source, entry, where, where)


def _per_partition(spark, source, sql_of, predicates):
    """The rows of one statement per read partition (sql_of(where) gives a
    parenthesized query with an alias), run side by side as one Spark job."""
    from functools import reduce
    dfs = [source.read(sql_of(p), None) for p in (predicates or [None])]
    return reduce(lambda a, b: a.unionByName(b), dfs).collect()


def source_figures(spark, source, entry, predicates):
    """PostgreSQL: (rows, checksum) of the whole table, each partition's
    rows hashed and added up by the database (60-bit hashes summed as two
    30-bit halves, as Spark does)."""
    cols = [("t.%s" % source.quote(c), k) for c, k in entry["checksumColumns"]]
    h = proof.source_row_hash(source.engine, cols)

    def sql_of(where):
        return ("(SELECT COUNT(*) AS n, SUM(h >> 30)::bigint AS hi, SUM(h & %d)::bigint AS lo FROM "
                # OFFSET 0: the subquery stays one (PostgreSQL would
                # otherwise inline h into both sums and hash every row twice).
                "(SELECT %s AS h FROM %s t%s OFFSET 0) __lf_h) __lf_f" % ((1 << 30) - 1, h, entry["tableSql"],
                                                              (" WHERE " + where) if where else ""))
    rows = _per_partition(spark, source, sql_of, predicates)
    n, hi, lo = (sum(int(r[c] or 0) for r in rows) for c in ("n", "hi", "lo"))
    return proof.normalized(n, hi * (1 << 30) + lo)


def source_key_ranges(spark, source, entry, predicates):
    """PostgreSQL: the source's keys as sorted, merged [(lo, hi)] ranges of
    consecutive values (gaps and islands: key - row_number() is constant
    within a run of consecutive keys), None beyond MAX_KEY_RANGES."""
    k = source.quote(entry["key"][0])

    def sql_of(where):
        return ("(SELECT MIN(k) AS lo, MAX(k) AS hi FROM (SELECT t.%s AS k, t.%s - ROW_NUMBER() OVER (ORDER BY t.%s) "
                "AS g FROM %s t WHERE t.%s IS NOT NULL%s) __lf_k GROUP BY g LIMIT %d) __lf_r" % (
                    k, k, k, entry["tableSql"], k, (" AND (%s)" % where) if where else "", MAX_KEY_RANGES + 1))
    rows = _per_partition(spark, source, sql_of, predicates)
    if len(rows) > MAX_KEY_RANGES:
        return None
    return merged_ranges((int(r["lo"]), int(r["hi"])) for r in rows)


# ---------------------------------------------------------------- deleted keys

def merged_ranges(ranges):
    """Sorted, disjoint, non-adjacent ranges covering the same keys."""
    out = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


def ranges_minus(have, keep):
    """The keys of ranges have that no range of keep holds, as ranges (both
    sorted and merged)."""
    out, j = [], 0
    for lo, hi in have:
        while j < len(keep) and keep[j][1] < lo:
            j += 1
        i, cur = j, lo
        while cur <= hi and i < len(keep) and keep[i][0] <= hi:
            if keep[i][0] > cur:
                out.append((cur, keep[i][0] - 1))
            cur = max(cur, keep[i][1] + 1)
            i += 1
        if cur <= hi:
            out.append((cur, hi))
    return out


def lake_key_ranges(spark, target, key):
    """The staged table's keys as ranges (one scan of the key column and a
    sort of it), None beyond MAX_KEY_RANGES."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F
    k = F.col(lake.quote(key))
    df = (spark.table(target).select(k.cast("bigint").alias("k")).filter(F.col("k").isNotNull())
          .withColumn("g", F.col("k") - F.row_number().over(Window.orderBy("k")))
          .groupBy("g").agg(F.min("k").alias("lo"), F.max("k").alias("hi")))
    rows = df.limit(MAX_KEY_RANGES + 1).collect()
    if len(rows) > MAX_KEY_RANGES:
        return None
    return merged_ranges((r["lo"], r["hi"]) for r in rows)


def deleted_keys_of(spark, target, entry, read, kept=None):
    """(DataFrame of the keys the lake has and the source no longer has,
    how they were found). kept: the lake's key ranges as the last run
    recorded them, if it did."""
    from pyspark.sql import functions as F
    keys = entry["key"]
    if read.get("ranges") is not None:
        have = kept if kept is not None else lake_key_ranges(spark, target, keys[0])
        if have is not None:
            gone = ranges_minus(have, read["ranges"])
            key_type = spark.table(target).schema[keys[0]].dataType
            df = spark.createDataFrame(gone, "lo bigint, hi bigint")
            df = df.select(F.explode(F.sequence("lo", "hi")).alias("k"))
            return (df.select(F.col("k").cast(key_type).alias(keys[0])),
                    "kept key ranges" if kept is not None else "key ranges")
    # Another key, or a sparse one: every source key against the lake's.
    lake_keys = spark.table(target).select(*[lake.quote(k) for k in keys])
    return lake_keys.join(read["keys"](), on=keys, how="left_anti"), "key set"


# ---------------------------------------------------------------- merge

def merge(spark, ident, branch, entry, changes, deleted, clock, delta=False):
    """Applies the changes on the branch: changed rows updated or inserted,
    the deleted keys' rows deleted. Returns (changed, deleted, (figures of
    the touched keys' rows before, (the staged table's row count, figures of
    the touched keys' rows after))), the figures only when delta.

    Up to BROADCAST_ROWS touched keys: a DELETE of every touched key's row
    and an append of the changed rows, two commits on the branch (main moves
    over both at once, at publish). Spark 3.5's MERGE INTO with an insert
    clause joins the table as the outer side of a right outer join, which
    cannot broadcast the small side: it would shuffle and sort the whole
    table's keys. Above it, one MERGE INTO."""
    from pyspark.sql import functions as F
    keys = entry["key"]
    target = "%s.branch_%s" % (ident, branch)
    src = (changes.withColumn(DELETE_FLAG, F.lit(False))
           .unionByName(deleted.withColumn(DELETE_FLAG, F.lit(True)), allowMissingColumns=True))
    # Materialized once (a local checkpoint, cached on the executors): the
    # counts and the writes see one evaluation of the reads, and the write's
    # plan does not hold the branch it writes twice (Spark cannot resolve
    # the target's columns when the source reads the same table).
    src = src.localCheckpoint(eager=True)
    clock.lap("deleted keys and changed rows")
    try:
        counts = {r[DELETE_FLAG]: r["n"] for r in src.groupBy(DELETE_FLAG).agg(F.count(F.lit(1)).alias("n")).collect()}
        small = sum(counts.values()) <= BROADCAST_ROWS
        if small:
            # The touched keys as a local relation: its size is known, so
            # every join with the table broadcasts it.
            key_rows = src.select(*[lake.quote(k) for k in keys]).collect()
            touched = spark.createDataFrame(key_rows, src.select(*[lake.quote(k) for k in keys]).schema)
        else:
            touched = src.select(*[lake.quote(k) for k in keys])
        touched = touched.withColumn(TOUCHED, F.lit(True))
        flagged = lambda: spark.table(target).join(touched, on=keys, how="left")  # noqa: E731
        before = proof.spark_figures(flagged().filter(F.col(TOUCHED)), entry["checksumColumns"]) if delta else None
        clock.lap("proof: changed keys' rows before")
        since = lake.ref_snapshot(lake.iceberg_table(spark, ident), branch)
        if small:
            delete_and_append(spark, target, entry, src, touched, changes.columns)
        else:
            merge_into(spark, target, entry, src, changes.columns)
        clock.lap("merge")
        after = merged_figures(spark, ident, branch, entry, flagged, since) if delta else None
        clock.lap("proof: rows the merge wrote, row count")
        return counts.get(False, 0), counts.get(True, 0), (before, after)
    finally:
        src.unpersist()


def duplicate_key_error(entry):
    keys = entry["key"]
    return ImportError_(
        "merge of %s: several source rows have the same key (%s); set import.tables.%s.key to columns "
        "that identify a row" % (entry["sourceTable"], ", ".join(keys), entry["name"]))


def delete_and_append(spark, target, entry, src, touched, source_columns):
    from pyspark.sql import functions as F
    keys, q = entry["key"], lake.quote
    rows = src.filter(~F.col(DELETE_FLAG))
    if rows.groupBy(*[q(k) for k in keys]).count().filter(F.col("count") > 1).limit(1).collect():
        raise duplicate_key_error(entry)
    view = "lakeforge_touched_%s" % entry["name"]
    touched.createOrReplaceTempView(view)
    try:
        if touched.limit(1).collect():
            spark.sql("DELETE FROM %s t WHERE EXISTS (SELECT 1 FROM %s s WHERE %s)" % (
                target, view, " AND ".join("s.%s = t.%s" % (q(k), q(k)) for k in keys)))
    finally:
        spark.catalog.dropTempView(view)
    if rows.limit(1).collect():
        have = {c.lower(): c for c in source_columns}
        fields = spark.table(target).schema.fields
        rows.select(*[(F.col(q(have[f.name.lower()])) if f.name.lower() in have else F.lit(None))
                      .cast(f.dataType).alias(f.name) for f in fields]).writeTo(target).append()


def merge_into(spark, target, entry, src, source_columns):
    keys, q = entry["key"], lake.quote
    view = "lakeforge_merge_%s" % entry["name"]
    src.createOrReplaceTempView(view)
    have = {c.lower(): c for c in source_columns}
    cols = spark.table(target).columns
    value = lambda c: "s.%s" % q(have[c.lower()]) if c.lower() in have else "NULL"  # noqa: E731
    sql = ("MERGE INTO %s t USING %s s ON %s "
           "WHEN MATCHED AND s.%s THEN DELETE "
           "WHEN MATCHED THEN UPDATE SET %s "
           "WHEN NOT MATCHED AND NOT s.%s THEN INSERT (%s) VALUES (%s)") % (
        target, view, " AND ".join("t.%s = s.%s" % (q(k), q(k)) for k in keys), DELETE_FLAG,
        ", ".join("t.%s = %s" % (q(c), value(c)) for c in cols), DELETE_FLAG,
        ", ".join(q(c) for c in cols), ", ".join(value(c) for c in cols))
    try:
        spark.sql(sql)
    except Exception as err:
        if "MERGE_CARDINALITY_VIOLATION" in str(err) or "matched multiple" in str(err).lower():
            raise duplicate_key_error(entry)
        raise
    finally:
        spark.catalog.dropTempView(view)


def merged_figures(spark, ident, branch, entry, flagged, since):
    """(the staged table's row count, figures of its touched keys' rows).

    The touched keys' rows after the MERGE are the rows of the data files
    its snapshot added: read alone (through Iceberg, as its own compaction
    reads chosen files), and checked against a key-column scan of the
    staged table (its row count and how many rows have a touched key), so a
    row the MERGE should have removed and did not fails the proof."""
    from pyspark.sql import functions as F
    row = (flagged().select(F.count(F.lit(1)).alias("n"), F.count(F.col(TOUCHED)).alias("touched"))
           .collect()[0])
    figures = proof.spark_figures(added_rows(spark, ident, branch, since), entry["checksumColumns"])
    if figures[0] != row["touched"]:
        raise proof.ProofError(
            "proof failed for %s: the merge wrote %d rows, but the staged table holds %d rows of the keys it "
            "changed. Nothing is published" % (entry["sourceTable"], figures[0], row["touched"]))
    return row["n"], figures


def added_rows(spark, ident, branch, since):
    """The rows of the data files the branch's snapshots after since added,
    read through Iceberg's staged scan tasks (the mechanism
    rewriteDataFiles uses)."""
    import uuid
    jvm = spark.sparkContext._jvm
    table = lake.iceberg_table(spark, ident)
    sid = lake.ref_snapshot(table, branch)
    added, cur = set(), sid
    while cur is not None and cur != since:
        snap = table.snapshot(cur)
        it = snap.addedDataFiles(table.io()).iterator()
        while it.hasNext():
            added.add(str(it.next().path()))
        cur = snap.parentId()
    if cur != since:
        raise proof.ProofError("the staged branch of %s does not descend from the snapshot it started at" % ident)
    tasks = jvm.java.util.ArrayList()
    planned = table.newScan().useSnapshot(sid).planFiles()
    try:
        it = planned.iterator()
        while it.hasNext():
            task = it.next()
            if str(task.file().path()) in added:
                tasks.add(task)
    finally:
        planned.close()
    if not added:
        return spark.createDataFrame([], spark.table(ident).schema)
    if tasks.size() != len(added):
        raise proof.ProofError("the staged snapshot of %s does not list the %d data files it added" % (ident, len(added)))
    set_id = "lakeforge-added-" + uuid.uuid4().hex
    manager = jvm.org.apache.iceberg.spark.ScanTaskSetManager.get()
    manager.stageTasks(table, set_id, tasks)
    try:
        df = spark.read.format("iceberg").option("scan-task-set-id", set_id).load(ident)
        return df.localCheckpoint(eager=True)
    finally:
        manager.removeTasks(table, set_id)
