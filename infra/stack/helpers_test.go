package stack

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
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

// shippedContext is the whole context of the repository's cdk.json:
// feature flags and the "lakeforge" configuration.
func shippedContext(t testing.TB) map[string]json.RawMessage {
	t.Helper()
	ctx, err := config.CDKJSONContext(filepath.Join(repoRoot(t), "cdk.json"))
	if err != nil {
		t.Fatal(err)
	}
	return ctx
}

// shippedConfig is the configuration in the repository's cdk.json.
func shippedConfig(t testing.TB) config.Config {
	t.Helper()
	cfg, err := config.Parse(shippedContext(t)[config.ContextKey])
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// synthesized is one synthesized stack with cdk-nag applied.
type synthesized struct {
	Stack *Stack
	// Config is the configuration the stack was built from.
	Config   config.Config
	Template assertions.Template
	// JSON is the template as a generic document, for checks the
	// assertions library cannot express.
	JSON map[string]any
}

// synthCache holds one synthesized stack per configuration, keyed by the
// configuration's JSON: building a CDK app costs seconds of jsii calls, and
// most tests read the same few configurations. The stack and the assertions
// template are shared read-only; every caller gets its own copy of JSON.
var synthCache = struct {
	sync.Mutex
	byConfig map[string]*synthEntry
}{byConfig: map[string]*synthEntry{}}

type synthEntry struct {
	stack *Stack
	tpl   assertions.Template
	raw   []byte
}

// synth returns the stack built from cfg exactly as infra/main.go does, with
// the real Lambda binaries from `make build` (dist/) and the AWS Solutions
// checks applied; the first call for a configuration synthesizes it, later
// calls share that result.
func synth(t testing.TB, cfg config.Config) synthesized {
	t.Helper()
	key, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	synthCache.Lock()
	defer synthCache.Unlock()
	e, ok := synthCache.byConfig[string(key)]
	if !ok {
		e = synthNew(t, cfg)
		synthCache.byConfig[string(key)] = e
	}
	var doc map[string]any
	if err := json.Unmarshal(e.raw, &doc); err != nil {
		t.Fatal(err)
	}
	return synthesized{Stack: e.stack, Config: cfg, Template: e.tpl, JSON: doc}
}

// synthNew builds a new CDK app from cfg and synthesizes its stack.
func synthNew(t testing.TB, cfg config.Config) *synthEntry {
	t.Helper()
	return synthNewFrom(t, cfg, filepath.Join(repoRoot(t), "dist"))
}

// synthNewFrom is synthNew with the functions' code from dist.
func synthNewFrom(t testing.TB, cfg config.Config, dist string) *synthEntry {
	t.Helper()
	if _, err := os.Stat(dist); err != nil {
		t.Fatalf("no %s: run `make build` first (make test does)", dist)
	}
	// The app gets cdk.json's feature flags, as under `cdk synth`.
	flags, err := config.FeatureFlags(shippedContext(t))
	if err != nil {
		t.Fatal(err)
	}
	return synthWithFlags(t, cfg, dist, flags)
}

// synthWithFlags synthesizes cfg's stack in a new app with the given
// context (feature flags), uncached.
func synthWithFlags(t testing.TB, cfg config.Config, dist string, flags map[string]any) *synthEntry {
	t.Helper()
	app := awscdk.NewApp(&awscdk.AppProps{Context: &flags})
	s := New(app, cfg.StackName, &Props{Config: cfg, AssetDir: dist})
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
	tpl := assertions.Template_FromStack(s.Stack, nil)
	raw, err := json.Marshal(tpl.ToJSON())
	if err != nil {
		t.Fatal(err)
	}
	return &synthEntry{stack: s, tpl: tpl, raw: raw}
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

// resource returns one resource of the template by logical id.
func (s synthesized) resource(t testing.TB, id string) map[string]any {
	t.Helper()
	r, ok := s.JSON["Resources"].(map[string]any)[id].(map[string]any)
	if !ok {
		t.Fatalf("no resource %s in the template", id)
	}
	return r
}

// statement is one IAM policy statement with its actions and resources
// flattened to strings (intrinsics rendered as JSON).
type statement struct {
	Sid       string
	Effect    string
	Actions   []string
	Resources []string
	raw       string
}

func toStrings(v any) []string {
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			out = append(out, toStrings(e)...)
		}
		return out
	default:
		b, _ := json.Marshal(x)
		return []string{string(b)}
	}
}

func parseStatements(doc any) []statement {
	var out []statement
	m, _ := doc.(map[string]any)
	list, _ := m["Statement"].([]any)
	for _, st := range list {
		sm := st.(map[string]any)
		raw, _ := json.Marshal(sm)
		sid, _ := sm["Sid"].(string)
		eff, _ := sm["Effect"].(string)
		out = append(out, statement{Sid: sid, Effect: eff, Actions: toStrings(sm["Action"]), Resources: toStrings(sm["Resource"]), raw: string(raw)})
	}
	return out
}

// attachedStatements returns the statements of AWS::IAM::Policy resources
// attached to the role or group with the logical id, through key "Roles" or
// "Groups", plus the inline Policies of that resource.
func (s synthesized) attachedStatements(id, key string) []statement {
	var out []statement
	ref := `{"Ref":"` + id + `"}`
	for _, p := range s.resources("AWS::IAM::Policy") {
		props := p["Properties"].(map[string]any)
		targets, _ := json.Marshal(props[key])
		if strings.Contains(string(targets), ref) {
			out = append(out, parseStatements(props["PolicyDocument"])...)
		}
	}
	if r, ok := s.JSON["Resources"].(map[string]any)[id].(map[string]any); ok {
		if inline, ok := r["Properties"].(map[string]any)["Policies"].([]any); ok {
			for _, p := range inline {
				out = append(out, parseStatements(p.(map[string]any)["PolicyDocument"])...)
			}
		}
	}
	return out
}

func (s synthesized) roleStatements(id string) []statement { return s.attachedStatements(id, "Roles") }
func (s synthesized) groupStatements(id string) []statement {
	return s.attachedStatements(id, "Groups")
}

// resourcesFor returns the resources of Allow statements granting action.
func resourcesFor(stmts []statement, action string) []string {
	var out []string
	for _, s := range stmts {
		if s.Effect == "Allow" && slices.Contains(s.Actions, action) {
			out = append(out, s.Resources...)
		}
	}
	return out
}

// dig follows keys through nested objects; nil when a key is missing.
func dig(m map[string]any, keys ...string) any {
	var cur any = m
	for _, k := range keys {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = mm[k]
	}
	return cur
}

func assertBlocksPublicAccess(t *testing.T, props map[string]any) {
	t.Helper()
	for _, k := range []string{"BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"} {
		if dig(props, "PublicAccessBlockConfiguration", k) != true {
			t.Errorf("public access block %s is not set", k)
		}
	}
}

func assertEncrypted(t *testing.T, props map[string]any) {
	t.Helper()
	rules, _ := dig(props, "BucketEncryption", "ServerSideEncryptionConfiguration").([]any)
	if len(rules) == 0 || dig(rules[0].(map[string]any), "ServerSideEncryptionByDefault", "SSEAlgorithm") == nil {
		t.Errorf("bucket is not encrypted at rest: %v", props["BucketEncryption"])
	}
}

// assertDeniesPlainHTTP checks the bucket's policy denies requests without TLS.
func (s synthesized) assertDeniesPlainHTTP(t *testing.T, bucketID string) {
	t.Helper()
	for _, p := range s.resources("AWS::S3::BucketPolicy") {
		props := p["Properties"].(map[string]any)
		if b, _ := json.Marshal(props["Bucket"]); !strings.Contains(string(b), bucketID) {
			continue
		}
		for _, st := range parseStatements(props["PolicyDocument"]) {
			if st.Effect == "Deny" && strings.Contains(st.raw, `"aws:SecureTransport":"false"`) {
				return
			}
		}
	}
	t.Errorf("bucket %s does not deny plain HTTP", bucketID)
}

// nagSuppressions returns the cdk-nag suppressions in a resource's metadata.
func nagSuppressions(r map[string]any) []map[string]any {
	var out []map[string]any
	list, _ := dig(r, "Metadata", "cdk_nag", "rules_to_suppress").([]any)
	for _, s := range list {
		out = append(out, s.(map[string]any))
	}
	return out
}

// The shared synthesis must not hide a configuration difference or let one
// test's edits of the template document reach another test.
func TestSynthIsSharedPerConfiguration(t *testing.T) {
	cfg := shippedConfig(t)
	a, b := synth(t, cfg), synth(t, cfg)
	if a.Stack != b.Stack {
		t.Error("the same configuration was synthesized twice")
	}
	delete(a.JSON, "Resources")
	if _, ok := b.JSON["Resources"]; !ok {
		t.Error("one caller's edit of JSON reached another caller")
	}
	if _, ok := synth(t, cfg).JSON["Resources"]; !ok {
		t.Error("an edit of JSON reached the cache")
	}
	other := cfg
	other.Schedule.Enabled = false
	c := synth(t, other)
	if c.Stack == b.Stack {
		t.Fatal("a different configuration got the cached stack")
	}
	state := func(st synthesized) any {
		for _, r := range st.resources("AWS::Scheduler::Schedule") {
			return dig(r, "Properties", "State")
		}
		return nil
	}
	if state(b) != "ENABLED" || state(c) != "DISABLED" {
		t.Errorf("schedule state %v with schedule.enabled and %v without, want ENABLED and DISABLED", state(b), state(c))
	}
}

// json is the entry's template as JSON.
func (e *synthEntry) json(t testing.TB) map[string]any {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(e.raw, &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}
