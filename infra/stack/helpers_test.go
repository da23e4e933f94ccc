package stack

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/lakeforge/lakeforge/pkg/config"
)

// TestMain closes the jsii runtime (a Node child process) after the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	jsii.Close()
	os.Exit(code)
}

// repoRoot is the module root, where dist/ and cdk.json are.
func repoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// shippedConfig is the configuration in the repository's cdk.json.
func shippedConfig(t testing.TB) config.Config {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot(t), "cdk.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Context map[string]json.RawMessage `json:"context"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse(doc.Context[config.ContextKey])
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// synthesized is one synthesized stack with cdk-nag applied.
type synthesized struct {
	Stack    *Stack
	Template assertions.Template
	// JSON is the template as a generic document, for checks the
	// assertions library cannot express.
	JSON map[string]any
}

// synth builds the stack from cfg exactly as infra/main.go does, with the
// real Lambda binaries from `make build` (dist/), and applies the AWS
// Solutions checks.
func synth(t testing.TB, cfg config.Config) synthesized {
	t.Helper()
	dist := filepath.Join(repoRoot(t), "dist")
	if _, err := os.Stat(dist); err != nil {
		t.Fatalf("no %s: run `make build` first (make test does)", dist)
	}
	app := awscdk.NewApp(nil)
	s := New(app, cfg.StackName, &Props{Config: cfg, AssetDir: dist})
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
	tpl := assertions.Template_FromStack(s.Stack, nil)
	raw, err := json.Marshal(tpl.ToJSON())
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	return synthesized{Stack: s, Template: tpl, JSON: doc}
}

// resources returns the template's resources of one type, by logical id.
func (s synthesized) resources(cfnType string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for id, r := range s.JSON["Resources"].(map[string]any) {
		res := r.(map[string]any)
		if res["Type"] == cfnType {
			out[id] = res
		}
	}
	return out
}
