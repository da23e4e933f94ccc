"""Table maintenance for real (issue 19, item 5): ten merge runs on one
table keep its data files, delete files and metadata files bounded; an orphan
file left by a killed run is removed once older than the safe age, and no
referenced file is; every retained snapshot still reads.
"""

import datetime as dt
import glob
import json
import os
import time

from conftest import lake_rows, pg_include, run_job
import importjob_lake
import importjob_publish

HOURS = 72  # the default import.orphanFileAgeHours


def source_rows(postgres):
    return [{"id": int(i), "v": v, "updated_at": dt.datetime.fromisoformat(u)}
            for i, v, u in postgres.rows("SELECT id, v, updated_at FROM maint19.t ORDER BY id")]


def age(paths, hours):
    old = time.time() - hours * 3600
    for p in paths:
        os.utime(p, (old, old))


def test_ten_merge_runs_stay_bounded_and_orphans_go(contract, warehouse, postgres):
    c = contract["postgresql"]
    postgres.run(sql="""
        DROP SCHEMA IF EXISTS maint19 CASCADE; CREATE SCHEMA maint19;
        CREATE TABLE maint19.t (id integer PRIMARY KEY, v text, updated_at timestamp);
        INSERT INTO maint19.t SELECT g, 'v0', timestamp '2024-01-01' - (21 - g) * interval '1 hour'
            FROM generate_series(1, 20) g;""")
    over = {"--include_paths": pg_include("maint19"), "--lake_database": "maint19", "--mode": "merge",
            "--tables": json.dumps({"t": {"changeColumn": "updated_at"}}), "--orphan_file_age_hours": str(HOURS)}
    ident = "glue_catalog.maint19.%st" % c["arguments"]["--table_prefix"]
    orphan = None
    for run in range(1, 11):
        if run > 1:
            # Each run: two updates, an insert and a delete, an hour apart.
            at = "timestamp '2024-01-01' + interval '%d hour'" % run
            postgres.run(sql="""UPDATE maint19.t SET v = 'v{r}', updated_at = {at} WHERE id IN ({a}, {b});
                INSERT INTO maint19.t VALUES ({n}, 'new{r}', {at}); DELETE FROM maint19.t WHERE id = {d};""".format(
                r=run, at=at, a=run, b=run + 5, n=100 + run, d=run + 10))
        if run == 6:
            # What a killed run leaves: a data file written, never committed.
            location = str(importjob_lake.iceberg_table(spark, ident).location()).replace("file:", "")
            tmp = os.path.join(warehouse, "killed-run-output")
            spark.createDataFrame([(999, "lost", None)], "id int, v string, updated_at timestamp_ntz") \
                .coalesce(1).write.mode("overwrite").parquet("file://" + tmp)
            orphan = os.path.join(location, "data", "00000-999-killed-run-00001.parquet")
            os.rename(glob.glob(os.path.join(tmp, "part-*.parquet"))[0], orphan)
        if run == 7:
            # Everything under the table, referenced or not, is now older
            # than the safe age: only the orphan may go.
            age(glob.glob(os.path.join(location, "**", "*"), recursive=True), HOURS + 1)
        m, rt = run_job(c, warehouse, postgres, over, run="maint_%d" % run)
        spark = rt.spark
        assert lake_rows(spark, ident, "id") == source_rows(postgres), "run %d" % run
        if run > 1:
            # The watermark survived compaction: never a reload of all rows
            # (this run's three changed rows, and the last run's in the overlap).
            assert m["tables"][0]["rowsWritten"] <= 6, "run %d rewrote every row: %s" % (run, m["tables"][0])
        s = importjob_lake.iceberg_table(spark, ident).currentSnapshot().summary()
        data, deletes = int(s.get("total-data-files")), int(s.get("total-delete-files"))
        assert data <= importjob_publish.MAX_DATA_FILES and deletes <= importjob_publish.MAX_DELETE_FILES, \
            "run %d: %d data files, %d delete files" % (run, data, deletes)
        if run == 6:
            assert os.path.exists(orphan), "an orphan younger than the safe age was removed"
        if run == 7:
            assert not os.path.exists(orphan), "the orphan older than the safe age is still there"

    metadata = glob.glob(os.path.join(location, "metadata", "*.metadata.json"))
    assert len(metadata) <= importjob_lake.METADATA_VERSIONS_KEPT + 1, "%d metadata files" % len(metadata)
    snapshots = [r["snapshot_id"] for r in spark.sql("SELECT snapshot_id FROM %s.snapshots" % ident).collect()]
    assert len(snapshots) >= 10
    for sid in snapshots:
        # Every retained snapshot still reads: all its files exist (a
        # column read, which a count from the manifests would not need).
        spark.sql("SELECT id, v FROM %s VERSION AS OF %d" % (ident, sid)).collect()
