"""Merge mode for real (issue 19, item 1): five runs on each engine, with
inserts, updates, deletes, a row updated twice between runs, a key deleted
and re-inserted, a transaction that commits late with an older change
value, and a failed run followed by a good one. After every run the lake
table equals the source table row by row and column by column, the source
read with the server's own client.
"""

import datetime as dt
import json
from decimal import Decimal

import pytest

import import_job
import importjob_lake
import importjob_merge
from conftest import MariaDB, pg_include, read_manifest, run_job

T0 = dt.datetime(2024, 3, 1, 9, 0, 0)


def ts(minutes):
    """A change-column value the test controls: T0 plus minutes."""
    return T0 + dt.timedelta(minutes=minutes)


def lit(v):
    return "'%s'" % v.isoformat(sep=" ")


class Case:
    def __init__(self, engine, contract, warehouse, postgres):
        self.engine = engine
        if engine == "postgresql":
            self.src, self.c, self.schema = postgres, contract["postgresql"], "merge19"
            self.table = "merge19.orders"
            self.over = {"--include_paths": pg_include("merge19"), "--lake_database": "merge19_pg"}
        else:
            # A database of its own: the snapshot test imports all of kthr01's.
            self.c, self.src, self.table = contract["mariadb"], MariaDB("lakeforge_test_merge19"), "orders"
            self.over = {"--source_dbname": "lakeforge_test_merge19", "--include_paths": '["lakeforge_test_merge19/orders"]',
                         "--lake_database": "merge19_my"}
        self.over.update({"--mode": "merge", "--tables": json.dumps({"orders": {"key": ["id"], "changeColumn": "updated_at"}})})
        self.warehouse = warehouse
        self.ident = "glue_catalog.%s.%sorders" % (self.over["--lake_database"], self.c["arguments"]["--table_prefix"])
        self.runs = 0

    def sql(self, text):
        self.src.run(sql=text)

    def create(self):
        if self.engine == "postgresql":
            self.sql("""DROP SCHEMA IF EXISTS merge19 CASCADE; CREATE SCHEMA merge19;
                CREATE TABLE merge19.orders (id integer PRIMARY KEY, name text, amount numeric(10,2), updated_at timestamp(6));""")
        else:
            self.sql("""DROP TABLE IF EXISTS orders;
                CREATE TABLE orders (id int PRIMARY KEY, name varchar(100), amount decimal(10,2), updated_at datetime(6))
                CHARACTER SET utf8mb4;""")

    def source_rows(self):
        rows = self.src.rows("SELECT id, name, amount, updated_at FROM %s ORDER BY id" % self.table)
        return [{"id": int(r[0]), "name": r[1], "amount": None if r[2] is None else Decimal(r[2]),
                 "updated_at": None if r[3] is None else dt.datetime.fromisoformat(r[3])} for r in rows]

    def lake_rows(self, spark):
        return [r.asDict() for r in spark.table(self.ident).orderBy("id").collect()]

    def run(self, fail=None):
        self.runs += 1
        rid = "%s_run%d" % (self.engine, self.runs)
        if fail:
            with pytest.raises(import_job.ImportError_) as err:
                run_job(self.c, self.warehouse, self.src, self.over, run=rid)
            assert fail in str(err.value)
            return None, None
        manifest, rt = run_job(self.c, self.warehouse, self.src, self.over, run=rid)
        assert manifest == read_manifest(rt, rid)
        return manifest["tables"][0], rt

    def equal(self, spark, table_manifest):
        want = self.source_rows()
        assert self.lake_rows(spark) == want, "%s: the lake differs from the source after run %d" % (self.engine, self.runs)
        p = table_manifest["proof"]
        assert (p["sourceRows"], p["lakeRows"], table_manifest["rowsTotal"]) == (len(want),) * 3
        assert p["sourceChecksum"] == p["lakeChecksum"] and p["columns"] == ["id", "name", "amount", "updated_at"]
        return want


@pytest.mark.parametrize("engine", ["postgresql", "mariadb"])
def test_merge_runs_keep_the_lake_equal_to_the_source(engine, contract, warehouse, postgres, hold, monkeypatch):
    k = Case(engine, contract, warehouse, postgres)
    k.create()
    k.sql("INSERT INTO %s VALUES (1, 'one', 10.00, %s), (2, 'two', 20.00, %s), (3, 'three', NULL, %s), "
          "(4, 'four', 40.00, %s), (5, NULL, 50.50, %s)" % (k.table, lit(ts(0)), lit(ts(1)), lit(ts(2)), lit(ts(3)), lit(ts(4))))

    # Run 1: no watermark yet, every row.
    m, rt = k.run()
    spark = rt.spark
    k.equal(spark, m)
    assert (m["mode"], m["rowsWritten"], m["rowsDeleted"], m["watermark"]) == ("merge", 5, 0, str(ts(4)))

    # Inserts, an update, a row updated twice, a delete, a key deleted and re-inserted.
    k.sql("INSERT INTO {t} VALUES (6, 'six', 6.00, {a}), (7, 'ünï', 7.00, {a});"
          "UPDATE {t} SET amount = 21.00, updated_at = {b} WHERE id = 2;"
          "UPDATE {t} SET name = 'THREE', updated_at = {b} WHERE id = 3;"
          "UPDATE {t} SET amount = 33.33, updated_at = {c} WHERE id = 3;"
          "DELETE FROM {t} WHERE id = 4;"
          "DELETE FROM {t} WHERE id = 5;"
          "INSERT INTO {t} VALUES (5, 'five again', NULL, {c});".format(t=k.table, a=lit(ts(10)), b=lit(ts(11)), c=lit(ts(12))))
    m, _ = k.run()
    k.equal(spark, m)
    assert (m["rowsDeleted"], m["watermark"]) == (1, str(ts(12)))
    # PostgreSQL sends an integer key as ranges of consecutive keys, compared
    # with the ranges run 1 kept (no scan of the lake); MariaDB every key.
    assert m["deletesFoundBy"] == ("kept key ranges" if engine == "postgresql" else "key set")
    assert m["proof"]["lakeBasis"] == "the last proven figures and the changed keys' rows"

    if engine == "mariadb":
        # From here on MariaDB's runs take the path of large change sets (one
        # MERGE INTO; its duplicate-key failure included), PostgreSQL's the
        # DELETE and append of small ones.
        monkeypatch.setattr(importjob_merge, "BROADCAST_ROWS", 0)

    # A transaction updates row 7 with a change value two minutes below the
    # watermark the next run records, and commits only after that run.
    k.sql("UPDATE {t} SET amount = 66.00, updated_at = {d} WHERE id = 6; DELETE FROM {t} WHERE id = 1;".format(
        t=k.table, d=lit(ts(30))))
    late = hold(k.src, "UPDATE %s SET name = 'late', updated_at = %s WHERE id = 7" % (k.table, lit(ts(28))))
    m, _ = k.run()
    before_late = k.equal(spark, m)  # the held update is not visible yet
    assert [r["name"] for r in before_late if r["id"] == 7] == ["ünï"]
    assert m["watermark"] == str(ts(30)) and m["rowsDeleted"] == 1
    late.commit()
    lake_after_3 = k.lake_rows(spark)

    # A failed run: the key stops being unique. Nothing moves, not even the watermark.
    if engine == "postgresql":
        k.sql("ALTER TABLE merge19.orders DROP CONSTRAINT orders_pkey")
    else:
        k.sql("ALTER TABLE orders DROP PRIMARY KEY")
    k.sql("INSERT INTO {t} VALUES (2, 'dup', 1.00, {a}); UPDATE {t} SET updated_at = {a} WHERE id = 2;"
          "UPDATE {t} SET amount = 3.00, updated_at = {b} WHERE id = 3".format(t=k.table, a=lit(ts(40)), b=lit(ts(41))))
    k.run(fail="several source rows have the same key (id)")
    assert k.lake_rows(spark) == lake_after_3
    assert importjob_lake.watermark(spark, k.ident, "updated_at") == (str(ts(30)), "timestamp")
    assert sorted(r["name"] for r in spark.sql("SELECT name FROM %s.refs" % k.ident).collect()) == ["main"]

    # Fixed: the good run brings everything since run 3, the late row
    # included. Row 6 goes, found (for a key too sparse for ranges) from
    # every key.
    k.sql("DELETE FROM %s WHERE name = 'dup'" % k.table)
    k.sql("ALTER TABLE %s ADD PRIMARY KEY (id)" % k.table)
    k.sql("DELETE FROM %s WHERE id = 6" % k.table)
    monkeypatch.setattr(importjob_merge, "MAX_KEY_RANGES", 1)
    m, _ = k.run()
    after = k.equal(spark, m)
    assert (m["rowsDeleted"], m["deletesFoundBy"]) == (1, "key set")
    assert [r["name"] for r in after if r["id"] == 7] == ["late"]
    assert [r["amount"] for r in after if r["id"] == 3] == [Decimal("3.00")]
    assert m["watermark"] == str(ts(41))


def keys_of(ranges):
    return {k for lo, hi in ranges for k in range(lo, hi + 1)}


@pytest.mark.parametrize("lake,source", [
    ([1, 2, 3, 4, 5, 6, 7], [1, 2, 3, 5, 6, 7]),           # one key in the middle
    ([1, 2, 3, 4, 5], [2, 3, 4]),                           # both ends
    ([1, 2, 3, 10, 11, 12], [1, 2, 3, 4, 5, 10, 12, 13]),   # inserts beside deletes
    ([5, 6, 7], []),                                        # every key
    ([], [1, 2]),                                           # nothing to delete from
    (list(range(0, 1000, 3)) + [1001], list(range(0, 1000, 6))),
])
def test_deleted_keys_from_key_ranges_are_the_lakes_keys_the_source_lacks(lake, source):
    def ranges(keys):
        return importjob_merge.merged_ranges((k, k) for k in keys)
    assert ranges([3, 1, 2, 7, 5, 6]) == [(1, 3), (5, 7)]
    gone = importjob_merge.ranges_minus(ranges(lake), ranges(source))
    assert keys_of(gone) == set(lake) - set(source)
    assert gone == sorted(gone) and all(a[1] < b[0] for a, b in zip(gone, gone[1:]))


def test_a_row_the_merge_left_behind_fails_the_proof(contract, warehouse):
    """The lake proof takes the changed keys' rows after a merge from the
    data files the merge added; a key scan must catch a row of such a key
    that the merge did not remove (here: a new row written for key 2
    without deleting the old one, as a broken merge would leave it)."""
    import hashlib
    import local_runtime
    spark = local_runtime.spark_session(contract["postgresql"]["arguments"], warehouse)
    ident = "glue_catalog.merge19_left.t"
    spark.sql("CREATE NAMESPACE IF NOT EXISTS glue_catalog.merge19_left")
    spark.sql("DROP TABLE IF EXISTS %s" % ident)
    spark.sql("CREATE TABLE %s (id bigint, name string) USING iceberg TBLPROPERTIES ('format-version'='2', "
              "'write.delete.mode'='merge-on-read', 'write.merge.mode'='merge-on-read')" % ident)
    spark.sql("INSERT INTO %s VALUES (1, 'a'), (2, 'b'), (3, 'c')" % ident)
    start = importjob_lake.ref_snapshot(importjob_lake.iceberg_table(spark, ident), "main")
    entry = {"key": ["id"], "checksumColumns": [("id", "int"), ("name", "text")], "sourceTable": "s.t", "name": "t"}
    touched = spark.createDataFrame([(2, True)], "id bigint, %s boolean" % importjob_merge.TOUCHED)

    def flagged(branch):
        return lambda: spark.table("%s.branch_%s" % (ident, branch)).join(touched, on=["id"], how="left")

    spark.sql("ALTER TABLE %s CREATE BRANCH good" % ident)
    spark.sql("DELETE FROM %s.branch_good WHERE id = 2" % ident)
    spark.sql("INSERT INTO %s.branch_good VALUES (2, 'B')" % ident)
    # The documented row hash: the first 15 hex digits of the MD5 of "2" U+001F "B".
    want = int(hashlib.md5(("2" + chr(31) + "B").encode()).hexdigest()[:15], 16)
    assert importjob_merge.merged_figures(spark, ident, "good", entry, flagged("good"), start) == (3, (1, str(want)))

    spark.sql("ALTER TABLE %s CREATE BRANCH broken" % ident)
    spark.sql("INSERT INTO %s.branch_broken VALUES (2, 'B')" % ident)
    with pytest.raises(importjob_merge.proof.ProofError) as err:
        importjob_merge.merged_figures(spark, ident, "broken", entry, flagged("broken"), start)
    assert "the merge wrote 1 rows, but the staged table holds 2 rows of the keys it changed" in str(err.value)
