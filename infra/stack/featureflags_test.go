package stack

import (
	"archive/tar"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/lakeforge/lakeforge/pkg/config"
)

// recommendedFeatureFlags are the feature flags `cdk init` writes into a
// new app's cdk.json: recommended-feature-flags.json of the aws-cdk-lib
// that the Go module ships (its jsii tarball).
func recommendedFeatureFlags(t *testing.T) map[string]json.RawMessage {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/aws/aws-cdk-go/awscdk/v2").Output()
	if err != nil {
		t.Fatalf("go list the awscdk module: %v", err)
	}
	tarballs, _ := filepath.Glob(filepath.Join(strings.TrimSpace(string(out)), "jsii", "aws-cdk-lib-*.tgz"))
	if len(tarballs) != 1 {
		t.Fatalf("want one aws-cdk-lib tarball in the awscdk module, found %v", tarballs)
	}
	f, err := os.Open(tarballs[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err != nil {
			t.Fatalf("%s has no package/recommended-feature-flags.json: %v", tarballs[0], err)
		}
		if h.Name == "package/recommended-feature-flags.json" {
			raw, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			var flags map[string]json.RawMessage
			if err := json.Unmarshal(raw, &flags); err != nil {
				t.Fatal(err)
			}
			return flags
		}
	}
}

// cdk.json sets the feature flags as a new CDK app of the installed
// aws-cdk-lib does, every one at its recommended value, and no flag that
// version does not recommend: `cdk synth` has none left to warn about, and
// a CDK upgrade that brings new flags fails here until they are set.
func TestCDKJSONSetsTheFeatureFlagsOfANewApp(t *testing.T) {
	recommended := recommendedFeatureFlags(t)
	if len(recommended) < 50 {
		t.Fatalf("found only %d recommended flags", len(recommended))
	}
	shipped := shippedContext(t)
	for name, want := range recommended {
		got, ok := shipped[name]
		if !ok {
			t.Errorf("cdk.json does not set the feature flag %s (a new app sets %s)", name, want)
			continue
		}
		var g, w any
		_ = json.Unmarshal(got, &g)
		_ = json.Unmarshal(want, &w)
		if !reflect.DeepEqual(g, w) {
			t.Errorf("cdk.json sets %s to %s; a new app sets %s", name, got, want)
		}
	}
	for name := range shipped {
		if _, ok := recommended[name]; !ok && name != config.ContextKey {
			t.Errorf("cdk.json sets %s, which the installed aws-cdk-lib does not recommend", name)
		}
	}
}

// The feature flags cdk.json sets change the template only in the layout
// of policy documents: @aws-cdk/aws-iam:minimizePolicies sorts each
// statement's actions and resources and merges statements that differ only
// in them, granting exactly what the unminimized documents grant. Every
// other resource and property is as it was with the one flag cdk.json set
// before (@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy). The resources
// that change are logged.
func TestFeatureFlagsOnlyRewritePolicyDocuments(t *testing.T) {
	cfg := shippedConfig(t)
	withFlags := synth(t, cfg).JSON["Resources"].(map[string]any)
	before := synthWithFlags(t, cfg, filepath.Join(repoRoot(t), "dist"), map[string]any{"@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": true})
	var doc map[string]any
	if err := json.Unmarshal(before.raw, &doc); err != nil {
		t.Fatal(err)
	}
	without := doc["Resources"].(map[string]any)
	if ids, want := sortedKeys(withFlags), sortedKeys(without); !slices.Equal(ids, want) {
		t.Fatalf("the flags change the resources: %v, were %v", ids, want)
	}
	// The policy document of each resource type that carries one.
	policyProperty := map[string]string{"AWS::IAM::Policy": "PolicyDocument", "AWS::S3::BucketPolicy": "PolicyDocument", "AWS::KMS::Key": "KeyPolicy",
		"AWS::IAM::Role": "AssumeRolePolicyDocument", "AWS::SNS::TopicPolicy": "PolicyDocument"}
	var changed []string
	for _, id := range sortedKeys(withFlags) {
		a, b := withFlags[id].(map[string]any), without[id].(map[string]any)
		if reflect.DeepEqual(a, b) {
			continue
		}
		changed = append(changed, id+" ("+a["Type"].(string)+")")
		prop, ok := policyProperty[a["Type"].(string)]
		if !ok {
			t.Errorf("%s (%s) changed, and it has no policy document:\nwith the flags: %v\nbefore: %v", id, a["Type"], a, b)
			continue
		}
		pa, pb := a["Properties"].(map[string]any), b["Properties"].(map[string]any)
		if !reflect.DeepEqual(grants(t, pa[prop]), grants(t, pb[prop])) {
			t.Errorf("%s: the flags change what %s grants:\nwith the flags: %v\nbefore: %v", id, prop, pa[prop], pb[prop])
		}
		ra, rb := copyWithout(a, prop), copyWithout(b, prop)
		if !reflect.DeepEqual(ra, rb) {
			t.Errorf("%s: the flags change more than %s:\nwith the flags: %v\nbefore: %v", id, prop, ra, rb)
		}
	}
	t.Logf("resources whose policy documents minimizePolicies rewrote (same grants): %s", strings.Join(changed, ", "))
}

// grants is a policy document as a set of single grants: one per action,
// resource, principal and statement context (effect, condition,
// not-lists), so two documents that say the same in another layout compare
// equal (minimizePolicies also merges the principals of two trust
// statements into one list).
func grants(t *testing.T, policy any) map[string]bool {
	t.Helper()
	list := func(v any) []any {
		if l, ok := v.([]any); ok {
			return l
		}
		if v == nil {
			return []any{nil}
		}
		return []any{v}
	}
	enc := func(v any) string { b, _ := json.Marshal(v); return string(b) }
	out := map[string]bool{}
	doc, _ := policy.(map[string]any)
	for _, s := range list(doc["Statement"]) {
		st := s.(map[string]any)
		context := enc(map[string]any{"Effect": st["Effect"], "Condition": st["Condition"], "NotAction": st["NotAction"], "NotResource": st["NotResource"]})
		for _, principal := range principals(st["Principal"]) {
			for _, action := range list(st["Action"]) {
				for _, resource := range list(st["Resource"]) {
					out[context+enc(principal)+enc(action)+enc(resource)] = true
				}
			}
		}
	}
	if len(out) == 0 {
		t.Errorf("policy document without grants: %v", policy)
	}
	return out
}

// principals splits a statement's Principal into single principals, each
// {"<kind>": value} ("*" and an absent one stay as they are).
func principals(p any) []any {
	m, ok := p.(map[string]any)
	if !ok {
		return []any{p}
	}
	var out []any
	for kind, v := range m {
		vals, ok := v.([]any)
		if !ok {
			vals = []any{v}
		}
		for _, one := range vals {
			out = append(out, map[string]any{kind: one})
		}
	}
	return out
}

// copyWithout is a resource without one of its properties.
func copyWithout(resource map[string]any, property string) map[string]any {
	out := map[string]any{}
	for k, v := range resource {
		out[k] = v
	}
	props := map[string]any{}
	for k, v := range resource["Properties"].(map[string]any) {
		if k != property {
			props[k] = v
		}
	}
	out["Properties"] = props
	return out
}
