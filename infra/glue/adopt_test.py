"""The import job's adopt step (import_job.py, section "adopt") on local
Spark against the moto server's Glue catalog (moto.server, on 127.0.0.1):
a Parquet table the Lake Formation blueprint wrote becomes an Iceberg
table under the same name with every row, or stays exactly as it was.

The Parquet files are written by Spark, as the blueprint's Glue job writes
them; the catalog entry is the one its crawler makes (manualbuild.go's
ParquetTableInput has the same fields).
"""

import hashlib
import os

import boto3
import pytest

import import_job
import local_runtime
from conftest import template_contract

DB = "kthr01"
BUCKET = "blog-lake"


@pytest.fixture(scope="module")
def glue():
    from moto.server import ThreadedMotoServer
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    client = boto3.client("glue", region_name="us-east-1", endpoint_url="http://%s:%d" % (host, port),
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    client.create_database(DatabaseInput={"Name": DB})
    yield client
    server.stop()


@pytest.fixture(scope="module")
def rt(glue, warehouse):
    c = template_contract()["postgresql"]
    arguments = dict(c["arguments"], **{"--JOB_NAME": c["jobName"], "--JOB_RUN_ID": "jr_adopt"})
    return local_runtime.LocalRuntime(arguments, warehouse, c["connection"], {"username": "u", "password": "p"}, catalog=glue)


# The blueprint's table: the source column "unit price" written as
# unit_price (the Spark Parquet writer rejects the space).
# The source's schema as the import reads it: unit price is a
# DECIMAL(10,2) there, a double in the blueprint's Parquet.
def source_schema(price="DECIMAL(10,2)"):
    from pyspark.sql.types import _parse_datatype_string
    return _parse_datatype_string("id INT, name STRING, `unit price` %s" % price)


ROWS = [(1, "pen", 1.5), (2, "ink", 7.25), (3, None, None)]


def blueprint_table(rt, glue, name, marked=True):
    """Parquet files written by Spark at s3://blog-lake/kthr01/<name>/ and
    the crawler's catalog entry, marked by `lakeforge adopt --apply`."""
    location = "s3://%s/%s/%s/" % (BUCKET, DB, name)
    df = rt.spark.createDataFrame(ROWS, "id INT, name STRING, unit_price DOUBLE")
    df.repartition(2).write.mode("overwrite").parquet(rt.storage_uri(location))
    params = {"classification": "parquet", "compressionType": "none", "typeOfData": "file"}
    if marked:
        params[import_job.CONVERT_PARAM] = import_job.CONVERT_REQUESTED
    glue.create_table(DatabaseName=DB, TableInput={
        "Name": name, "TableType": "EXTERNAL_TABLE", "Parameters": params,
        "StorageDescriptor": {
            "Location": location,
            "Columns": [{"Name": "id", "Type": "int"}, {"Name": "name", "Type": "string"}, {"Name": "unit_price", "Type": "double"}],
            "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
            "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
            "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"}}})
    return location


def files_of(rt, location):
    """{relative path: sha256} of every file under a location."""
    root = rt.storage_uri(location)[len("file://"):]
    out = {}
    for d, _, names in os.walk(root):
        for n in names:
            p = os.path.join(d, n)
            with open(p, "rb") as f:
                out[os.path.relpath(p, root)] = hashlib.sha256(f.read()).hexdigest()
    return out


def entry(rt, name):
    prefix = rt.args["table_prefix"]
    assert name.startswith(prefix)
    return {"name": name[len(prefix):], "tableSql": "unused"}


def test_column_mapping_follows_the_parquet_writers_rejected_characters():
    assert import_job.column_mapping(["id", "unit_price", "a_b_"], ["id", "unit price", "a(b)"]) == {"unit_price": "unit price", "a_b_": "a(b)"}
    assert import_job.column_mapping(["Id", "name"], ["id", "name"]) == {}
    with pytest.raises(import_job.ImportError_, match="stands for several source columns"):
        import_job.column_mapping(["a_b"], ["a b", "a,b"])


def test_a_marked_parquet_table_becomes_iceberg_in_place_with_every_row(rt, glue):
    name = rt.args["table_prefix"] + "adopted"
    location = blueprint_table(rt, glue, name)
    parquet_files = files_of(rt, location)
    e = entry(rt, name)
    [(found, table)] = import_job.tables_to_adopt(rt.catalog, [e], rt.args)
    done = import_job.convert_table(rt.spark, rt, rt.catalog, found, table, source_schema(), rt.args)
    assert done["rows"] == len(ROWS) and done["columns"] == {"unit_price": "unit price"}

    # The same Glue table, now Iceberg, its definition before kept as a version.
    t = glue.get_table(DatabaseName=DB, Name=name)["Table"]
    assert t["Parameters"]["table_type"] == "ICEBERG" and t["Parameters"][import_job.CONVERTED_FROM_PARAM] == "parquet"
    lake = rt.args["lake_path"]
    assert t["Parameters"]["metadata_location"].startswith(lake + DB + "/" + name + "/metadata/"), t["Parameters"]
    assert t["StorageDescriptor"]["Location"] == lake + DB + "/" + name
    assert [c["Name"] for c in t["StorageDescriptor"]["Columns"]] == ["id", "name", "unit price"]
    versions = glue.get_table_versions(DatabaseName=DB, TableName=name)["TableVersions"]
    first = min(versions, key=lambda v: int(v["VersionId"]))["Table"]
    assert first["Parameters"]["classification"] == "parquet" and first["StorageDescriptor"]["Location"] == location

    # Every row, under the source's column names, where lakeforge's import reads and writes.
    ident = "glue_catalog.%s.%s" % (DB, name)
    got = sorted((r[0], r[1], None if r[2] is None else float(r[2])) for r in rt.spark.table(ident).select("id", "name", "`unit price`").collect())
    assert got == sorted(ROWS)
    assert rt.spark.table(ident).schema["unit price"].dataType.simpleString() == "decimal(10,2)"
    # The Parquet files are untouched; the second look finds nothing to convert.
    assert files_of(rt, location) == parquet_files
    assert import_job.tables_to_adopt(rt.catalog, [e], rt.args) == []


def test_a_failed_conversion_leaves_the_parquet_table_as_it_was(rt, glue):
    name = rt.args["table_prefix"] + "broken"
    location = blueprint_table(rt, glue, name)
    # A file that is not Parquet among the blueprint's: the copy cannot read it.
    with open(os.path.join(rt.storage_uri(location)[len("file://"):], "part-99999.parquet"), "wb") as f:
        f.write(b"not parquet")
    parquet_files = files_of(rt, location)
    before = glue.get_table(DatabaseName=DB, Name=name)["Table"]
    [(found, table)] = import_job.tables_to_adopt(rt.catalog, [entry(rt, name)], rt.args)
    with pytest.raises(Exception):
        import_job.convert_table(rt.spark, rt, rt.catalog, found, table, source_schema(), rt.args)
    after = glue.get_table(DatabaseName=DB, Name=name)["Table"]
    assert after["Parameters"] == before["Parameters"] and after["StorageDescriptor"] == before["StorageDescriptor"]
    assert len(glue.get_table_versions(DatabaseName=DB, TableName=name)["TableVersions"]) == 1
    assert files_of(rt, location) == parquet_files
    assert not rt.spark.catalog.tableExists("glue_catalog.%s.%s" % (DB, name))
    # The Parquet table still answers queries.
    assert rt.spark.read.parquet(rt.storage_uri(location) + "part-0*").count() == len(ROWS)


def test_an_unmarked_parquet_table_stops_the_import_before_any_change(rt, glue):
    name = rt.args["table_prefix"] + "unmarked"
    blueprint_table(rt, glue, name, marked=False)
    with pytest.raises(import_job.ImportError_, match=r"lakeforge adopt --apply"):
        import_job.tables_to_adopt(rt.catalog, [entry(rt, name)], rt.args)
    t = glue.get_table(DatabaseName=DB, Name=name)["Table"]
    assert import_job.table_format(t) == "parquet"


def test_a_value_that_does_not_fit_the_source_type_fails_the_conversion(rt, glue):
    name = rt.args["table_prefix"] + "narrow"
    location = blueprint_table(rt, glue, name)
    before = glue.get_table(DatabaseName=DB, Name=name)["Table"]
    [(found, table)] = import_job.tables_to_adopt(rt.catalog, [entry(rt, name)], rt.args)
    # 7.25 does not fit DECIMAL(2,1) (a NULL after Spark's cast): no data is lost quietly.
    with pytest.raises(import_job.ImportError_, match=r"unit price \(double -> decimal\(2,1\): 1 values do not fit\)"):
        import_job.convert_table(rt.spark, rt, rt.catalog, found, table, source_schema("DECIMAL(2,1)"), rt.args)
    assert glue.get_table(DatabaseName=DB, Name=name)["Table"]["Parameters"] == before["Parameters"]
    assert not rt.spark.catalog.tableExists("glue_catalog.%s.%s" % (DB, name))
