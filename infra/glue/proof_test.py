"""Proof before publish for real (issue 19, item 3): the source database and
Spark compute a row count and a content checksum over each staged table; a
mismatch fails the run naming the table and both figures, and nothing is
published. The expected figures are computed here, in Python, from the
documented canonical form (docs/pipeline.md, "Proof before publish") over the
rows psql returns, never taken from the job.
"""

import datetime as dt
import hashlib
import json
import os

import pytest

import import_job
from conftest import lake_rows, pg_include, read_manifest, run_job

# Columns of proof19.items in order, with their canonical kind (None: a
# type without a canonical form, left out of the checksum).
COLUMNS = [("id", "int"), ("label", "text"), ("price", "dec"), ("qty", "int"), ("day", "date"), ("seen", "ts"),
           ("ok", "bool"), ("ratio", None), ("doc", None), ("updated_at", "ts")]


def canonical(kind, value):
    """A psql CSV value in the documented canonical text."""
    if value is None:
        return chr(30)
    if kind == "ts":  # ISO, the fraction without trailing zeros
        text = dt.datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M:%S.%f").rstrip("0")
        return text.rstrip(".")
    if kind == "bool":
        return {"t": "true", "f": "false"}[value]
    return value


def figures(rows):
    """(rows, checksum) of psql rows (lists in COLUMNS order)."""
    total = 0
    for r in rows:
        text = chr(31).join(canonical(k, v) for (_, k), v in zip(COLUMNS, r) if k is not None)
        total += int(hashlib.md5(text.encode("utf-8")).hexdigest()[:15], 16)
    return len(rows), str(total)


def source(postgres):
    return postgres.rows("SELECT %s FROM proof19.items ORDER BY id" % ", ".join(c for c, _ in COLUMNS))


def lake_as_psql(spark, ident):
    """The lake's rows in psql's text forms, for the same computation."""
    out = []
    for r in lake_rows(spark, ident, "id"):
        row = []
        for c, _ in COLUMNS:
            v = r[c]
            if v is None:
                row.append(None)
            elif isinstance(v, bool):
                row.append("t" if v else "f")
            elif isinstance(v, dt.datetime):
                row.append(v.isoformat(sep=" "))
            else:
                row.append(str(v))
        out.append(row)
    return out


def test_a_table_that_differs_from_the_source_is_not_published(contract, warehouse, postgres):
    c = contract["postgresql"]
    postgres.run(sql="""
        DROP SCHEMA IF EXISTS proof19 CASCADE; CREATE SCHEMA proof19;
        CREATE TABLE proof19.items (id bigint PRIMARY KEY, label varchar(20), price numeric(8,2), qty smallint, day date,
            seen timestamp, ok boolean, ratio double precision, doc jsonb, updated_at timestamp);
        INSERT INTO proof19.items VALUES
          (1, 'ünï', 10.50, 3, '2024-02-29', '2024-02-29 23:59:59.123456', true, 0.1, '{"a": 1}', '2024-03-01 09:00'),
          (2, '', -0.01, -32768, '1970-01-01', '1970-01-01 00:00:00', false, 1e300, '[]', '2024-03-01 10:00'),
          (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '2024-03-01 11:00');""")
    over = {"--include_paths": pg_include("proof19"), "--lake_database": "proof19", "--mode": "merge",
            "--tables": json.dumps({"items": {"changeColumn": "updated_at"}})}
    ident = "glue_catalog.proof19.%sitems" % c["arguments"]["--table_prefix"]

    m1, rt = run_job(c, warehouse, postgres, over, run="proof_1")
    spark = rt.spark
    p = m1["tables"][0]["proof"]
    want = figures(source(postgres))
    assert p["columns"] == [col for col, k in COLUMNS if k is not None]
    assert (p["sourceRows"], p["sourceChecksum"]) == want == (p["lakeRows"], p["lakeChecksum"])
    assert figures(lake_as_psql(spark, ident)) == want
    published = lake_rows(spark, ident, "id")

    # A write merge mode cannot see: the change column is not touched, and
    # the row is older than the overlap below the watermark (11:00).
    postgres.run(sql="UPDATE proof19.items SET price = 1.00 WHERE id = 2")
    with pytest.raises(import_job.ImportError_) as err:
        run_job(c, warehouse, postgres, over, run="proof_2")
    src, lake = figures(source(postgres)), figures(lake_as_psql(spark, ident))
    assert src != lake
    msg = str(err.value)
    assert "nothing published" in msg and "proof failed for proof19.items" in msg
    assert "the source has %d rows, checksum %s" % src in msg
    assert "the staged lake table has %d rows, checksum %s" % lake in msg
    assert lake_rows(spark, ident, "id") == published
    assert sorted(r["name"] for r in spark.sql("SELECT name FROM %s.refs" % ident).collect()) == ["main"]
    runs = rt.storage_uri(rt.args["runs_path"])[len("file://"):]
    assert not os.path.exists(os.path.join(runs, "proof_2")), "a failed run wrote a manifest"

    # The documented way out: one run in snapshot mode reloads the table.
    m3, rt3 = run_job(c, warehouse, postgres, dict(over, **{"--tables": json.dumps({"items": {"mode": "snapshot"}})}),
                      run="proof_3")
    p3 = m3["tables"][0]["proof"]
    assert (p3["sourceRows"], p3["sourceChecksum"]) == src == (p3["lakeRows"], p3["lakeChecksum"])
    assert read_manifest(rt3, "proof_3") == m3
    assert figures(lake_as_psql(spark, ident)) == src

    # Back to merge mode: the proof's lake figures are recorded with the data.
    m4, _ = run_job(c, warehouse, postgres, over, run="proof_4")
    assert m4["tables"][0]["proof"]["lakeBasis"] == "every row of the staged table"  # after a snapshot run
    # A snapshot run keeps no key ranges: the lake's come from a scan of its keys.
    assert m4["tables"][0]["deletesFoundBy"] == "key ranges"
    # A commit to the lake by anything but the job (here a DELETE, as an
    # analyst with write access could run): the next merge run does not
    # trust the recorded figures, recomputes them, and refuses to publish.
    spark.sql("DELETE FROM %s WHERE id = 1" % ident)
    with pytest.raises(import_job.ImportError_) as err:
        run_job(c, warehouse, postgres, over, run="proof_5")
    assert "the staged lake table has 2 rows" in str(err.value) and "the source has 3 rows" in str(err.value)
