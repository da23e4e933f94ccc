"""Merge benchmark (`make bench`): a PostgreSQL table of LAKEFORGE_BENCH_ROWS
rows (2,000,000 by default) on the server of scripts/test-databases.sh, of
which 1% changes between runs (half updated, half deleted). Measures one
merge run against one snapshot run of the same table and prints one line:

merge-bench: rows=<N> changed=<C> merge_s=<m> snapshot_s=<s> ratio=<m/s>

Figures only; nothing is asserted but that each run leaves the lake equal to
the source by row count and checksum (the job's own proof). Both runs do the
whole job (consistent read, proof, publish, maintenance); the first load of
each table is not measured. Goal: ratio at most 0.3.
"""

import json
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import conftest  # noqa: E402
import local_runtime  # noqa: E402


def main():
    rows = int(os.environ.get("LAKEFORGE_BENCH_ROWS", "2000000"))
    pg = conftest.Postgres()
    pg.run(sql="""DROP SCHEMA IF EXISTS mbench CASCADE; CREATE SCHEMA mbench;
        CREATE TABLE mbench.orders (id bigint PRIMARY KEY, name text, price numeric(10,2), qty integer,
                                    updated_at timestamp NOT NULL);
        INSERT INTO mbench.orders SELECT g, 'product ' || g, (g %% 1000) + 0.99, g %% 97,
               timestamp '2024-01-01' + g * interval '1 second' FROM generate_series(1, %d) g;
        CREATE INDEX orders_updated_at ON mbench.orders (updated_at);""" % rows)
    pg.run(sql="VACUUM ANALYZE mbench.orders")
    with tempfile.TemporaryDirectory(prefix="lakeforge-merge-bench-") as tmp:
        local_runtime.use_scratch_dir(tmp)
        try:
            run(pg, rows, os.path.join(tmp, "lake"))
        finally:
            local_runtime.stop_spark()
    pg.run(sql="DROP SCHEMA mbench CASCADE")


def run(pg, rows, warehouse):
    contract = conftest.template_contract()["postgresql"]
    base = {"--include_paths": conftest.pg_include("mbench"), "--read_partitions": "4", "--snapshot_retention_days": "0"}
    merge = dict(base, **{"--lake_database": "mbench_merge", "--mode": "merge",
                          "--tables": json.dumps({"orders": {"changeColumn": "updated_at"}})})
    snapshot = dict(base, **{"--lake_database": "mbench_snapshot", "--mode": "snapshot"})
    # First loads (and Spark's start): not measured.
    conftest.run_job(contract, warehouse, pg, merge, run="merge_load")
    conftest.run_job(contract, warehouse, pg, snapshot, run="snapshot_load")

    # 1% of the rows change: every 200th updated, every 200th (offset) deleted.
    pg.run(sql="""UPDATE mbench.orders SET price = price + 1, updated_at = timestamp '2030-01-01' + id * interval '1 ms'
                  WHERE id % 200 = 0;
                  DELETE FROM mbench.orders WHERE id % 200 = 100;""")
    pg.run(sql="VACUUM ANALYZE mbench.orders")
    changed = rows // 100

    timings = {}
    for name, over in (("merge", merge), ("snapshot", snapshot)):
        t = time.monotonic()
        manifest, _ = conftest.run_job(contract, warehouse, pg, over, run="bench_" + name)
        timings[name] = time.monotonic() - t
        table = manifest["tables"][0]
        assert table["proof"]["lakeRows"] == rows - changed // 2, table
    print("merge-bench: rows=%d changed=%d merge_s=%.1f snapshot_s=%.1f ratio=%.2f" % (
        rows, changed, timings["merge"], timings["snapshot"], timings["merge"] / timings["snapshot"]))


if __name__ == "__main__":
    main()
