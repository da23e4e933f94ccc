"""Schema changes on the import tier (issue 20): what the lake's columns
are after each change of fixtures/schema_changes.json, on local Spark
against the real PostgreSQL. The same file drives TagOutput on moto
(pkg/lakeformation TestSchemaChangesOnTheImportTier), so the columns the
governance tests classify are the columns the import really leaves.
"""

import json
import os

import pytest

import import_job
from conftest import HERE, pg_include, run_job


def steps():
    with open(os.path.join(HERE, "fixtures", "schema_changes.json"), encoding="utf-8") as f:
        return json.load(f)


def test_schema_changes_reach_the_lake(contract, warehouse, postgres):
    fx = steps()
    c = contract["postgresql"]
    over = {"--include_paths": pg_include(fx["schema"]), "--lake_database": fx["schema"]}
    ident = "glue_catalog.%s.%s%s" % (fx["schema"], c["arguments"]["--table_prefix"], fx["table"])
    spark = None
    for i, step in enumerate(fx["steps"]):
        postgres.run(sql=step["sql"])
        before = None if spark is None else spark.table(ident).collect()
        if step.get("fails"):
            with pytest.raises(import_job.ImportError_, match="nothing published") as err:
                run_job(c, warehouse, postgres, over, run="jr_%d" % i)
            assert "%s.%s" % (fx["schema"], fx["table"]) in str(err.value), err.value
            # The failed run leaves the previous lake table.
            assert spark.table(ident).collect() == before, step["change"]
        else:
            _, rt = run_job(c, warehouse, postgres, over, run="jr_%d" % i)
            spark = rt.spark
        spark.sql("REFRESH TABLE %s" % ident)
        got = [[f.name, f.dataType.simpleString()] for f in spark.table(ident).schema.fields]
        assert got == step["columns"], "after %s: lake columns %s, want %s" % (step["change"], got, step["columns"])
        if step["change"] == "column renamed":
            # The old name stays, NULL from this run on; the values are under the new one.
            row = spark.sql("SELECT phone_number, mobile_phone FROM %s WHERE id = 1" % ident).collect()[0].asDict()
            assert row == {"phone_number": None, "mobile_phone": "+81 3"}, row
