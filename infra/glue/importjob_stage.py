"""Staging one table: read it from the source (in the run's consistent
picture), write it to the table's staging branch as the table's mode says,
and prove the staged table against the source before anything is published.

Modes:
  snapshot     the branch is overwritten with every source row.
  incremental  the rows whose key (import.bookmarkKeys) is above the highest
               key on main are appended.
  merge        the rows changed since the last run and the keys the source
               no longer has go into one MERGE INTO on the branch
               (importjob_merge).
"""

import datetime as dt
from decimal import Decimal

import importjob_lake as lake
import importjob_proof as proof
from importjob_source import MAX_COL, ROWS_COL, SUM_COL, range_predicates, sql_literal

# A range holds at least this many keys before the read is split further.
MIN_KEYS_PER_PARTITION = 10000


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
        from importjob_merge import stage_merge
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
