"""The stand-in for what only exists inside Glue, for the tests and the
benchmark: import_job.run() runs unchanged on local Spark with it.

What it replaces, and with what:
  getResolvedOptions     get_resolved_options below: the same "--name value"
                         parsing, and a missing argument is an error.
  GlueContext            a local SparkSession (local[2]) with the JDBC drivers
                         and the Iceberg runtime of Glue 5.0 on the classpath
                         (`make jars` puts them in .tmp/jars/).
  --datalake-formats     "iceberg" adds the Iceberg runtime jar.
  --conf                 applied as given, except the Glue Data Catalog, S3
                         and Lake Formation classes, which exist only in Glue:
                         the catalog becomes an Iceberg Hadoop catalog in a
                         local directory (catalog-impl GlueCatalog -> type
                         hadoop, io-impl S3FileIO dropped, Lake Formation
                         settings dropped).
  s3:// URIs             file:// paths under the local warehouse root
                         (storage_uri), the same bucket/key layout.
  extract_jdbc_conf      the connection's JDBC_CONNECTION_URL (from the
                         template) with the user and password its secret
                         would hold.
  EnsureDatabase         the pipeline step before the job: init() creates the
                         lake database (namespace) if missing.
  Job.init/commit        recorded, so a test sees whether the job committed.
  the Glue catalog       for the adopt step (glue:GetTable, glue:UpdateTable):
                         the moto server's, through boto3, when a catalog
                         client is given; none otherwise. catalog_uri maps
                         the local file:// paths back to the s3:// URIs
                         Glue would hold.
  --extra-py-files       the importjob_*.py modules are imported from infra/glue
                         (on sys.path) instead of the zip Glue downloads.
"""

import glob
import os

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
JARS = os.environ.get("LAKEFORGE_JARS", os.path.join(REPO, ".tmp", "jars"))
ICEBERG_JAR = "iceberg-spark-runtime-3.5_2.12-*.jar"

_SPARK = {}


class ArgumentError(Exception):
    pass


def get_resolved_options(argv, names):
    """getResolvedOptions: each name must be present as --name value."""
    out = {}
    for name in names:
        flag = "--" + name
        if flag not in argv:
            raise ArgumentError("the following arguments are required: " + flag)
        i = argv.index(flag)
        if i + 1 >= len(argv):
            raise ArgumentError("argument %s: expected one argument" % flag)
        out[name] = argv[i + 1]
    return out


def argv_of(arguments):
    """A Glue argument map ({"--name": value}) as sys.argv."""
    argv = ["import_job.py"]
    for k, v in arguments.items():
        argv += [k, v]
    return argv


# Settings that name classes only Glue has, or that only Glue acts on.
GLUE_ONLY = (
    ".catalog-impl", ".io-impl", ".glue.", "lakeformation", "spark.hadoop.fs.s3.",
    "skipLocationValidationOnCreateTable", "createDirectoryAfterTable", "dropDirectoryBeforeTable",
)


def spark_confs(conf_arg, warehouse_root):
    """The --conf job argument ("k=v --conf k=v ...") as local settings."""
    confs = {}
    for item in (conf_arg or "").split("--conf"):
        item = item.strip()
        if not item:
            continue
        key, sep, value = item.partition("=")
        if not sep:
            raise ArgumentError("--conf item %r is not key=value" % item)
        confs[key.strip()] = value.strip()
    local = {}
    for key, value in confs.items():
        if key.endswith(".catalog-impl") and value == "org.apache.iceberg.aws.glue.GlueCatalog":
            local[key[: -len(".catalog-impl")] + ".type"] = "hadoop"
            continue
        if any(part in key for part in GLUE_ONLY):
            continue
        if key.endswith(".warehouse"):
            value = storage_uri(value, warehouse_root)
        local[key] = value
    return confs, local


def storage_uri(uri, root):
    if uri.startswith("s3://"):
        return "file://" + os.path.join(root, "s3", uri[len("s3://"):])
    return uri


def jars(formats):
    found = sorted(glob.glob(os.path.join(JARS, "*.jar")))
    if not found:
        raise ArgumentError("no JDBC drivers in %s: run `make jars`" % JARS)
    if "iceberg" not in (formats or "").split(","):
        found = [j for j in found if not glob.fnmatch.fnmatch(os.path.basename(j), ICEBERG_JAR)]
    return found


def spark_session(arguments, warehouse_root):
    """One local SparkSession per process (a JVM start costs ~10 s of CPU).

    Static settings (catalogs, extensions, jars) apply when it starts; later
    calls must ask for the same ones.
    """
    _, local = spark_confs(arguments.get("--conf"), warehouse_root)
    key = tuple(sorted(local.items())) + (arguments.get("--datalake-formats"), warehouse_root)
    if _SPARK.get("key") not in (None, key):
        raise ArgumentError("one local Spark per process: started with other --conf settings")
    if "session" in _SPARK:
        return _SPARK["session"]
    from pyspark.sql import SparkSession
    import sys
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    b = (SparkSession.builder.master("local[2]").appName("lakeforge-import")
         .config("spark.jars", ",".join(jars(arguments.get("--datalake-formats"))))
         .config("spark.sql.shuffle.partitions", "2")
         .config("spark.ui.enabled", "false")
         # No progress bars in test and benchmark output.
         .config("spark.ui.showConsoleProgress", "false")
         .config("spark.driver.memory", "1g")
         .config("spark.sql.session.timeZone", "UTC")
         # Iceberg's vectorized Parquet reader allocates through its shaded
         # Netty, which crashes this Debian Java 17 (SIGSEGV in
         # InternalThreadLocalMap); Glue's runtime is not affected.
         .config("spark.sql.iceberg.vectorization.enabled", "false"))
    scratch = os.environ.get("LAKEFORGE_SPARK_TMP")
    if scratch:
        # Everything the JVM writes for itself (Spark's block manager and
        # work dirs, native libraries it unpacks) under one directory the
        # caller removes: the benchmarks leave nothing behind.
        b = (b.config("spark.local.dir", scratch)
             .config("spark.driver.extraJavaOptions", "-Djava.io.tmpdir=" + scratch))
    for k, v in local.items():
        b = b.config(k, v)
    session = b.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    _SPARK.update(key=key, session=session)
    return session


def use_scratch_dir(tmp):
    """Sends Spark's and Python's temporary files under tmp, for a caller
    that removes tmp at its end; call before the first spark_session()."""
    path = os.path.join(tmp, "spark")
    os.makedirs(path, exist_ok=True)
    os.environ["LAKEFORGE_SPARK_TMP"] = path
    os.environ["TMPDIR"] = path
    import tempfile
    tempfile.tempdir = path


def stop_spark():
    """Stops the process's Spark (its JVM deletes its work dirs)."""
    session = _SPARK.pop("session", None)
    _SPARK.pop("key", None)
    if session is not None:
        session.stop()


class LocalRuntime:
    """GlueRuntime's stand-in (see the module comment)."""

    def __init__(self, arguments, warehouse_root, connection, secret, catalog=None):
        import import_job
        self.arguments = dict(arguments)
        self.root = warehouse_root
        self.args = import_job.resolve_args(argv_of(self.arguments), get_resolved_options)
        self.spark = spark_session(self.arguments, warehouse_root)
        self.connection = connection  # {"name": ..., "ConnectionProperties": {...}}
        self.secret = secret          # {"username": ..., "password": ...}
        self.committed = False
        self.inited = None
        self.catalog = import_job.GlueTables(catalog) if catalog is not None else None

    def init(self, args):
        self.inited = args["JOB_NAME"]
        # In AWS the pipeline's EnsureDatabase step has made the database.
        self.spark.sql("CREATE NAMESPACE IF NOT EXISTS glue_catalog.`%s`" % args["lake_database"])

    def jdbc_conf(self, connection_name):
        if connection_name != self.connection["name"]:
            raise ArgumentError("the job asks for connection %r, the template defines %r"
                                % (connection_name, self.connection["name"]))
        props = self.connection["ConnectionProperties"]
        return {"fullUrl": props["JDBC_CONNECTION_URL"], "user": self.secret["username"],
                "password": self.secret["password"]}

    def storage_uri(self, uri):
        return storage_uri(uri, self.root)

    def catalog_uri(self, uri):
        local = "file://" + os.path.join(self.root, "s3") + "/"
        for prefix in (local, local[len("file://"):], "file:" + local[len("file://"):]):
            if uri.startswith(prefix):
                return "s3://" + uri[len(prefix):]
        return uri

    def commit(self):
        self.committed = True
