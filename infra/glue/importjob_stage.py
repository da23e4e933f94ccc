"""Staging one table: read it from the source (in the run's consistent
picture), write it to the table's staging branch as the table's mode says,
and prove the staged table against the source before anything is published.

Modes:
  snapshot     the branch is overwritten with every source row.
  incremental  the rows whose key (import.bookmarkKeys) is above the highest
               key on main are appended.
  merge        the rows whose change column is at or above the watermark
               less the overlap (changed since the last run, or committed
               late), and the source's full key set (keys only) to find the
               deleted rows, go into one MERGE INTO on the branch. The first
               run (no watermark yet) loads every row. The new watermark (the
               source's highest change value at the run's snapshot) is kept in
               the summary of the staged snapshot.
"""

import datetime as dt
import math
from decimal import Decimal

import importjob_lake as lake
import importjob_proof as proof
from importjob_source import ImportError_, MAX_COL, ROWS_COL, SUM_COL, range_predicates, sql_literal

# A range holds at least this many keys before the read is split further.
MIN_KEYS_PER_PARTITION = 10000
DELETE_FLAG = "__lf_delete"
TOUCHED = "__lf_touched"
# Merge sources up to this many rows are broadcast to the table's scan.
BROADCAST_ROWS = 200000
KEY_PREFIX = "__lf_k_"


def partition_predicates(source, entry, where, split_where=None):
    """The read's key ranges (PostgreSQL; one statement on MySQL/MariaDB)
    over the rows of split_where, each AND the where clause; None for one
    unsplit read."""
    predicates = None
    if source.pg and entry["partitions"] > 1:
        col_sql = source.quote(entry["partitionColumn"])
        lo, hi = source.bounds(entry["tableSql"], entry["partitionColumn"], split_where)
        if lo is not None:
            n = entry["partitions"]
            if not entry["configured"]:
                # Automatic splits keep ranges worth a connection each.
                n = min(n, int((hi - lo) // MIN_KEYS_PER_PARTITION) + 1)
            predicates = range_predicates(col_sql, lo, hi, n)
    if where:
        predicates = ["(%s) AND (%s)" % (p, where) for p in predicates] if predicates else [where]
    return predicates


def checksum_cols(entry, source):
    return [(source.quote(c), k) for c, k in entry["checksumColumns"]]


HASH_COL = "__lf_h"


def hashed(source, entry, select):
    """PostgreSQL: a read of select plus each row's proof hash, computed by
    the database in the same statement (so in the run's snapshot, and split
    over the read's partitions like the rows)."""
    cols = [('t.%s' % source.quote(c), k) for c, k in entry["checksumColumns"]]
    return "(SELECT %s, %s AS %s FROM %s t) __lf_q" % (
        select, proof.source_row_hash(source.engine, cols), HASH_COL, entry["tableSql"])


def observe_hashes(df, name):
    """(df without the hash column, figures()): the row count and the sum of
    the database's row hashes, gathered while df is read (valid once the
    action that reads it has run)."""
    from pyspark.sql import Observation
    from pyspark.sql import functions as F
    obs = Observation(name)
    h = F.col(HASH_COL)
    df = df.observe(obs, F.count(F.lit(1)).alias("n"), F.sum(F.shiftright(h, 30)).alias("hi"),
                    F.sum(h.bitwiseAND(F.lit((1 << 30) - 1))).alias("lo")).drop(HASH_COL)

    def figures():
        m = obs.get
        return proof.normalized(m.get("n"), (m.get("hi") or 0) * (1 << 30) + (m.get("lo") or 0))
    return df, figures


def source_max(source, entry, column):
    """The highest value of column, by a query in the run's snapshot."""
    return source.query("SELECT MAX(%s) AS mx FROM %s" % (source.quote(column), entry["tableSql"]))[0]["mx"]


def windowed(source, entry, where, with_max=None, select="t.*", join=""):
    """MySQL/MariaDB: one statement that returns the rows and, as window
    aggregates over the whole table (or the where clause), the figures."""
    cols = [("t.%s" % source.quote(c), k) for c, k in entry["checksumColumns"]]
    extra = ", MAX(t.%s) OVER () AS %s" % (source.quote(with_max), MAX_COL) if with_max else ""
    return "(SELECT %s, %s%s FROM %s t%s%s) __lf_q" % (
        select, proof.source_window_sql(source.engine, cols, ROWS_COL, SUM_COL), extra, entry["tableSql"], join,
        (" WHERE " + where) if where else "")


def read_rows(spark, source, entry, where, with_max=None):
    """(DataFrame of the rows, figures(): ((rows, checksum), max), partitions).
    figures() is valid once the DataFrame has been written."""
    from pyspark.sql import Observation
    from pyspark.sql import functions as F
    if source.pg:
        predicates = partition_predicates(source, entry, where, where)
        df = source.read(hashed(source, entry, "t.*"), predicates, entry["customSchema"])
        df, hashes = observe_hashes(df, "lakeforge_%s" % entry["name"])
        figures = lambda: (hashes(), source_max(source, entry, with_max) if with_max else None)  # noqa: E731
        return df, figures, len(predicates) if predicates else 1
    df = source.read(windowed(source, entry, where, with_max), None, entry["customSchema"])
    obs = Observation("lakeforge_%s" % entry["name"])
    metrics = [F.first(ROWS_COL).alias("n"), F.first(SUM_COL).alias("s")]
    max_type = None
    if with_max:
        # As text: an observed timestamp_ntz reaches Python as a bare Java object.
        max_type = df.schema[MAX_COL].dataType
        metrics.append(F.first(MAX_COL).cast("string").alias("mx"))
    df = df.observe(obs, *metrics).drop(ROWS_COL, SUM_COL, MAX_COL)

    def figures():
        m = obs.get
        return proof.normalized(m.get("n"), m.get("s")), from_text(m.get("mx"), max_type)
    return df, figures, 1


def from_text(text, data_type):
    """A value Spark cast to string, back as the Python value of its type."""
    if text is None:
        return None
    name = data_type.typeName()
    if name.startswith("timestamp"):
        return dt.datetime.fromisoformat(text)
    if name == "date":
        return dt.date.fromisoformat(text)
    value = Decimal(text)
    return int(value) if value == value.to_integral_value() else value


def lake_figures(spark, ident, branch, entry, where_col=None, above=None):
    from pyspark.sql import functions as F
    df = spark.table("%s.branch_%s" % (ident, branch))
    if where_col is not None:
        df = df.filter(F.col(lake.quote(where_col)) > F.lit(above))
    return proof.spark_figures(df, entry["checksumColumns"])


def prove(entry, src, staged, scope):
    proof.check(entry["sourceTable"], src, staged, scope)
    return {"scope": scope, "columns": [c for c, _ in entry["checksumColumns"]],
            "sourceRows": src[0], "sourceChecksum": src[1], "lakeRows": staged[0], "lakeChecksum": staged[1]}


class Clock:
    """Seconds per phase of one table's staging, for the job's log."""

    def __init__(self):
        import time
        self._now = time.monotonic
        self.last, self.seconds = self._now(), {}

    def lap(self, phase):
        now = self._now()
        self.seconds[phase] = self.seconds.get(phase, 0) + now - self.last
        self.last = now


def stage(spark, source, entry, args, branch, rid):
    """Stages one table; returns its manifest entry (proof included)."""
    mode = entry["mode"]
    clock = Clock()
    if mode == "merge":
        result = stage_merge(spark, source, entry, args, branch, rid, clock)
    else:
        result = stage_rows(spark, source, entry, args, branch, clock)
    result["seconds"] = clock.seconds
    return result


def stage_rows(spark, source, entry, args, branch, clock):
    """Snapshot and incremental mode."""
    mode = entry["mode"]
    from pyspark.sql.functions import lit
    ident = entry["ident"]
    where, wm = None, None
    if mode == "incremental" and lake.table_exists(spark, ident):
        wm = spark.sql("SELECT MAX(%s) AS wm FROM %s" % (lake.quote(entry["watermark"]), ident)).collect()[0]["wm"]
        if wm is not None:
            where = "%s > %s" % (source.quote(entry["watermark"]),
                                 sql_literal(wm, entry["watermark"] in entry["zoned"], source.pg))
    df, figures, parts = read_rows(spark, source, entry, where)
    lake.ensure_table(spark, ident, df.schema, args)
    open_branch(spark, ident, branch)
    # By name, not position: a column removed or renamed at the source
    # leaves a lake column the read no longer has, anywhere in the table
    # (Iceberg's check-ordering refuses such a write by default).
    writer = df.writeTo("%s.branch_%s" % (ident, branch)).option("mergeSchema", "true").option("check-ordering", "false")
    if mode == "snapshot":
        writer.overwrite(lit(True))
    else:
        writer.append()
    clock.lap("read and write")
    src, _ = figures()
    if mode == "snapshot":
        staged = lake_figures(spark, ident, branch, entry)
        scope = "every row"
    else:
        staged = lake_figures(spark, ident, branch, entry, entry["watermark"] if wm is not None else None, wm)
        scope = "rows added" if wm is not None else "every row (first run)"
    result = {"name": entry["name"], "sourceTable": entry["sourceTable"], "mode": mode, "partitions": parts,
              "proof": prove(entry, src, staged, scope)}
    total = lake_figures(spark, ident, branch, entry) if mode == "incremental" and wm is not None else staged
    clock.lap("proof")
    result["rowsWritten"], result["rowsTotal"] = staged[0], total[0]
    return result


def open_branch(spark, ident, branch):
    for name in lake.stale_branches(spark, ident):
        # Staging branches of killed runs, never published (a run whose
        # publish was interrupted is completed before staging starts).
        lake.drop_branch(spark, ident, name)
    spark.sql("ALTER TABLE %s CREATE BRANCH %s" % (ident, lake.quote(branch)))


# ---------------------------------------------------------------- merge

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
    if wm_text is None:
        # First run (or a new change column): every row, as snapshot mode.
        df, figures, parts = read_rows(spark, source, entry, None, with_max=chg)
        lake.ensure_table(spark, ident, df.schema, args, merge=True)
        open_branch(spark, ident, branch)
        lake.aligned(spark, df, ident).writeTo("%s.branch_%s" % (ident, branch)).overwrite(lit(True))
        clock.lap("read and write")
        (src, mx) = figures()
        changed, deleted, lo = src[0], 0, None
    else:
        lo = lower_bound(wm_text, wm_kind, args["merge_overlap_minutes"], entry["overlapValues"])
        chg_sql = source.quote(chg)
        where = "%s >= %s OR %s IS NULL" % (chg_sql, sql_literal(lo, chg in entry["zoned"], source.pg), chg_sql)
        previous = lake.proven_figures(spark, ident, [c for c, _ in entry["checksumColumns"]])
        changes, keys, figures, parts, cached = read_changes_and_keys(spark, source, entry, where)
        lake.ensure_table(spark, ident, changes.schema, args, merge=True)
        open_branch(spark, ident, branch)
        changed, deleted, delta = merge(spark, ident, branch, entry, changes, keys, clock, previous is not None)
        (src, mx) = figures()
        if cached is not None:
            cached.unpersist()
    if wm_text is not None and previous is not None:
        # The last proven figures, less the changed keys' rows before the
        # merge, plus their rows after it; the row count is the staged
        # table's own. Any other change to the table would have left main
        # without the figures (importjob_lake.proven_figures).
        before, after = delta
        staged_rows, after = after
        staged = proof.normalized(staged_rows, int(previous[1]) - int(before[1]) + int(after[1]))
        basis = "the last proven figures and the changed keys' rows"
    else:
        staged = lake_figures(spark, ident, branch, entry)
        basis = "every row of the staged table"
    result = {"name": entry["name"], "sourceTable": entry["sourceTable"], "mode": "merge", "partitions": parts,
              "proof": dict(prove(entry, src, staged, "every row"), lakeBasis=basis)}
    clock.lap("proof")
    props = {lake.CHANGE_COLUMN: chg, lake.RUN_ID: rid, lake.PROOF_ROWS: str(staged[0]), lake.PROOF_CHECKSUM: staged[1],
             lake.PROOF_COLUMNS: ",".join(c for c, _ in entry["checksumColumns"])}
    if mx is not None:
        props[lake.WATERMARK], props[lake.WATERMARK_TYPE] = watermark_text(mx)
    elif wm_text is not None:  # an empty source table keeps the old watermark
        props[lake.WATERMARK], props[lake.WATERMARK_TYPE] = wm_text, wm_kind
    lake.commit_summary(spark, ident, branch, props)
    result.update(rowsWritten=changed, rowsTotal=staged[0], rowsDeleted=deleted,
                  watermark=props.get(lake.WATERMARK), readFrom=None if lo is None else str(lo))
    return result


def read_changes_and_keys(spark, source, entry, where):
    """(changed rows, source keys, figures(), partitions, cached DataFrame).

    PostgreSQL: two partitioned reads in the run's snapshot, the keys' one
    with every row's proof hash. MySQL/MariaDB:
    one statement, every key LEFT JOIN the changed rows, with the figures as
    window aggregates; cached, so the keys, the changes and the figures come
    from that one statement.
    """
    keys = entry["key"]
    if source.pg:
        # The key set and the proof's hashes in one partitioned read.
        predicates = partition_predicates(source, entry, None)
        wanted = keys + [c for c in [entry["partitionColumn"]] if c and c not in keys]
        key_df = source.read(hashed(source, entry, ", ".join("t.%s" % source.quote(c) for c in wanted)), predicates)
        key_df, hashes = observe_hashes(key_df, "lakeforge_keys_%s" % entry["name"])
        key_df = key_df.select(*[lake.quote(k) for k in keys])
        change_preds = partition_predicates(source, entry, where)
        changes = source.read(entry["tableSql"], change_preds, entry["customSchema"])
        figures = lambda: (hashes(), source_max(source, entry, entry["changeColumn"]))  # noqa: E731
        return changes, key_df, figures, len(predicates) if predicates else 1, None
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
    figures = lambda: (proof.normalized(first["n"], first["s"]), first["mx"])  # noqa: E731
    key_df = df.select(*[F.col(q(KEY_PREFIX + k)).alias(k) for k in keys])
    changes = df.filter(F.col(q(keys[0])).isNotNull()).drop(ROWS_COL, SUM_COL, MAX_COL,
                                                            *[KEY_PREFIX + k for k in keys])
    return changes, key_df, figures, 1, df


def merge(spark, ident, branch, entry, changes, source_keys, clock, delta=False):
    """One MERGE INTO on the branch: changed rows updated or inserted, rows
    whose key the source no longer has deleted. Returns (changed, deleted,
    (figures of the touched keys' rows before, (the staged table's row count,
    figures of the touched keys' rows after))), the figures only when delta."""
    from pyspark.sql import functions as F
    keys = entry["key"]
    target = "%s.branch_%s" % (ident, branch)
    lake_keys = spark.table(target).select(*[lake.quote(k) for k in keys])
    deleted = lake_keys.join(source_keys, on=keys, how="left_anti")
    src = (changes.withColumn(DELETE_FLAG, F.lit(False))
           .unionByName(deleted.withColumn(DELETE_FLAG, F.lit(True)), allowMissingColumns=True))
    # Materialized once (a local checkpoint, cached on the executors): the
    # counts and the MERGE see one evaluation of the reads, and the MERGE's
    # plan does not hold the branch it writes twice (Spark cannot resolve
    # the target's columns when the source reads the same table).
    src = src.localCheckpoint(eager=True)
    clock.lap("read changes and keys")
    try:
        counts = {r[DELETE_FLAG]: r["n"] for r in src.groupBy(DELETE_FLAG).agg(F.count(F.lit(1)).alias("n")).collect()}
        view = "lakeforge_merge_%s" % entry["name"]
        # A day's changes are small next to the table: joined by broadcast,
        # the table is scanned once and never shuffled.
        (F.broadcast(src) if sum(counts.values()) <= BROADCAST_ROWS else src).createOrReplaceTempView(view)
        have = {c.lower(): c for c in changes.columns}
        cols = spark.table(target).columns
        value = lambda c: "s.%s" % lake.quote(have[c.lower()]) if c.lower() in have else "NULL"  # noqa: E731
        q = lake.quote
        sql = ("MERGE INTO %s t USING %s s ON %s "
               "WHEN MATCHED AND s.%s THEN DELETE "
               "WHEN MATCHED THEN UPDATE SET %s "
               "WHEN NOT MATCHED AND NOT s.%s THEN INSERT (%s) VALUES (%s)") % (
            target, view, " AND ".join("t.%s = s.%s" % (q(k), q(k)) for k in keys), DELETE_FLAG,
            ", ".join("t.%s = %s" % (q(c), value(c)) for c in cols), DELETE_FLAG,
            ", ".join(q(c) for c in cols), ", ".join(value(c) for c in cols))
        touched = F.broadcast(src.select(*[lake.quote(k) for k in keys]).withColumn(TOUCHED, F.lit(True)))
        flagged = lambda: spark.table(target).join(touched, on=keys, how="left")  # noqa: E731
        before = proof.spark_figures(flagged().filter(F.col(TOUCHED)), entry["checksumColumns"]) if delta else None
        try:
            spark.sql(sql)
        except Exception as err:
            if "MERGE_CARDINALITY_VIOLATION" in str(err) or "matched multiple" in str(err).lower():
                raise ImportError_(
                    "merge of %s: several source rows have the same key (%s); set import.tables.%s.key to columns "
                    "that identify a row" % (entry["sourceTable"], ", ".join(keys), entry["name"]))
            raise
        spark.catalog.dropTempView(view)
        clock.lap("merge")
        # The staged table's row count and its touched rows' figures, one pass.
        after = proof.spark_figures_where(flagged(), entry["checksumColumns"], TOUCHED) if delta else None
        return counts.get(False, 0), counts.get(True, 0), (before, after)
    finally:
        src.unpersist()
