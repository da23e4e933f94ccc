package stack

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	gluescript "github.com/lakeforge/lakeforge/infra/glue"
	"github.com/lakeforge/lakeforge/internal/cfntemplate"
	"github.com/lakeforge/lakeforge/pkg/config"
)

// The import job's real tier (infra/glue, pytest) runs the job with the
// arguments and connection of the synthesized template. This test
// synthesizes the stack for each test database server (the addresses
// scripts/test-databases.sh exports), resolves the template's intrinsics
// with fixed stand-ins (the lake bucket, account and region, which only a
// deployment knows), and writes them to $LAKEFORGE_IMPORT_CONTRACT.

// contractBucket stands in for the lake bucket's generated name.
const contractBucket = "lakeforge-contract-lake"

// resolve renders a template value with the contract's stand-ins: every
// bucket is contractBucket.
func resolve(t *testing.T, s synthesized, v any) string {
	t.Helper()
	tpl := cfntemplate.New(s.JSON, contractAccount, contractRegion)
	for _, id := range tpl.ByType("AWS::S3::Bucket") {
		tpl.Names[id] = contractBucket
	}
	out, err := tpl.Resolve(v)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// contractConfig is the shipped configuration with the source pointed at a
// test server, as an operator would configure that database.
func contractConfig(t *testing.T, engine string) config.Config {
	cfg := shippedConfig(t)
	cfg.Source.Engine = engine
	cfg.Source.Host = "127.0.0.1"
	cfg.Source.RequireTLS = true
	if engine == config.EngineMariaDB {
		// MariaDB has no schemas: the database is what the blog calls kthr01.
		cfg.Source.Port, cfg.Source.DatabaseName = 3306, "lakeforge_test_kthr01"
		if p, err := strconv.Atoi(os.Getenv("LAKEFORGE_TEST_MYSQL_PORT")); err == nil {
			cfg.Source.Port = p
		}
		cfg.Source.IncludePaths = []string{cfg.Source.DatabaseName + "/%"}
	} else {
		cfg.Source.Port, cfg.Source.DatabaseName = 5432, "lakeforge_test"
		if dsn := os.Getenv("LAKEFORGE_TEST_POSTGRES_DSN"); dsn != "" {
			// The server and database of the DSN: `make test-python` points it
			// at the import job's tier's own database (scripts/test-databases.sh).
			u, err := url.Parse(dsn)
			if err != nil {
				t.Fatalf("LAKEFORGE_TEST_POSTGRES_DSN %q: %v", dsn, err)
			}
			port, err := strconv.Atoi(u.Port())
			if err != nil || strings.Trim(u.Path, "/") == "" {
				t.Fatalf("LAKEFORGE_TEST_POSTGRES_DSN %q lacks a port or a database, want postgres://user:password@127.0.0.1:PORT/DATABASE", dsn)
			}
			cfg.Source.Port, cfg.Source.DatabaseName = port, strings.Trim(u.Path, "/")
		}
		cfg.Source.IncludePaths = []string{cfg.Source.DatabaseName + "/kthr01/%"}
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("contract config for %s: %v", engine, err)
	}
	return cfg
}

func TestImportJobContract(t *testing.T) {
	contract := map[string]any{}
	for _, engine := range []string{config.EnginePostgreSQL, config.EngineMariaDB} {
		cfg := contractConfig(t, engine)
		s := synth(t, cfg)
		names := cfg.Names()
		_, job := s.find(t, "AWS::Glue::Job", named(names.ImportJob))
		args := map[string]string{}
		for k, v := range job["DefaultArguments"].(map[string]any) {
			args[k] = resolve(t, s, v)
		}
		// The job's own checks of its arguments are in infra/glue; here, that
		// the template passes what the configuration says.
		want := map[string]string{
			"--engine": engine, "--source_dbname": cfg.Source.DatabaseName, "--require_tls": "true",
			"--connection_name": names.Connection, "--lake_database": cfg.Database.Name,
			"--lake_path": "s3://" + contractBucket + "/" + cfg.Lake.Prefix, "--datalake-formats": "iceberg",
			"--mode": cfg.Import.Mode, "--tables": "{}", "--merge_overlap_minutes": strconv.Itoa(config.DefaultMergeOverlapMinutes),
			"--orphan_file_age_hours": strconv.Itoa(config.DefaultOrphanFileAgeHours),
		}
		for k, v := range want {
			if args[k] != v {
				t.Errorf("%s: job argument %s = %q, want %q", engine, k, args[k], v)
			}
		}
		if !strings.HasPrefix(args["--extra-py-files"], "s3://") || !strings.HasSuffix(args["--extra-py-files"], ".zip") {
			t.Errorf("%s: --extra-py-files = %q, want the zip of the job's modules (infra/glue/importjob_*.py)", engine, args["--extra-py-files"])
		}
		for _, c := range []string{"glue_catalog.catalog-impl=org.apache.iceberg.aws.glue.GlueCatalog", "glue_catalog.glue.lakeformation-enabled=true",
			"fs.s3.credentialsResolverClass=com.amazonaws.glue.accesscontrol.AWSLakeFormationCredentialResolver"} {
			if !strings.Contains(args["--conf"], c) {
				t.Errorf("%s: --conf lacks %s (Iceberg on the Glue Data Catalog with Lake Formation full table access)", engine, c)
			}
		}
		_, conn := s.find(t, "AWS::Glue::Connection", func(r map[string]any) bool {
			return dig(r, "ConnectionInput", "Name") == names.Connection
		})
		props := map[string]string{}
		for k, v := range dig(conn, "ConnectionInput", "ConnectionProperties").(map[string]any) {
			props[k] = resolve(t, s, v)
		}
		contract[engine] = map[string]any{
			"jobName":    names.ImportJob,
			"arguments":  args,
			"connection": map[string]any{"name": names.Connection, "ConnectionProperties": props},
		}
	}
	out := os.Getenv("LAKEFORGE_IMPORT_CONTRACT")
	if out == "" {
		return
	}
	raw, err := json.MarshalIndent(contract, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out, raw, 0o644); err != nil {
		t.Fatal(fmt.Errorf("writing the import contract: %w", err))
	}
}

// glueJobParameters are the special parameters of "Using job parameters
// in AWS Glue jobs" that the import job may set for Glue 5.0. Continuous
// logging (--enable-continuous-cloudwatch-log) is not among them: "In AWS
// Glue 4.0 and earlier versions, continuous logging was an available
// feature. However, with the introduction of AWS Glue 5.0, all jobs have
// real-time logging capability" (Enabling continuous logging for AWS Glue
// 4.0 and earlier jobs).
// --extra-py-files puts the job's importjob_*.py modules on its Python path
// (Glue's "Using job parameters in AWS Glue jobs": "The Amazon S3 paths to
// additional Python modules that AWS Glue adds to the Python path").
var glueJobParameters = []string{"--datalake-formats", "--conf", "--job-bookmark-option", "--enable-metrics", "--enable-glue-datacatalog", "--extra-py-files"}

// scriptArgs reads a list literal (REQUIRED_ARGS or OPTIONAL_ARGS) from the
// job script the stack deploys.
func scriptArgs(t *testing.T, list string) []string {
	t.Helper()
	m := regexp.MustCompile(`(?s)\n` + list + ` = \[(.*?)\]`).FindSubmatch(gluescript.ImportJobScript)
	if m == nil {
		t.Fatalf("infra/glue/import_job.py has no %s list", list)
	}
	var out []string
	for _, q := range regexp.MustCompile(`"([^"]+)"`).FindAllSubmatch(m[1], -1) {
		out = append(out, string(q[1]))
	}
	if len(out) == 0 {
		t.Fatalf("%s is empty", list)
	}
	return out
}

// The job's DefaultArguments against the script itself, without the Python
// tier: every argument the script requires is set (but JOB_NAME, which Glue
// passes to every run: "Internal to AWS Glue. Do not set"), and every
// argument set is one the script reads or a Glue job parameter that has an
// effect on Glue 5.0.
func TestJobArgumentsMatchTheScript(t *testing.T) {
	s := synth(t, shippedConfig(t))
	_, job := s.find(t, "AWS::Glue::Job", named(s.Config.Names().ImportJob))
	args := job["DefaultArguments"].(map[string]any)
	required, optional := scriptArgs(t, "REQUIRED_ARGS"), scriptArgs(t, "OPTIONAL_ARGS")
	for _, name := range required {
		if name == "JOB_NAME" {
			continue
		}
		if _, ok := args["--"+name]; !ok {
			t.Errorf("the script requires --%s and the job's DefaultArguments lack it: every run would stop in getResolvedOptions", name)
		}
	}
	for key := range args {
		name := strings.TrimPrefix(key, "--")
		if slices.Contains(required, name) || slices.Contains(optional, name) || slices.Contains(glueJobParameters, key) {
			continue
		}
		t.Errorf("DefaultArguments set %s, which the script does not read and which is no Glue 5.0 job parameter lakeforge uses (%v)", key, glueJobParameters)
	}
}
