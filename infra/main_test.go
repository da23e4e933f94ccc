package main

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/lakeforge/lakeforge/internal/testtier"
	"github.com/lakeforge/lakeforge/pkg/config"
)

func TestMain(m *testing.M) {
	code := m.Run()
	jsii.Close()
	os.Exit(code)
}

// A bad value in the context stops the app before any construct is made,
// with the field's path in the message.
func TestBadConfigurationStopsSynthBeforeAnyConstruct(t *testing.T) {
	ctx := map[string]any{
		config.ContextKey: map[string]any{
			"database": map[string]any{"name": "Not-Valid"},
			"source":   map[string]any{"engine": "oracle"},
		},
	}
	app := awscdk.NewApp(&awscdk.AppProps{Context: &ctx})
	err := build(app, t.TempDir())
	var probs *config.Problems
	if !errors.As(err, &probs) {
		t.Fatalf("want configuration problems, got %v", err)
	}
	for _, path := range []string{"lakeforge.database.name", "lakeforge.source.engine", "lakeforge.source.secretArn", "lakeforge.network.subnetId"} {
		if !strings.Contains(err.Error(), path) {
			t.Errorf("message lacks %s:\n%v", path, err)
		}
	}
	if n := len(*app.Node().Children()); n != 0 {
		t.Fatalf("app has %d children after a configuration error; want none", n)
	}
}

// shippedLakeforge is the "lakeforge" object of the repository's cdk.json.
func shippedLakeforge(t *testing.T) map[string]any {
	t.Helper()
	ctx, err := config.CDKJSONContext(filepath.Join("..", "cdk.json"))
	if err != nil {
		t.Fatal(err)
	}
	var lakeforge map[string]any
	if err := json.Unmarshal(ctx[config.ContextKey], &lakeforge); err != nil {
		t.Fatal(err)
	}
	return lakeforge
}

// withRealValues replaces the example values as a user would.
func withRealValues(lf map[string]any) map[string]any {
	net := lf["network"].(map[string]any)
	net["vpcId"] = "vpc-0a1b2c3d4e5f67890"
	net["subnetId"] = "subnet-0a1b2c3d4e5f67890"
	net["securityGroupIds"] = []any{"sg-0a1b2c3d4e5f67890"}
	src := lf["source"].(map[string]any)
	src["secretArn"] = "arn:aws:secretsmanager:ap-northeast-1:210987654321:secret:prod/kthr01-Xy12Zq"
	src["host"] = "kthr01.cluster-c9akciq32.ap-northeast-1.rds.amazonaws.com"
	return lf
}

// buildFails runs build with ctx and returns its configuration problems,
// failing the test if anything was added to the app.
func buildFails(t *testing.T, ctx map[string]any) *config.Problems {
	t.Helper()
	app := awscdk.NewApp(&awscdk.AppProps{Context: &ctx})
	err := build(app, t.TempDir())
	var probs *config.Problems
	if !errors.As(err, &probs) {
		t.Fatalf("want configuration problems, got %v", err)
	}
	if n := len(*app.Node().Children()); n != 0 {
		t.Fatalf("app has %d children after a configuration error; want none", n)
	}
	return probs
}

// Under `make deploy` (lakeforge:deploy=true) the shipped example values
// are refused, one line per value, before any construct is made.
func TestDeployRefusesTheExampleValues(t *testing.T) {
	t.Setenv("CDK_DEFAULT_REGION", "ap-northeast-1")
	probs := buildFails(t, map[string]any{config.ContextKey: shippedLakeforge(t), DeployContextKey: "true"})
	want := "lakeforge.network.vpcId lakeforge.network.subnetId lakeforge.network.securityGroupIds[0] lakeforge.source.secretArn lakeforge.source.host"
	if got := strings.Join(probs.Paths(), " "); got != want {
		t.Fatalf("paths = %s\nwant    %s", got, want)
	}
}

// Under `make deploy` the region the CLI deploys to must be the zone's and
// the secret's.
func TestDeployRefusesARegionMismatch(t *testing.T) {
	t.Setenv("CDK_DEFAULT_REGION", "us-east-1")
	probs := buildFails(t, map[string]any{config.ContextKey: withRealValues(shippedLakeforge(t)), DeployContextKey: "true"})
	if got := strings.Join(probs.Paths(), " "); got != "lakeforge.network.availabilityZone lakeforge.source.secretArn" {
		t.Fatalf("paths = %s", got)
	}
	if !strings.Contains(probs.Error(), "us-east-1") {
		t.Fatalf("message does not name the deploy region: %v", probs)
	}
	t.Setenv("CDK_DEFAULT_REGION", "")
	probs = buildFails(t, map[string]any{config.ContextKey: withRealValues(shippedLakeforge(t)), DeployContextKey: "true"})
	if got := strings.Join(probs.Paths(), " "); got != "CDK_DEFAULT_REGION" {
		t.Fatalf("paths = %s", got)
	}
}

// When the CDK CLI knows the account (CDK_DEFAULT_ACCOUNT), a configured
// administrator of another account stops synth, naming the entry.
func TestSynthRefusesAnAdministratorOfAnotherAccount(t *testing.T) {
	lf := shippedLakeforge(t)
	lf["personas"].(map[string]any)["admins"] = map[string]any{"createRole": true, "groupName": "dl_admins",
		"principalArns": []any{"arn:aws:iam::111122223333:role/partner-admin"}}
	t.Setenv("CDK_DEFAULT_ACCOUNT", "210987654321")
	probs := buildFails(t, map[string]any{config.ContextKey: lf})
	if got := strings.Join(probs.Paths(), " "); got != "lakeforge.personas.admins.principalArns[0]" || !strings.Contains(probs.Error(), "210987654321") {
		t.Fatalf("problems %v", probs)
	}
	// Without a known account (CDK_DEFAULT_ACCOUNT empty) nothing is
	// refused: pkg/config's TestAdministratorsOfAnotherAccountAreRefused.
}

// `make deploy CONFIG=file` is validated like cdk.json, duplicate keys
// included, and the message names the file.
func TestConfigFileIsValidatedLikeCDKJSON(t *testing.T) {
	file := filepath.Join(t.TempDir(), "lakeforge.json")
	raw, _ := json.Marshal(shippedLakeforge(t))
	bad := strings.Replace(string(raw), `"port":5432`, `"port":5432,"Port":3306`, 1)
	if err := os.WriteFile(file, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	app := awscdk.NewApp(&awscdk.AppProps{Context: &map[string]any{ConfigFileContextKey: file}})
	err := build(app, t.TempDir())
	if err == nil || !strings.Contains(err.Error(), file) || !strings.Contains(err.Error(), "lakeforge.source.Port") {
		t.Fatalf("want a problem at lakeforge.source.Port naming %s, got %v", file, err)
	}
	if n := len(*app.Node().Children()); n != 0 {
		t.Fatalf("app has %d children after a configuration error; want none", n)
	}
}

// The CDK CLI parses cdk.json itself and keeps the last of two duplicate
// keys; the app reads the file again to report them.
func TestDuplicateKeysInCDKJSONAreReported(t *testing.T) {
	lf, _ := json.Marshal(shippedLakeforge(t))
	text := strings.Replace(string(lf), `"port":5432`, `"port":3306,"port":5432`, 1)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "cdk.json"), []byte(`{"app":"go run ./infra","context":{"lakeforge":`+text+`}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	// What the CLI hands over: the object with the last value kept.
	var parsed map[string]any
	if err := json.Unmarshal([]byte(text), &parsed); err != nil {
		t.Fatal(err)
	}
	probs := buildFails(t, map[string]any{config.ContextKey: parsed})
	if got := strings.Join(probs.Paths(), " "); got != "lakeforge.source.port" {
		t.Fatalf("paths = %s (%v)", got, probs)
	}
}

// make deploy passes the deploy flag and the CONFIG file; make synth and
// make destroy do not refuse the example.
func TestMakefilePassesTheDeployFlagAndConfig(t *testing.T) {
	dry := func(target string, args ...string) string {
		cmd := exec.Command("make", append([]string{"-n", "-C", "..", target}, args...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("make -n %s: %v\n%s", target, err, out)
		}
		return string(out)
	}
	abs, _ := filepath.Abs(filepath.Join("..", "conf", "prod.json"))
	deploy := dry("deploy", "CONFIG=conf/prod.json")
	for _, want := range []string{"cdk --no-notices deploy", "-c " + DeployContextKey + "=true", "-c " + ConfigFileContextKey + "=" + abs} {
		if !strings.Contains(deploy, want) {
			t.Errorf("make deploy runs no %q:\n%s", want, deploy)
		}
	}
	// Issue 17 item 1: the account checks (existing persona groups, a
	// blueprint schedule still on) run on the same configuration first.
	check := "lakeforge preflight --deploy --config " + abs
	if i, j := strings.Index(deploy, check), strings.Index(deploy, "cdk --no-notices deploy"); i < 0 || i > j {
		t.Errorf("make deploy does not run %q before cdk deploy:\n%s", check, deploy)
	}
	for _, target := range []string{"synth", "destroy"} {
		out := dry(target, "CONFIG=conf/prod.json")
		if strings.Contains(out, DeployContextKey) || !strings.Contains(out, ConfigFileContextKey+"="+abs) {
			t.Errorf("make %s: want the CONFIG file and no deploy flag:\n%s", target, out)
		}
	}
	if out := dry("deploy"); strings.Contains(out, ConfigFileContextKey) {
		t.Errorf("make deploy without CONFIG passes a config file:\n%s", out)
	}
}

// Every rule of the Makefile that a developer may call is in `make help`
// (the help lists the rules with a "## " comment).
func TestMakeHelpListsEveryTarget(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("make", "-s", "-C", "..", "help").CombinedOutput()
	if err != nil {
		t.Fatalf("make help: %v\n%s", err, out)
	}
	listed := map[string]bool{}
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			listed[f[0]] = true
		}
	}
	rules := 0
	for _, line := range strings.Split(string(raw), "\n") {
		name, _, ok := strings.Cut(line, ":")
		// Rules start in column 0 with a plain name; variables (:=), file
		// targets ($(VENV)/...) and special targets (.PHONY) are no targets
		// to call.
		if !ok || name == "" || strings.ContainsAny(name, " \t$./=") || strings.HasPrefix(line[len(name):], ":=") {
			continue
		}
		rules++
		if !listed[name] {
			t.Errorf("make help does not list %s", name)
		}
	}
	if rules < 15 {
		t.Fatalf("found %d rules in the Makefile; the parser is broken", rules)
	}
}

// make build-<function> builds that one function; make build builds each.
func TestBuildPatternRule(t *testing.T) {
	dry := func(target string) string {
		out, err := exec.Command("make", "-n", "-C", "..", target).CombinedOutput()
		if err != nil {
			t.Fatalf("make -n %s: %v\n%s", target, err, out)
		}
		return string(out)
	}
	one := dry("build-tag-output")
	if !strings.Contains(one, "-o dist/tag-output/bootstrap ./functions/tag-output") || strings.Count(one, "go build") != 1 {
		t.Errorf("make build-tag-output does not build exactly functions/tag-output:\n%s", one)
	}
	dirs, err := os.ReadDir(filepath.Join("..", "functions"))
	if err != nil {
		t.Fatal(err)
	}
	// make build: one go build for linux/arm64 over ./functions/... (each
	// shared package compiled once), then every function's binary moved to
	// dist/<name>/bootstrap.
	all := dry("build")
	if strings.Count(all, "go build") != 1 || !strings.Contains(all, "GOARCH=arm64 CGO_ENABLED=0") || !strings.Contains(all, " ./functions/...\n") {
		t.Errorf("make build is not one static linux/arm64 go build of ./functions/...:\n%s", all)
	}
	m := regexp.MustCompile(`for f in ([^;]*);`).FindStringSubmatch(all)
	if m == nil || !strings.Contains(all, "dist/$f/bootstrap") {
		t.Fatalf("make build does not move each binary to dist/<name>/bootstrap:\n%s", all)
	}
	moved := strings.Fields(m[1])
	for _, d := range dirs {
		if d.IsDir() && !slices.Contains(moved, d.Name()) {
			t.Errorf("make build does not install functions/%s (it installs %v)", d.Name(), moved)
		}
	}
	if out, err := exec.Command("make", "-s", "-C", "..", "build-no-such-function").CombinedOutput(); err == nil || !strings.Contains(string(out), "no functions/no-such-function") {
		t.Errorf("make build-no-such-function did not fail naming the missing folder (err %v):\n%s", err, out)
	}
}

// make test-go fails when a test skips, so `make test` never hides one; it
// passes when every test runs. Both on a throwaway module.
func TestTestGoFailsOnASkippedTest(t *testing.T) {
	makefile, err := filepath.Abs(filepath.Join("..", "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	run := func(body string) (string, error) {
		dir := t.TempDir()
		for name, text := range map[string]string{
			"go.mod":    "module example.com/skipcheck\n\ngo 1.22\n",
			"x_test.go": "package x\n\nimport \"testing\"\n\nfunc TestX(t *testing.T) {\n" + body + "\n}\n",
			"x.go":      "package x\n",
		} {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		cmd := exec.Command("make", "-s", "-f", makefile, "-C", dir, "test-go")
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := run(`t.Skip("not here")`); err == nil || !strings.Contains(out, "--- SKIP: TestX") {
		t.Errorf("make test-go passed with a skipped test (err %v):\n%s", err, out)
	}
	if out, err := run(`if 1+1 != 2 { t.Fatal("arithmetic") }`); err != nil {
		t.Errorf("make test-go failed on a module whose test passes: %v\n%s", err, out)
	}
}

// make node_modules runs `npm ci` only when package.json, the lock file or
// Node changed since the last install (npm's own node_modules/.package-lock.json
// is the stamp), so demo, synth, deploy, lint and bench do not reinstall
// every time. Checked with `make -n` on a copy of the Makefile.
func TestNodeModulesInstallOnlyWhenTheLockFilesChange(t *testing.T) {
	makefile, err := os.ReadFile(filepath.Join("..", "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	old := time.Now().Add(-time.Hour)
	for i, name := range []string{"package.json", "package-lock.json", "scripts/node22/package.json", "scripts/node22/package-lock.json",
		"scripts/node22/node_modules/node/bin/node", "node_modules/.package-lock.json"} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("{}"), 0o644); err != nil {
			t.Fatal(err)
		}
		// Each later than the one before: the lock files, then Node, then the install.
		at := old.Add(time.Duration(i) * time.Minute)
		if err := os.Chtimes(p, at, at); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "Makefile"), makefile, 0o644); err != nil {
		t.Fatal(err)
	}
	dry := func() string {
		out, err := exec.Command("make", "-n", "-C", dir, "node_modules").CombinedOutput()
		if err != nil {
			t.Fatalf("make -n node_modules: %v\n%s", err, out)
		}
		return string(out)
	}
	if out := dry(); strings.Contains(out, "npm ci") {
		t.Errorf("make node_modules reinstalls although nothing changed since the last install:\n%s", out)
	}
	now := time.Now()
	if err := os.Chtimes(filepath.Join(dir, "package-lock.json"), now, now); err != nil {
		t.Fatal(err)
	}
	if out := dry(); !strings.Contains(out, "npm ci") {
		t.Errorf("make node_modules does not reinstall after package-lock.json changed:\n%s", out)
	}
}

// make jars fetches the import job's jars with Maven in batch mode, without
// transfer progress and without the colour codes Debian's Maven 3.8 writes
// even then: its output is plain text in CI logs.
func TestMakeJarsWritesPlainText(t *testing.T) {
	testtier.External(t, "Maven and its local repository")
	dir := t.TempDir()
	out, err := exec.Command("make", "-C", "..", "jars", "JARS_DIR="+dir).CombinedOutput()
	if err != nil {
		t.Fatalf("make jars: %v\n%s", err, out)
	}
	if strings.Contains(string(out), "\x1b") || strings.Contains(string(out), "\r") || strings.Contains(string(out), "Downloading") {
		t.Errorf("make jars wrote terminal codes or progress:\n%q", out)
	}
	jars, _ := filepath.Glob(filepath.Join(dir, "*.jar"))
	if len(jars) != 3 {
		t.Errorf("make jars fetched %v, want the three jars of IMPORT_JARS", jars)
	}
}
