package demo

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lakeforge/lakeforge/internal/testtier"
	"github.com/lakeforge/lakeforge/pkg/internal/localsfn"
)

// source asks the local PostgreSQL directly (psql), for the figures the
// analyst's queries must find in the lake.
func source(t *testing.T, dsn, sql string) []string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	pass, _ := u.User.Password()
	cmd := exec.Command("psql", fmt.Sprintf("host=%s port=%s user=%s dbname=%s sslmode=require", u.Hostname(), u.Port(), u.User.Username(), strings.TrimPrefix(u.Path, "/")), "-X", "-At", "-c", sql)
	cmd.Env = append(os.Environ(), "PGPASSWORD="+pass)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("psql %s: %v: %s", sql, err, out)
	}
	return strings.Fields(string(out))
}

// The whole demo in-process, as `make demo` runs it: it must end well,
// show every state of a successful run as it happens, the import's tables,
// and the analyst's two queries with what the source holds, then tear
// down what it made.
func TestDemoRunsTheDailyPipelineEndToEnd(t *testing.T) {
	testtier.External(t, "PostgreSQL, moto, Node and Spark")
	dsn, ca := os.Getenv("LAKEFORGE_TEST_POSTGRES_DSN"), os.Getenv("LAKEFORGE_TEST_DB_CA")
	if dsn == "" || ca == "" {
		t.Fatal("LAKEFORGE_TEST_POSTGRES_DSN / LAKEFORGE_TEST_DB_CA are not set: run through `make test` or `scripts/test-databases.sh run go test ./pkg/demo/`")
	}
	// Run points the process's AWS settings at its stand-ins; they are put
	// back afterwards, unset when they were (moto fails on an empty
	// AWS_DEFAULT_REGION, so t.Setenv's empty value would not do).
	for _, k := range []string{"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SFN", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
		"AWS_SESSION_TOKEN", "AWS_EC2_METADATA_DISABLED", "AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"} {
		v, set := os.LookupEnv(k)
		t.Cleanup(func() {
			if set {
				os.Setenv(k, v)
			} else {
				os.Unsetenv(k)
			}
		})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	var out bytes.Buffer
	err := Run(ctx, Options{Out: &out, Root: localsfn.RepoRoot(), PostgresDSN: dsn, CABundle: ca, Python: os.Getenv("LAKEFORGE_PYTHON")})
	text := out.String()
	if err != nil {
		t.Fatalf("the demo failed: %v\n%s", err, text)
	}
	// Each state of a successful run, in the pipeline's order.
	at := 0
	for _, st := range []string{"ConfigureLakeFormation", "EnsureLFTags", "RegisterLocation", "EnsureDatabase", "GrantTagPermissions", "TestConnection", "StartImport", "TagOutput", "VerifyQuery"} {
		i := strings.Index(text[at:], st+" started")
		if i < 0 {
			t.Fatalf("no %q after offset %d:\n%s", st+" started", at, text)
		}
		at += i
		if !strings.Contains(text[at:], st+" done in") {
			t.Fatalf("%s did not end well:\n%s", st, text)
		}
	}
	if !regexp.MustCompile(`run \S+: SUCCEEDED`).MatchString(text) {
		t.Errorf("no SUCCEEDED summary:\n%s", text)
	}
	// The wait ended by the real callback path.
	for _, want := range []string{"Glue Job State Change (state SUCCEEDED", `"result":"success"`, "stand-in lakeformation:ListPermissions"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	// The import's tables, and the analyst's queries against the source.
	if !regexp.MustCompile(`(?m)^\s+products\s+\d+ written`).MatchString(text) {
		t.Errorf("the summary does not list the products table:\n%s", text)
	}
	count := source(t, dsn, "SELECT count(*) FROM kthr01.products")
	latest := source(t, dsn, "SELECT id FROM kthr01.products ORDER BY created_at DESC LIMIT 10")
	q1 := strings.Index(text, "analyst> SELECT COUNT(*)")
	q2 := strings.Index(text, "analyst> SELECT * ")
	if q1 < 0 || q2 < q1 {
		t.Fatalf("the analyst's two queries are not in the output:\n%s", text)
	}
	if !regexp.MustCompile(`\|\s*` + count[0] + `\s*\|`).MatchString(text[q1:q2]) {
		t.Errorf("COUNT(*) does not show the source's %s rows:\n%s", count[0], text[q1:q2])
	}
	var ids []string
	for _, line := range strings.Split(text[q2:], "\n") {
		if m := regexp.MustCompile(`^\| (\d+)\s+\|`).FindStringSubmatch(line); m != nil {
			ids = append(ids, m[1])
		}
	}
	if strings.Join(ids, " ") != strings.Join(latest, " ") {
		t.Errorf("the latest ten products are %v, the source's are %v", ids, latest)
	}
	// What the grants give the analyst (lakeforge access), and who enforces
	// it: without governance the analyst tag gives every column of products.
	acc := strings.Index(text, "$ lakeforge access --principal ")
	if acc < 0 || !strings.Contains(text[acc:], EnforcementNote) {
		t.Fatalf("no lakeforge access for the analyst with the enforcement note:\n%s", text[max(0, acc):])
	}
	if !regexp.MustCompile(`table workflow_kthr01_products: DESCRIBE, SELECT; reads (\d+) of (\d+) columns`).MatchString(text[acc:]) ||
		!strings.Contains(text[acc:], "read    SELECT+DESCRIBE on TABLEs with source=product: source=product (inherited from the database)") {
		t.Errorf("lakeforge access does not show the analyst reading products through source=product:\n%s", text[acc:])
	}
	// Torn down: the demo's files are gone, and it says what stood in.
	if m := regexp.MustCompile(`written to (\S+)/lakeforge\.json`).FindStringSubmatch(text); m == nil {
		t.Errorf("the output does not name the demo's directory")
	} else if _, err := os.Stat(m[1]); !os.IsNotExist(err) {
		t.Errorf("the demo's directory %s is still there (%v)", m[1], err)
	}
	if !strings.Contains(text, "torn down") || !strings.HasSuffix(strings.TrimSpace(text), strings.TrimSpace(StandIns[strings.LastIndex(strings.TrimSpace(StandIns), "\n")+1:])) {
		t.Errorf("the output does not end with what stood in:\n%s", text[max(0, len(text)-2000):])
	}
}
