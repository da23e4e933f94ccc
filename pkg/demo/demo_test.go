package demo

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

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

// The whole demo in-process, as `make demo` runs it, on a pseudo-terminal
// of 120 columns and 40 rows (Main finds the terminal and its width
// itself). It must end well and tell one story: the stand-in list once,
// every state of the run in order, no handler log, SDK line or wrapped
// line on the terminal; and its last screen, what the user sees when it
// ends, must hold the analyst's two queries with what the source database
// holds, the one-line summary and the next steps. The log file it names
// holds the handlers' logs and the stand-ins' answers; the demo's files are
// gone.
func TestDemoRunsTheDailyPipelineEndToEnd(t *testing.T) {
	testtier.External(t, "PostgreSQL, moto, Node and Spark")
	dsn, ca := os.Getenv("LAKEFORGE_TEST_POSTGRES_DSN"), os.Getenv("LAKEFORGE_TEST_DB_CA")
	if dsn == "" || ca == "" {
		t.Fatal("LAKEFORGE_TEST_POSTGRES_DSN / LAKEFORGE_TEST_DB_CA are not set: run through `make test` or `scripts/test-databases.sh run go test ./pkg/demo/`")
	}
	// Run points the process's AWS settings at its stand-ins; they are put
	// back afterwards.
	restoreAWSEnv(t)
	const rows, cols = 40, 120
	master, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer master.Close()
	if err := pty.Setsize(tty, &pty.Winsize{Rows: rows, Cols: cols}); err != nil {
		t.Fatal(err)
	}
	term := newVT(t, cols)
	copied := make(chan struct{})
	go func() { _, _ = io.Copy(term, master); close(copied) }()
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	logPath := filepath.Join(t.TempDir(), "demo.log")
	var errOut bytes.Buffer
	code := Main(ctx, nil, tty, &errOut, Options{Root: localsfn.RepoRoot(), LogPath: logPath, PostgresDSN: dsn, CABundle: ca, Python: os.Getenv("LAKEFORGE_PYTHON")})
	tty.Close()
	select {
	case <-copied:
	case <-time.After(5 * time.Second): // the master's reader ends with EIO once the tty is closed
	}
	all := term.scrollback()
	if code != 0 {
		t.Fatalf("the demo exited %d: %s\n%s", code, errOut.String(), all)
	}
	logged, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatalf("the demo's log file: %v", err)
	}

	// One story: the stand-ins once, each state of a successful run in the
	// pipeline's order, and none of the log on the terminal.
	if n := strings.Count(all, "stand-in  moto answers"); n != 1 {
		t.Errorf("the stand-in list is shown %d times, want once at the start:\n%s", n, all)
	}
	at := 0
	for _, st := range []string{"ConfigureLakeFormation", "EnsureLFTags", "RegisterLocation", "EnsureDatabase", "GrantTagPermissions", "TestConnection", "StartImport", "TagOutput", "VerifyQuery"} {
		m := regexp.MustCompile(`(?m)^✔ ` + st + ` +[0-9.hmsµ]+$`).FindStringIndex(all[at:])
		if m == nil {
			t.Fatalf("no ✔ line for %s after offset %d:\n%s", st, at, all)
		}
		at += m[1]
	}
	for _, never := range []string{`"level":`, "SDK 20", "DEBUG", "0.000 DPU-hours"} {
		if strings.Contains(all, never) {
			t.Errorf("the terminal shows %q:\n%s", never, all)
		}
	}
	// "0/0 workflow actions" as a figure, not the digits of a temporary
	// path such as /tmp/TestDemo…910/001/demo.log.
	if m := regexp.MustCompile(`(?m)(^|\s)0/0(\s|$)`).FindString(all); m != "" {
		t.Errorf("the terminal shows the figure 0/0:\n%s", all)
	}
	if term.wraps != 0 {
		t.Errorf("%d lines were wider than the %d-column terminal:\n%s", term.wraps, cols, all)
	}
	if !regexp.MustCompile(`(?m)^\s+products\s+\d+ written`).MatchString(all) {
		t.Errorf("the run's summary does not list the products table:\n%s", all)
	}
	// The import's cost from the job's capacity in the template (2 G.1X
	// workers, at least Glue's minute), not 0 DPU-hours.
	if !regexp.MustCompile(`Glue import job, 0\.0\d\d DPU-hours \(2 × G\.1X`).MatchString(all) {
		t.Errorf("the cost lines do not price the import job's 2 G.1X workers:\n%s", all)
	}

	// The last screen is the payoff.
	screen := strings.Join(term.screen(rows), "\n")
	t.Logf("the last screen of a %dx%d terminal:\n%s", cols, rows, screen)
	count := source(t, dsn, "SELECT count(*) FROM kthr01.products")
	latest := source(t, dsn, "SELECT id FROM kthr01.products ORDER BY created_at DESC LIMIT 10")
	q1 := strings.Index(screen, "analyst> SELECT COUNT(*)")
	q2 := strings.Index(screen, "analyst> SELECT * ")
	if q1 < 0 || q2 < q1 {
		t.Fatalf("the last screen lacks the analyst's two queries:\n%s", screen)
	}
	if !regexp.MustCompile(`\|\s*` + count[0] + `\s*\|`).MatchString(screen[q1:q2]) {
		t.Errorf("COUNT(*) does not show the source's %s rows:\n%s", count[0], screen[q1:q2])
	}
	var ids []string
	for _, line := range strings.Split(screen[q2:], "\n") {
		if m := regexp.MustCompile(`^\| (\d+)\s+\|`).FindStringSubmatch(line); m != nil {
			ids = append(ids, m[1])
		}
	}
	if strings.Join(ids, " ") != strings.Join(latest, " ") {
		t.Errorf("the latest ten products are %v, the source's are %v:\n%s", ids, latest, screen)
	}
	summary := regexp.MustCompile(`✔ The daily run SUCCEEDED in \S+: (\d+) tables, [\d,]+ rows imported; verified as the analyst: counts match in (\d+) of (\d+)\.`).FindStringSubmatch(screen)
	if summary == nil || summary[2] != summary[3] || summary[1] != summary[3] {
		t.Errorf("the last screen lacks the one-line summary of a verified run:\n%s", screen)
	}
	for _, want := range []string{"Next steps:", "cdk.json", "make preflight", "make deploy", "--stand-ins", logPath} {
		if !strings.Contains(screen, want) {
			t.Errorf("the last screen lacks %q:\n%s", want, screen)
		}
	}

	// What the grants give the analyst (lakeforge access), and who enforces
	// it: without governance the analyst tag gives every column of products.
	acc := strings.Index(all, "$ lakeforge access --principal ")
	if acc < 0 || !strings.Contains(all[acc:], EnforcementNote) {
		t.Fatalf("no lakeforge access for the analyst with the enforcement note:\n%s", all[max(0, acc):])
	}
	if !regexp.MustCompile(`table workflow_kthr01_products: DESCRIBE, SELECT; reads (\d+) of (\d+) columns`).MatchString(all[acc:]) ||
		!strings.Contains(all[acc:], "read    SELECT+DESCRIBE on TABLEs with source=product: source=product (inherited from the database)") {
		t.Errorf("lakeforge access does not show the analyst reading products through source=product:\n%s", all[acc:])
	}

	// The log holds what the terminal does not: the callback path, the
	// stand-ins' answers and the handlers' JSON records.
	for _, want := range []string{"Glue Job State Change (state SUCCEEDED", `"result":"success"`, "stand-in lakeformation:ListPermissions", `"step":"verify-query"`} {
		if !strings.Contains(string(logged), want) {
			t.Errorf("the log lacks %q", want)
		}
	}
	// Torn down: the demo's files are gone.
	if m := regexp.MustCompile(`the demo's files are in (\S+)`).FindStringSubmatch(string(logged)); m == nil {
		t.Errorf("the log does not name the demo's directory")
	} else if _, err := os.Stat(m[1]); !os.IsNotExist(err) {
		t.Errorf("the demo's directory %s is still there (%v)", m[1], err)
	}
}

// --stand-ins prints the list alone, on request, and starts nothing.
func TestStandInsOnRequest(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	var errOut bytes.Buffer
	if code := Main(context.Background(), []string{"--stand-ins"}, f, &errOut, Options{}); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	got, _ := os.ReadFile(f.Name())
	if string(got) != StandIns {
		t.Errorf("--stand-ins printed:\n%s", got)
	}
	for _, line := range strings.Split(StandIns, "\n") {
		if len([]rune(line)) > 119 {
			t.Errorf("a stand-in line is wider than a 120-column terminal: %q", line)
		}
	}
}
