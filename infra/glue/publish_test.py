"""A publish that cannot be left half done (issue 19, item 4), for real: the
job runs in its own process and is killed (SIGKILL: no Python or JVM clean-up
runs) right after the first of two tables' fast-forwards. The analyst then
sees one table of the new run and one of the old; a retry of the run
completes the publish before it does anything else.
"""

import os
import signal
import subprocess
import sys
import textwrap

from conftest import HERE, lake_rows, pg_include, read_manifest, run_job
import importjob_lake
import importjob_publish

CHILD = textwrap.dedent("""
    import os, signal, sys
    sys.path.insert(0, {here!r})
    import conftest, importjob_publish
    published = []
    real = importjob_publish.fast_forward

    def fast_forward(spark, ident, branch):
        if published:  # between the first table's fast-forward and the second's
            os.kill(os.getpid(), signal.SIGKILL)
        real(spark, ident, branch)
        published.append(ident)

    importjob_publish.fast_forward = fast_forward
    contract = conftest.template_contract()["postgresql"]
    conftest.run_job(contract, {warehouse!r}, conftest.Postgres(), {over!r}, run="pub_2")
    print("the job was not killed")
""")


def test_a_publish_killed_between_two_tables_is_completed_by_the_retry(contract, warehouse, postgres, capsys):
    c = contract["postgresql"]
    postgres.run(sql="""
        DROP SCHEMA IF EXISTS pub19 CASCADE; CREATE SCHEMA pub19;
        CREATE TABLE pub19.a (id integer PRIMARY KEY, v text); INSERT INTO pub19.a VALUES (1, 'a1'), (2, 'a1');
        CREATE TABLE pub19.b (id integer PRIMARY KEY, v text); INSERT INTO pub19.b VALUES (1, 'b1');""")
    over = {"--include_paths": pg_include("pub19"), "--lake_database": "pub19"}
    prefix = c["arguments"]["--table_prefix"]
    a, b = "glue_catalog.pub19.%sa" % prefix, "glue_catalog.pub19.%sb" % prefix
    _, rt = run_job(c, warehouse, postgres, over, run="pub_1")
    spark = rt.spark
    day1 = {a: lake_rows(spark, a, "id"), b: lake_rows(spark, b, "id")}

    postgres.run(sql="UPDATE pub19.a SET v = 'a2'; INSERT INTO pub19.b VALUES (2, 'b2');")
    child = subprocess.run([sys.executable, "-c", CHILD.format(here=HERE, warehouse=warehouse, over=over)],
                           capture_output=True, text=True, timeout=900)
    assert child.returncode == -signal.SIGKILL, "the job was not killed: %s" % child.stdout[-2000:] + child.stderr[-2000:]

    # Half published: a is the new run's, b still the old one's.
    for t in (a, b):
        spark.sql("REFRESH TABLE %s" % t)  # the cached metadata predates the other process's commits
    assert lake_rows(spark, a, "id") == [{"id": 1, "v": "a2"}, {"id": 2, "v": "a2"}]
    assert lake_rows(spark, b, "id") == day1[b]
    runs = rt.storage_uri(rt.args["runs_path"])
    journal = importjob_lake.read_json(spark, importjob_publish.journal_uri(runs))
    assert journal["runId"] == "pub_2" and [t["ident"] for t in journal["tables"]] == [a, b]
    staged = {t["ident"]: t["staged"] for t in journal["tables"]}

    # The retry of the run (the same run id, as Glue's retry of a workflow
    # run's job) completes the interrupted publish first.
    capsys.readouterr()
    m, rt2 = run_job(c, warehouse, postgres, over, run="pub_2")
    assert "completed the interrupted publish of run pub_2 (2 tables)" in capsys.readouterr().out
    for t in (a, b):
        table = importjob_lake.iceberg_table(spark, t)
        ancestors, sid = [], importjob_lake.ref_snapshot(table, "main")
        while sid is not None:
            ancestors.append(sid)
            sid = table.snapshot(sid).parentId()
        assert staged[t] in ancestors, "%s: the killed run's staged snapshot was never published" % t
        assert sorted(importjob_lake.iceberg_table(spark, t).refs().keySet()) == ["main"]
    assert lake_rows(spark, b, "id") == [{"id": 1, "v": "b1"}, {"id": 2, "v": "b2"}]
    assert importjob_lake.read_json(spark, importjob_publish.journal_uri(runs)) is None
    assert read_manifest(rt2, "pub_2") == m
