"""One consistent read per run (issue 19, item 2), for real: another
connection writes to the source while the job reads it, and the lake shows
the source as it was at one moment, never a mix.

The table is a ledger of accounts whose balances always add up to the same
total: every write moves an amount from one account to another in one
transaction, so any state the database ever committed has that total, and a
read that mixes two moments (one partition before a transfer, another after
it) almost never does.
"""

import threading
import time

from conftest import MariaDB, lake_rows, pg_include, run_job

ROWS, BALANCE = 40000, 1000


def over_pg():
    return {"--include_paths": pg_include("c19"), "--lake_database": "c19_pg",
            "--partitioning": '{"accounts": {"column": "id", "partitions": 4}}'}


def test_postgres_partitions_read_one_exported_snapshot(contract, warehouse, postgres, hold):
    """Four partitioned reads of one table on two task slots (local[2]).
    The first two partitions' reads stop in the middle of their rows (a
    row-security function sleeps at one row of each), so the last two can
    only start after them; meanwhile another connection commits a transfer
    from an account of the first partition to one of the last, deletes a row
    and inserts one. Without one snapshot, the first partitions show the
    table before that transaction and the last ones after it. The lake must
    show the table as it was before it."""
    postgres.run(sql="""
        DROP SCHEMA IF EXISTS c19 CASCADE; CREATE SCHEMA c19;
        CREATE TABLE c19.accounts (id integer PRIMARY KEY, balance integer NOT NULL);
        INSERT INTO c19.accounts SELECT g, %d FROM generate_series(1, %d) g;
        CREATE FUNCTION c19.pace(k integer) RETURNS boolean LANGUAGE plpgsql AS $$
          BEGIN IF k IN (5000, 15000) THEN PERFORM pg_sleep(4); END IF; RETURN true; END $$;
        ALTER TABLE c19.accounts ENABLE ROW LEVEL SECURITY;
        ALTER TABLE c19.accounts FORCE ROW LEVEL SECURITY;
        CREATE POLICY paced ON c19.accounts USING (c19.pace(id));""" % (BALANCE, ROWS))
    before = [{"id": int(i), "balance": int(b)} for i, b in postgres.rows("SELECT id, balance FROM c19.accounts ORDER BY id")]

    # The first two partitions' reads sleeping (the bounds query reads only
    # the first and the last key, so it never does).
    sleeping = ("SELECT COUNT(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep' "
                "AND query LIKE '%accounts%'")
    wrote = {}
    # The transaction is made before the job starts and only committed while
    # the reads sleep, so its commit takes milliseconds, not a client's start.
    transfer = hold(postgres, """UPDATE c19.accounts SET balance = balance - 100 WHERE id = 1;
            UPDATE c19.accounts SET balance = balance + 100 WHERE id = 39999;
            DELETE FROM c19.accounts WHERE id = 39998;
            INSERT INTO c19.accounts VALUES (40001, 0)""")

    def writer():
        deadline = time.time() + 600
        while time.time() < deadline and int(postgres.rows(sleeping)[0][0]) < 2:
            time.sleep(0.05)
        if time.time() >= deadline:
            return
        transfer.commit()
        wrote["while_reading"] = int(postgres.rows(sleeping)[0][0]) == 2

    t = threading.Thread(target=writer)
    t.start()
    try:
        manifest, rt = run_job(contract["postgresql"], warehouse, postgres, over_pg(), run="c19_pg")
    finally:
        t.join()
    assert wrote.get("while_reading"), "the writer did not commit while the first partitions were being read"
    ident = "glue_catalog.c19_pg.%saccounts" % contract["postgresql"]["arguments"]["--table_prefix"]
    assert manifest["tables"][0]["readPartitions"] == 4
    assert lake_rows(rt.spark, ident, "id") == before, "the lake mixes the source before and after the transfer"
    after = postgres.rows("SELECT COUNT(*), SUM(balance) FROM c19.accounts WHERE id IN (1, 39998, 39999, 40001)")
    assert after == [["3", "2000"]], "the transfer did not reach the source"


def test_mariadb_reads_each_table_in_one_statement(contract, warehouse):
    """MariaDB has no exported snapshots: each table is read by one statement
    (InnoDB's consistent read), never split, with the proof's figures from
    that statement. Transfers commit continuously while the job runs; the
    lake's total is still the ledger's."""
    c = contract["mariadb"]
    src = MariaDB("lakeforge_test_c19")
    src.run(sql="""DROP TABLE IF EXISTS accounts;
        CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL);
        INSERT INTO accounts SELECT seq, %d FROM seq_1_to_%d;""" % (BALANCE, ROWS))
    stop, transfers = threading.Event(), []

    def writer():
        import random
        rnd = random.Random(19)
        while not stop.is_set():
            a, b = rnd.randint(1, ROWS), rnd.randint(1, ROWS)
            src.run(sql="START TRANSACTION; UPDATE accounts SET balance = balance - 7 WHERE id = %d; "
                        "UPDATE accounts SET balance = balance + 7 WHERE id = %d; COMMIT;" % (a, b))
            transfers.append(time.time())

    t = threading.Thread(target=writer)
    t.start()
    try:
        start = time.time()
        # What import.partitioning would ask for on PostgreSQL: ignored here.
        manifest, rt = run_job(c, warehouse, src, {
            "--source_dbname": "lakeforge_test_c19", "--include_paths": '["lakeforge_test_c19/accounts"]',
            "--lake_database": "c19_my", "--partitioning": '{"accounts": {"column": "id", "partitions": 4}}'},
            run="c19_my")
        end = time.time()
    finally:
        stop.set()
        t.join()
    during = [x for x in transfers if start <= x <= end]
    assert len(during) >= 5, "too few transfers committed while the job ran (%d)" % len(during)
    table = manifest["tables"][0]
    assert table["readPartitions"] == 1
    ident = "glue_catalog.c19_my.%saccounts" % c["arguments"]["--table_prefix"]
    total = rt.spark.sql("SELECT COUNT(*) AS n, SUM(balance) AS s FROM %s" % ident).collect()[0]
    assert (total["n"], total["s"]) == (ROWS, ROWS * BALANCE)
    p = table["proof"]
    assert (p["sourceRows"], p["sourceChecksum"]) == (p["lakeRows"], p["lakeChecksum"]) == (ROWS, p["lakeChecksum"])

