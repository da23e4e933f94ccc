"""Import benchmark (`make bench`): the job on local Spark reading a
PostgreSQL table of LAKEFORGE_BENCH_ROWS rows (2,000,000 by default) from
the server of scripts/test-databases.sh, against `psql \\copy` of the same
rows to a file, the floor for reading the table. Prints one line:

import-bench: rows=<N> partitions=<P> job_rows_per_s=<x> single_rows_per_s=<y> copy_rows_per_s=<z> ratio_vs_copy=<x/z> speedup_vs_single=<x/y>

Figures only; nothing is asserted. The job uses the template's arguments
(conftest.template_contract) with its read split into P ranges
(LAKEFORGE_BENCH_PARTITIONS, 4), then into one, as import.partitioning would.
"""

import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import conftest  # noqa: E402
import local_runtime  # noqa: E402


def main():
    rows = int(os.environ.get("LAKEFORGE_BENCH_ROWS", "2000000"))
    partitions = int(os.environ.get("LAKEFORGE_BENCH_PARTITIONS", "4"))
    pg = conftest.Postgres()
    pg.run(sql="""DROP SCHEMA IF EXISTS bench CASCADE; CREATE SCHEMA bench;
        CREATE TABLE bench.big (id bigint PRIMARY KEY, name text, price numeric(10,2), qty integer, created_at timestamp);
        INSERT INTO bench.big SELECT g, 'product ' || g, (g %% 1000) + 0.99, g %% 97,
               timestamp '2024-01-01' + g * interval '1 second' FROM generate_series(1, %d) g;""" % rows)
    pg.run(sql="VACUUM ANALYZE bench.big")

    # Everything the run writes (the \copy file, the warehouse, Spark's and
    # Python's scratch files) is in one temporary directory, removed at the
    # end, also when the run fails.
    try:
        with tempfile.TemporaryDirectory(prefix="lakeforge-bench-") as tmp:
            local_runtime.use_scratch_dir(tmp)
            try:
                run(pg, rows, partitions, tmp)
            finally:
                local_runtime.stop_spark()
    finally:
        pg.run(sql="DROP SCHEMA bench CASCADE")


def run(pg, rows, partitions, tmp):
    out = os.path.join(tmp, "big.csv")
    t = time.monotonic()
    pg.run(sql="\\copy (SELECT * FROM bench.big) TO '%s' WITH (FORMAT csv)" % out)
    copy_s = time.monotonic() - t
    os.remove(out)

    contract = conftest.template_contract()["postgresql"]
    warehouse = os.path.join(tmp, "lake")
    base = {"--include_paths": conftest.pg_include("bench"), "--lake_database": "bench",
            "--read_partitions": str(partitions), "--snapshot_retention_days": "0"}
    # A first run starts Spark and creates the table: not measured.
    conftest.run_job(contract, warehouse, pg, dict(base, **{"--partitioning": '{"big": {"column": "id", "partitions": 1}}'}),
                     run="warmup")
    timings = {}
    for name, parts in (("job", partitions), ("single", 1)):
        over = dict(base, **{"--partitioning": '{"big": {"column": "id", "partitions": %d}}' % parts})
        t = time.monotonic()
        manifest, _ = conftest.run_job(contract, warehouse, pg, over, run="bench_" + name)
        timings[name] = time.monotonic() - t
        assert manifest["tables"][0]["rowsWritten"] == rows
        if name == "job":
            used = manifest["tables"][0]["readPartitions"]
    job, single, copy = rows / timings["job"], rows / timings["single"], rows / copy_s
    print("import-bench: rows=%d partitions=%d job_rows_per_s=%.0f single_rows_per_s=%.0f copy_rows_per_s=%.0f "
          "ratio_vs_copy=%.2f speedup_vs_single=%.2f" % (rows, used, job, single, copy, job / copy, job / single))


if __name__ == "__main__":
    main()
