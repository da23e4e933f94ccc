"""Unit test of import_job.py with stand-ins for the Glue runtime.

The awsglue and pyspark modules exist only inside Glue, so the test puts
small recording stand-ins into sys.modules before running the job's main():
they record which catalog tables the job reads (with which bookmark
options), where it writes and in which mode, and the manifest it stores.
Nothing here reaches AWS: boto3 is replaced too.
"""

import json
import os
import sys
import types
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


class Recorder:
    def __init__(self):
        self.reads = []      # (database, table, transformation_ctx, options)
        self.writes = []     # (path, mode, compression)
        self.puts = []       # (bucket, key, body)
        self.committed = False
        self.tables = {}     # catalog table name -> row count
        self.locations = {}  # catalog table name -> location
        self.lake = {}       # path -> rows already in the lake (incremental)
        self.pages = 1
        self.source_reads = 0  # extra reads of the source database


REC = Recorder()


class FakeDataFrame:
    def __init__(self, rows, source=False):
        self.rows = rows
        self.source = source
        self.persisted = False
        self.write = FakeWriter(self)

    def count(self):
        if self.source and not self.persisted:
            # Counting an unpersisted source frame reads the database again.
            REC.source_reads += 1
        return self.rows

    def persist(self):
        self.persisted = True
        return self

    def unpersist(self):
        self.persisted = False
        return self


class FakeWriter:
    def __init__(self, df):
        self.df = df
        self._mode = None
        self._compression = None

    def mode(self, mode):
        self._mode = mode
        return self

    def option(self, key, value):
        if key == "compression":
            self._compression = value
        return self

    def parquet(self, path):
        REC.writes.append((path, self._mode, self._compression))
        before = REC.lake.get(path, 0) if self._mode == "append" else 0
        REC.lake[path] = before + self.df.rows


class FakeDynamicFrame:
    def __init__(self, rows):
        self.rows = rows

    def toDF(self):
        return FakeDataFrame(self.rows, source=True)


class FakeCatalogReader:
    def from_catalog(self, database, table_name, transformation_ctx="", additional_options=None):
        REC.reads.append((database, table_name, transformation_ctx, dict(additional_options or {})))
        return FakeDynamicFrame(REC.tables[table_name])


class FakeSparkReader:
    def parquet(self, path):
        return FakeDataFrame(REC.lake.get(path, 0))


class FakeSession:
    read = FakeSparkReader()


class FakeGlueContext:
    def __init__(self, spark_context):
        self.create_dynamic_frame = FakeCatalogReader()
        self.spark_session = FakeSession()


class FakeJob:
    def __init__(self, glue_context):
        pass

    def init(self, name, args):
        self.name = name

    def commit(self):
        REC.committed = True


class FakeSparkContext:
    @staticmethod
    def getOrCreate():
        return FakeSparkContext()


def fake_get_resolved_options(argv, names):
    out = {}
    for name in names:
        flag = "--" + name
        if flag not in argv:
            raise SystemExit("missing argument " + flag)
        out[name] = argv[argv.index(flag) + 1]
    return out


class FakeGlueClient:
    def get_tables(self, DatabaseName, NextToken=None):
        names = sorted(REC.tables)
        # Two pages, to prove the job follows NextToken.
        half = len(names) // 2
        chosen = names[half:] if NextToken else names[:half]
        page = {"TableList": [{"Name": n, "DatabaseName": DatabaseName,
                               "StorageDescriptor": {"Location": REC.locations[n]}} for n in chosen]}
        if not NextToken:
            page["NextToken"] = "page2"
        return page


class FakeS3Client:
    def put_object(self, Bucket, Key, Body, ContentType=None):
        REC.puts.append((Bucket, Key, json.loads(Body)))


def install_stand_ins():
    def module(name, **attrs):
        m = types.ModuleType(name)
        for k, v in attrs.items():
            setattr(m, k, v)
        sys.modules[name] = m
        return m

    module("awsglue")
    module("awsglue.context", GlueContext=FakeGlueContext)
    module("awsglue.job", Job=FakeJob)
    module("awsglue.utils", getResolvedOptions=fake_get_resolved_options)
    module("pyspark")
    module("pyspark.context", SparkContext=FakeSparkContext)
    clients = {"glue": FakeGlueClient(), "s3": FakeS3Client()}
    module("boto3", client=lambda service: clients[service])


install_stand_ins()
import import_job  # noqa: E402  (after the stand-ins, as in Glue)


def argv(mode, keys=None, workflow=True):
    a = ["import_job.py", "--JOB_NAME", "lakeforge-import-job",
         "--source_database", "lakeforge_source",
         "--lake_path", "s3://lake-bucket/lake/",
         "--runs_path", "s3://lake-bucket/lake/_lakeforge_runs/",
         "--mode", mode,
         "--bookmark_keys", json.dumps(keys or {}),
         "--JOB_RUN_ID", "jr_123"]
    if workflow:
        a += ["--WORKFLOW_NAME", "lakeforge-import", "--WORKFLOW_RUN_ID", "wr_abc"]
    return a


class ImportJobTest(unittest.TestCase):
    def setUp(self):
        global REC
        REC.__init__()
        REC.tables = {"kthr01_public_orders": 7, "kthr01_public_products": 42}
        REC.locations = {"kthr01_public_orders": "kthr01.public.orders",
                         "kthr01_public_products": "kthr01.public.products"}

    def run_job(self, args):
        sys.argv = args
        import_job.main()

    def test_snapshot_reads_every_crawled_table_and_overwrites_parquet_snappy(self):
        self.run_job(argv("snapshot"))
        self.assertEqual(
            [(db, t) for db, t, _, _ in REC.reads],
            [("lakeforge_source", "kthr01_public_orders"), ("lakeforge_source", "kthr01_public_products")])
        # No bookmark options in snapshot mode.
        self.assertEqual([opts for _, _, _, opts in REC.reads], [{}, {}])
        self.assertEqual(REC.writes, [
            ("s3://lake-bucket/lake/orders/", "overwrite", "snappy"),
            ("s3://lake-bucket/lake/products/", "overwrite", "snappy"),
        ])
        self.assertTrue(REC.committed)
        # Each table is read from the source once: the counts come from the lake.
        self.assertEqual(REC.source_reads, 0)

    def test_manifest_records_the_counts_of_the_workflow_run_outside_the_crawled_tables(self):
        self.run_job(argv("snapshot"))
        self.assertEqual(len(REC.puts), 1)
        bucket, key, manifest = REC.puts[0]
        self.assertEqual(bucket, "lake-bucket")
        self.assertEqual(key, "lake/_lakeforge_runs/wr_abc/manifest.json")
        self.assertEqual(manifest["runId"], "wr_abc")
        self.assertEqual(manifest["mode"], "snapshot")
        self.assertEqual({t["name"]: (t["rowsWritten"], t["rowsTotal"]) for t in manifest["tables"]},
                         {"orders": (7, 7), "products": (42, 42)})
        # The manifest never lands in a table folder the output crawler reads.
        for path, _, _ in REC.writes:
            self.assertFalse(key.startswith(path.split("lake-bucket/")[1]))

    def test_incremental_uses_bookmarks_on_the_configured_keys_and_appends(self):
        REC.lake = {"s3://lake-bucket/lake/orders/": 100, "s3://lake-bucket/lake/products/": 10}
        self.run_job(argv("incremental", {"orders": ["order_id"], "products": ["id", "updated_at"]}))
        self.assertEqual(REC.reads, [
            ("lakeforge_source", "kthr01_public_orders", "read_orders",
             {"jobBookmarkKeys": ["order_id"], "jobBookmarkKeysSortOrder": "asc"}),
            ("lakeforge_source", "kthr01_public_products", "read_products",
             {"jobBookmarkKeys": ["id", "updated_at"], "jobBookmarkKeysSortOrder": "asc"}),
        ])
        self.assertEqual([m for _, m, _ in REC.writes], ["append", "append"])
        manifest = REC.puts[0][2]
        self.assertEqual({t["name"]: (t["rowsWritten"], t["rowsTotal"]) for t in manifest["tables"]},
                         {"orders": (7, 107), "products": (42, 52)})
        # The new rows are counted from the persisted frame, not read twice.
        self.assertEqual(REC.source_reads, 0)

    def test_incremental_without_a_key_names_the_table_and_the_setting(self):
        with self.assertRaises(import_job.ImportError_) as ctx:
            self.run_job(argv("incremental", {"orders": ["order_id"]}))
        self.assertIn("products", str(ctx.exception))
        self.assertIn("import.bookmarkKeys", str(ctx.exception))
        self.assertEqual(REC.writes, [])
        self.assertFalse(REC.committed)

    def test_job_started_by_hand_records_under_its_job_run(self):
        self.run_job(argv("snapshot", workflow=False))
        self.assertEqual(REC.puts[0][1], "lake/_lakeforge_runs/jr_123/manifest.json")

    def test_no_crawled_table_fails_with_the_include_paths_hint(self):
        REC.tables, REC.locations = {}, {}
        with self.assertRaises(import_job.ImportError_) as ctx:
            self.run_job(argv("snapshot"))
        self.assertIn("source.includePaths", str(ctx.exception))
        self.assertEqual(REC.puts, [])

    def test_two_schemas_with_the_same_table_are_refused(self):
        REC.tables = {"kthr01_a_items": 1, "kthr01_b_items": 2}
        REC.locations = {"kthr01_a_items": "kthr01.a.items", "kthr01_b_items": "kthr01.b.items"}
        with self.assertRaises(import_job.ImportError_) as ctx:
            self.run_job(argv("snapshot"))
        self.assertIn("items", str(ctx.exception))

    def test_bad_mode_and_paths(self):
        a = argv("full")
        with self.assertRaises(import_job.ImportError_):
            self.run_job(a)
        a = argv("snapshot")
        a[a.index("--lake_path") + 1] = "lake-bucket/lake"
        with self.assertRaises(import_job.ImportError_):
            self.run_job(a)


if __name__ == "__main__":
    unittest.main()
