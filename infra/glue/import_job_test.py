"""The import job for real: local Spark, the real PostgreSQL and MariaDB
servers of scripts/test-databases.sh, Iceberg 1.7.1, and the arguments and
connection of the synthesized template (conftest.template_contract).

Expected values come from the fixtures (fixtures/*.sql) and from the
source read with the servers' own clients, never from the job.
"""

import datetime as dt
import json
import os
import re
from decimal import Decimal

import pytest

import import_job
import local_runtime
from conftest import HERE, MariaDB, lake_rows, pg_include, read_manifest, readme_type_map, run_job

UTC = dt.timezone.utc


# ------------------------------------------------------------ no Spark needed

def base_args(**over):
    args = {
        "JOB_NAME": "j", "connection_name": "c", "engine": "postgresql", "source_dbname": "db",
        "include_paths": '["db/public/%"]', "require_tls": "true", "lake_database": "kthr01",
        "table_prefix": "p_", "lake_path": "s3://b/lake/", "runs_path": "s3://b/lake/_lakeforge_runs/",
        "mode": "snapshot", "bookmark_keys": "{}", "partitioning": "{}", "read_partitions": "4",
        "parallel_tables": "4", "snapshot_retention_days": "7", "tables": "{}", "merge_overlap_minutes": "5",
        "orphan_file_age_hours": "72",
    }
    args.update(over)
    return args


@pytest.mark.parametrize("over, message", [
    ({"mode": "full"}, "--mode is 'full': use snapshot, incremental or merge (config import.mode)"),
    ({"tables": '{"t": {"mode": "cdc"}}'}, "--tables.t (config import.tables.t).mode is 'cdc'"),
    ({"tables": '{"t": {"changeColum": "x"}}'}, "--tables.t (config import.tables.t) has 'changeColum'"),
    ({"tables": '{"t": {"key": ["a b"]}}'}, "'a b' is not a column name"),
    ({"merge_overlap_minutes": "-1"}, "--merge_overlap_minutes is '-1': a whole number >= 0 (config import.mergeOverlapMinutes)"),
    ({"orphan_file_age_hours": "0"}, "--orphan_file_age_hours is '0'"),
    ({"engine": "oracle"}, "--engine is 'oracle'"),
    ({"lake_path": "s3://b/lake"}, "--lake_path is 's3://b/lake': an s3:// URI ending with '/'"),
    ({"include_paths": "[]"}, "--include_paths is empty"),
    ({"bookmark_keys": '{"t": ["a", "b"]}'}, "one watermark column per table (config import.bookmarkKeys)"),
    ({"bookmark_keys": "{"}, "--bookmark_keys is not JSON (config import.bookmarkKeys)"),
    ({"partitioning": '{"t": {"column": "id", "partitions": 0}}'}, "--partitioning.t"),
    ({"read_partitions": "0"}, "--read_partitions is '0'"),
    ({"snapshot_retention_days": "x"}, "--snapshot_retention_days is 'x'"),
    ({"require_tls": "yes"}, "--require_tls is 'yes'"),
])
def test_bad_arguments_name_the_argument_and_the_setting(over, message):
    with pytest.raises(import_job.ImportError_) as err:
        import_job.check_args(base_args(**over))
    assert message in str(err.value)


def test_a_missing_argument_is_an_error_like_getResolvedOptions():
    with pytest.raises(local_runtime.ArgumentError, match="--mode"):
        local_runtime.get_resolved_options(["x", "--JOB_NAME", "j"], ["JOB_NAME", "mode"])


def test_no_run_id_means_the_job_was_not_started_by_the_workflow():
    with pytest.raises(import_job.ImportError_, match="start the job through the workflow"):
        import_job.run_id({})


@pytest.mark.parametrize("conf, engine, want", [
    # extract_jdbc_conf's shapes: "fullUrl" with the database, "url" without.
    ({"fullUrl": "jdbc:postgresql://h:5432/kthr01", "url": "jdbc:postgresql://h:5432"}, "postgresql",
     "jdbc:postgresql://h:5432/kthr01?sslmode=require"),
    ({"url": "jdbc:mysql://h:3306"}, "mariadb",
     "jdbc:mysql://h:3306/kthr01?sslMode=REQUIRED&zeroDateTimeBehavior=CONVERT_TO_NULL&useCursorFetch=true"),
])
def test_jdbc_url_from_the_glue_connection(conf, engine, want):
    assert import_job.jdbc_url(conf, engine, "kthr01", True) == want


def test_a_connection_of_another_engine_is_refused():
    with pytest.raises(import_job.ImportError_, match="does not match --engine postgresql"):
        import_job.jdbc_url({"url": "jdbc:mysql://h:3306/x"}, "postgresql", "x", False)


def test_key_ranges_cover_every_key_and_null_once():
    preds = import_job.range_predicates("k", 1, 100, 7)
    assert len(preds) == 7
    owners = {}
    for k in list(range(-5, 110)) + [None]:
        hits = [p for p in preds if _holds(p, k)]
        owners[k] = len(hits)
    assert set(owners.values()) == {1}, owners


def _holds(pred, k):
    # The predicates are "k < a OR k IS NULL", "k >= a AND k < b", "k >= a".
    if k is None:
        return "IS NULL" in pred
    expr = pred.replace(" OR k IS NULL", "").replace("AND", "and").replace("k", str(k))
    return eval(expr)  # noqa: S307 - our own three predicate shapes


def test_include_paths_use_the_crawler_syntax():
    assert import_job.matches(["kthr01/public/%"], "postgresql", "kthr01", "public", "Orders")
    assert not import_job.matches(["kthr01/public/order_"], "postgresql", "kthr01", "public", "orders_2024")
    assert import_job.matches(["kthr01/%"], "mysql", "kthr01", "kthr01", "x")
    with pytest.raises(import_job.ImportError_, match="database/schema/table"):
        import_job.matches(["kthr01/%"], "postgresql", "kthr01", "public", "x")


def test_glue_only_settings_are_the_ones_replaced_locally():
    conf = ("spark.sql.extensions=X --conf spark.sql.catalog.glue_catalog=org.apache.iceberg.spark.SparkCatalog"
            " --conf spark.sql.catalog.glue_catalog.warehouse=s3://b/lake/"
            " --conf spark.sql.catalog.glue_catalog.catalog-impl=org.apache.iceberg.aws.glue.GlueCatalog"
            " --conf spark.sql.catalog.glue_catalog.glue.lakeformation-enabled=true")
    given, local = local_runtime.spark_confs(conf, "/w")
    assert len(given) == 5
    assert local == {"spark.sql.extensions": "X",
                     "spark.sql.catalog.glue_catalog": "org.apache.iceberg.spark.SparkCatalog",
                     "spark.sql.catalog.glue_catalog.warehouse": "file:///w/s3/b/lake/",
                     "spark.sql.catalog.glue_catalog.type": "hadoop"}


# ------------------------------------------------------------ the real tier

PG_TYPED = [
    {"id": 1, "amount": Decimal("12345.678"), "ratio": 0.5, "qty": 32767, "big": 9223372036854775807, "flag": True,
     "day": dt.date(2024, 2, 29), "ts": dt.datetime(2024, 2, 29, 23, 59, 59, 123456),
     "tstz": dt.datetime(2024, 2, 29, 14, 59, 59, 500000), "note": "日本語のテキスト、全角ＡＢＣ", "label": "ラベル",
     "raw": bytearray(b"\x00\xff\x10"), "doc": {"a": [1, 2], "日本": "語"}, "docb": {"k": True}},
    {"id": 2, "amount": Decimal("-0.001"), "ratio": -1.25e10, "qty": -32768, "big": -9223372036854775808, "flag": False,
     "day": dt.date(1970, 1, 1), "ts": dt.datetime(1970, 1, 1), "tstz": dt.datetime(1999, 12, 31, 15, 0),
     "note": "plain ascii", "label": "", "raw": bytearray(b""), "doc": [], "docb": {}},
    {"id": 3, **{k: None for k in ("amount", "ratio", "qty", "big", "flag", "day", "ts", "tstz", "note", "label",
                                    "raw", "doc", "docb")}},
]

MY_TYPED = [
    {"id": 1, "amount": Decimal("12345.678"), "ratio": 0.5, "qty": 32767, "big": 9223372036854775807, "flag": True,
     "day": dt.date(2024, 2, 29), "ts": dt.datetime(2024, 2, 29, 23, 59, 59, 123456),
     "dt": dt.datetime(2024, 2, 29, 23, 59, 59, 123456), "note": "日本語のテキスト、全角ＡＢＣ", "label": "ラベル",
     "raw": bytearray(b"\x00\xff\x10"), "doc": {"a": [1, 2], "日本": "語"},
     "u_tiny": 255, "u_small": 65535, "u_int": 4294967295, "u_big": Decimal("18446744073709551615")},
    {"id": 2, "amount": Decimal("-0.001"), "ratio": -1.25e10, "qty": -32768, "big": -9223372036854775808, "flag": False,
     "day": dt.date(1970, 1, 2), "ts": dt.datetime(1970, 1, 2), "dt": dt.datetime(1900, 1, 1),
     "note": "plain ascii", "label": "", "raw": bytearray(b""), "doc": [],
     "u_tiny": 0, "u_small": 0, "u_int": 0, "u_big": Decimal("0")},
    {"id": 3, **{k: None for k in ("amount", "ratio", "qty", "big", "flag", "day", "ts", "dt", "note", "label", "raw",
                                    "doc", "u_tiny", "u_small", "u_int", "u_big")}},
]


def normalized(rows, json_cols):
    out = []
    for r in rows:
        r = dict(r)
        for c in json_cols:
            if isinstance(r.get(c), str):
                r[c] = json.loads(r[c])
        out.append(r)
    return out


def source_type_key(engine, typ):
    """A source column type in the notation of the type table (docs/pipeline.md)."""
    typ = typ.lower()
    if engine == "MySQL/MariaDB":
        if typ.startswith("tinyint(1)") and "unsigned" not in typ:
            return "tinyint(1)"
        typ = re.sub(r"^(tinyint|smallint|mediumint|int|bigint)\(\d+\)", r"\1", typ)
        if typ == "longtext":  # MariaDB's JSON is LONGTEXT with a JSON check
            return "json"
    m = re.fullmatch(r"([a-z ]+)\((\d+)(?:,(\d+))?\)(.*)", typ)
    if not m:
        return typ
    base, a, b, rest = m.groups()
    return "%s(%s)%s" % (base, "p,s" if b else "n", rest), a, b


def check_types(engine, columns, schema):
    """Each lake column has the lake type docs/pipeline.md gives for its source type."""
    types = readme_type_map()
    lake = {f.name: f.dataType.simpleString() for f in schema.fields}
    for col, typ in columns:
        key = source_type_key(engine, typ)
        p = s = None
        if isinstance(key, tuple):
            key, p, s = key
        assert (engine, key) in types, "the type table of docs/pipeline.md has no row for %s %s (column %s)" % (engine, key, col)
        want = types[(engine, key)].replace("(p,s)", "(%s,%s)" % (p, s))
        assert lake[col] == want, "%s column %s (%s): lake type %s, docs/pipeline.md says %s" % (engine, col, typ, lake[col], want)


def analyst_queries_on_lake(spark, ident):
    count = spark.sql("SELECT COUNT(*) AS n FROM %s" % ident).collect()[0]["n"]
    top = [r["id"] for r in spark.sql("SELECT * FROM %s ORDER BY created_at DESC LIMIT 10" % ident).collect()]
    return count, top


def test_postgres_snapshot_import_equals_the_source(contract, warehouse, postgres):
    """Requirements 1, 2, 3, 6, 9 on PostgreSQL, with exactly the template's arguments."""
    c = contract["postgresql"]
    postgres.run(path=os.path.join(HERE, "fixtures", "postgres.sql"), schema="kthr01")
    manifest, rt = run_job(c, warehouse, postgres)
    spark, a = rt.spark, rt.args
    ident = lambda t: "glue_catalog.%s.%s%s" % (a["lake_database"], a["table_prefix"], t)  # noqa: E731

    # Every table the include path names, found through JDBC metadata.
    names = sorted(t["name"] for t in manifest["tables"])
    assert names == ["empty_table", "mixedcase", "no_key", "products", "typed"]
    assert rt.committed and manifest == read_manifest(rt, "jr_1")

    # Counts: manifest == source == lake.
    for t in manifest["tables"]:
        src = t["sourceTable"].split(".")[1]
        want = int(postgres.rows('SELECT COUNT(*) FROM kthr01."%s"' % src)[0][0])
        assert (t["rowsWritten"], t["rowsTotal"]) == (want, want), t
        assert spark.table(ident(t["name"])).count() == want

    # products: every row and value, from psql's own CSV.
    src = [{"id": int(r[0]), "name": r[1], "price": Decimal(r[2]), "category": r[3],
            "created_at": dt.datetime.fromisoformat(r[4])}
           for r in postgres.rows("SELECT id, name, price, category, created_at FROM kthr01.products ORDER BY id")]
    assert lake_rows(spark, ident("products"), "id") == src
    # The blog's two analyst queries give the source's answers.
    want_count = int(postgres.rows("SELECT COUNT(*) FROM kthr01.products")[0][0])
    want_top = [int(r[0]) for r in postgres.rows("SELECT id FROM kthr01.products ORDER BY created_at DESC LIMIT 10")]
    assert analyst_queries_on_lake(spark, ident("products")) == (want_count, want_top)

    # Types and values of every column, NULLs in each.
    assert normalized(lake_rows(spark, ident("typed"), "id"), ["doc", "docb"]) == PG_TYPED
    assert sorted(map(str, lake_rows(spark, ident("no_key"), "a"))) == sorted(map(str, [
        {"a": None, "b": None}, {"a": "x", "b": 1}, {"a": "x", "b": 1}, {"a": "ü", "b": 2}]))
    assert lake_rows(spark, ident("mixedcase"), "Id") == [{"Id": 1, "Label": "Upper"}, {"Id": 2, "Label": None}]
    for table in ("typed", "products", "MixedCase"):
        cols = postgres.rows("SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
                             "WHERE a.attrelid = 'kthr01.\"%s\"'::regclass AND a.attnum > 0 ORDER BY a.attnum" % table)
        check_types("PostgreSQL", cols, spark.table(ident(import_job.lake_name(table))).schema)

    # Partitioned reads: automatic on the integer key, one stream without one.
    parts = {t["name"]: t["readPartitions"] for t in manifest["tables"]}
    assert parts["products"] == 3 and parts["no_key"] == 1, parts


def test_mariadb_snapshot_import_equals_the_source(contract, warehouse):
    """Requirements 2 and 3 on MariaDB: unsigned integers and datetime too."""
    c = contract["mariadb"]
    src = MariaDB(c["arguments"]["--source_dbname"])
    src.run(path=os.path.join(HERE, "fixtures", "mariadb.sql"))
    # The same template, another lake database: both engines share one lake here.
    manifest, rt = run_job(c, warehouse, src, {"--lake_database": "kthr01_mariadb"})
    spark, a = rt.spark, rt.args
    ident = lambda t: "glue_catalog.kthr01_mariadb.%s%s" % (a["table_prefix"], t)  # noqa: E731
    assert sorted(t["name"] for t in manifest["tables"]) == ["empty_table", "mixedcase", "no_key", "products", "typed"]
    for t in manifest["tables"]:
        want = int(src.rows("SELECT COUNT(*) FROM `%s`" % t["sourceTable"].split(".")[1])[0][0])
        assert (t["rowsWritten"], t["rowsTotal"]) == (want, want), t

    rows = [{"id": int(r[0]), "name": r[1], "price": Decimal(r[2]), "category": r[3],
             "created_at": dt.datetime.fromisoformat(r[4])}
            for r in src.rows("SELECT id, name, price, category, created_at FROM products ORDER BY id")]
    assert lake_rows(spark, ident("products"), "id") == rows
    want_top = [int(r[0]) for r in src.rows("SELECT id FROM products ORDER BY created_at DESC LIMIT 10")]
    assert analyst_queries_on_lake(spark, ident("products")) == (len(rows), want_top)

    assert normalized(lake_rows(spark, ident("typed"), "id"), ["doc"]) == MY_TYPED
    for table in ("typed", "products"):
        cols = src.rows("SELECT column_name, column_type FROM information_schema.columns WHERE table_schema = DATABASE() "
                        "AND table_name = '%s' ORDER BY ordinal_position" % table)
        check_types("MySQL/MariaDB", cols, spark.table(ident(table)).schema)


def pg_rows(postgres, sql, types):
    conv = {"int": int, "dec": lambda v: Decimal(v), "str": str, "ts": dt.datetime.fromisoformat}
    return [{k: (None if v is None else conv[t](v)) for (k, t), v in zip(types, r)} for r in postgres.rows(sql)]


def refs(spark, ident):
    return sorted(r["name"] for r in spark.sql("SELECT name FROM %s.refs" % ident).collect())


def test_a_failed_import_publishes_nothing_and_history_is_kept(contract, warehouse, postgres):
    """Requirement 4, and schema changes in snapshot mode (issue 12)."""
    c = contract["postgresql"]
    postgres.run(sql="""
        DROP SCHEMA IF EXISTS atomic CASCADE; CREATE SCHEMA atomic;
        CREATE TABLE atomic.customers (id integer PRIMARY KEY, name text);
        INSERT INTO atomic.customers VALUES (1, 'a'), (2, 'b'), (3, 'c');
        CREATE TABLE atomic.orders (id integer PRIMARY KEY, amount numeric(10,2), note text);
        INSERT INTO atomic.orders VALUES (1, 10.50, 'first'), (2, 20.00, NULL);""")
    over = {"--include_paths": pg_include("atomic"), "--lake_database": "atomic"}
    cust = "glue_catalog.atomic.%scustomers" % c["arguments"]["--table_prefix"]
    orders = "glue_catalog.atomic.%sorders" % c["arguments"]["--table_prefix"]
    m1, rt = run_job(c, warehouse, postgres, over, run="jr_1")
    spark = rt.spark
    day1 = {cust: lake_rows(spark, cust, "id"), orders: lake_rows(spark, orders, "id")}
    assert day1[cust] == [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}, {"id": 3, "name": "c"}]
    snap1 = {t: spark.sql("SELECT snapshot_id FROM %s.refs WHERE name = 'main'" % t).collect()[0][0] for t in day1}

    # Day 2: new customers, and an order the lake cannot hold (NaN in a
    # decimal): the read of orders fails in the middle of the run.
    postgres.run(sql="""INSERT INTO atomic.customers VALUES (4, 'd'), (5, 'e');
                        INSERT INTO atomic.orders VALUES (3, 'NaN', 'bad');""")
    with pytest.raises(import_job.ImportError_) as err:
        run_job(c, warehouse, postgres, over, run="jr_2")
    assert "nothing published" in str(err.value) and "atomic.orders" in str(err.value)
    for t, rows in day1.items():
        assert lake_rows(spark, t, "id") == rows, "a failed run changed %s" % t
        assert refs(spark, t) == ["main"], "a staging branch of the failed run is left on %s" % t
    assert not os.path.exists(os.path.join(rt.storage_uri(rt.args["runs_path"])[7:], "jr_2")), "failed run wrote a manifest"

    # Day 3: fixed, and the schema changed: a column added, one removed.
    postgres.run(sql="""DELETE FROM atomic.orders WHERE id = 3;
                        ALTER TABLE atomic.customers ADD COLUMN tier text; UPDATE atomic.customers SET tier = 'gold' WHERE id = 4;
                        ALTER TABLE atomic.orders DROP COLUMN note;""")
    m3, rt3 = run_job(c, warehouse, postgres, over, run="jr_3")
    assert rt3.committed
    assert lake_rows(spark, cust, "id") == [{"id": i, "name": n, "tier": "gold" if i == 4 else None}
                                            for i, n in zip(range(1, 6), "abcde")]
    # The removed column stays, NULL from this run on; its old values stay in history.
    assert lake_rows(spark, orders, "id") == [{"id": 1, "amount": Decimal("10.50"), "note": None},
                                              {"id": 2, "amount": Decimal("20.00"), "note": None}]
    assert [r.asDict() for r in spark.sql("SELECT id, name FROM %s VERSION AS OF %d ORDER BY id" % (cust, snap1[cust])).collect()] == day1[cust]
    assert {t["name"]: t["rowsTotal"] for t in read_manifest(rt3, "jr_3")["tables"]} == {"customers": 5, "orders": 2}

    # Retention: with 0 days, older snapshots are expired after the publish.
    run_job(c, warehouse, postgres, dict(over, **{"--snapshot_retention_days": "0"}), run="jr_4")
    for t in day1:
        assert spark.sql("SELECT COUNT(*) FROM %s.snapshots" % t).collect()[0][0] == 1


def test_incremental_runs_add_exactly_the_new_rows(contract, warehouse, postgres):
    """Requirement 5, and schema changes in incremental mode (issue 12)."""
    c = contract["postgresql"]
    postgres.run(sql="""
        DROP SCHEMA IF EXISTS incr CASCADE; CREATE SCHEMA incr;
        CREATE TABLE incr.events (id bigint PRIMARY KEY, payload text, amount numeric(8,2), created_at timestamp);
        INSERT INTO incr.events SELECT g, 'p' || g, g, timestamp '2024-01-01' + g * interval '1 hour' FROM generate_series(1, 3) g;""")
    # The read split as configured (import.partitioning), on top of the watermark.
    over = {"--include_paths": pg_include("incr"), "--lake_database": "incr", "--mode": "incremental",
            "--bookmark_keys": '{"events": ["id"]}', "--partitioning": '{"events": {"column": "id", "partitions": 3}}'}
    events = "glue_catalog.incr.%sevents" % c["arguments"]["--table_prefix"]
    cols = [("id", "int"), ("payload", "str"), ("amount", "dec"), ("created_at", "ts")]
    source = lambda: pg_rows(postgres, "SELECT id, payload, amount, created_at FROM incr.events ORDER BY id", cols)  # noqa: E731

    m1, rt = run_job(c, warehouse, postgres, over, run="jr_1")
    spark = rt.spark
    assert (m1["tables"][0]["rowsWritten"], m1["tables"][0]["rowsTotal"], m1["tables"][0]["readPartitions"]) == (3, 3, 3)
    assert lake_rows(spark, events, "id") == source()

    postgres.run(sql="INSERT INTO incr.events VALUES (4, 'p4', 4, '2024-02-01'), (5, 'p5', 5, '2024-02-02');")
    m2, _ = run_job(c, warehouse, postgres, over, run="jr_2")
    assert (m2["tables"][0]["rowsWritten"], m2["tables"][0]["rowsTotal"], m2["tables"][0]["readPartitions"]) == (2, 5, 2)
    assert lake_rows(spark, events, "id") == source()

    # A failing run (row 7 cannot be stored) moves no watermark.
    postgres.run(sql="INSERT INTO incr.events VALUES (6, 'p6', 6, '2024-03-01'), (7, 'p7', 'NaN', '2024-03-02');")
    with pytest.raises(import_job.ImportError_, match="nothing published"):
        run_job(c, warehouse, postgres, over, run="jr_3")
    assert [r["id"] for r in lake_rows(spark, events, "id")] == [1, 2, 3, 4, 5]

    # Fixed; meanwhile a column was added and one removed at the source.
    postgres.run(sql="""UPDATE incr.events SET amount = 7 WHERE id = 7;
                        ALTER TABLE incr.events ADD COLUMN extra text; ALTER TABLE incr.events DROP COLUMN payload;
                        INSERT INTO incr.events (id, amount, created_at, extra) VALUES (8, 8, '2024-03-03', 'x');""")
    m4, rt4 = run_job(c, warehouse, postgres, over, run="jr_4")
    assert (m4["tables"][0]["rowsWritten"], m4["tables"][0]["rowsTotal"]) == (3, 8)
    lake = lake_rows(spark, events, "id")
    assert [r["id"] for r in lake] == list(range(1, 9)), "duplicates or gaps"
    now = {r["id"]: r for r in pg_rows(postgres, "SELECT id, amount, created_at, extra FROM incr.events ORDER BY id",
                                        [("id", "int"), ("amount", "dec"), ("created_at", "ts"), ("extra", "str")])}
    for r in lake:
        want = dict(now[r["id"]], payload="p%d" % r["id"] if r["id"] <= 5 else None)
        if r["id"] <= 5:
            want["extra"] = None  # imported before the column existed
        assert r == want
    assert rt4.committed
