package stack

import (
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/lakeforge/lakeforge/pkg/config"
)

// updateGolden rewrites testdata/templates from the current synthesis:
// go test ./infra/stack/ -run TestTemplatesKeepEveryResource -update
var updateGolden = flag.Bool("update", false, "rewrite infra/stack/testdata/templates from the current synthesis")

// goldenConfigs are the configurations whose templates are kept in
// testdata/templates: the shipped one; one where the stack owns every
// optional piece (and governs columns); one that adopts what exists (a kept bucket, the blog's
// group and Parquet prefixes); and one with existing principals only.
func goldenConfigs(t *testing.T) map[string]config.Config {
	shipped := shippedConfig(t)

	owned := shippedConfig(t)
	owned.Lake.BucketName = "kthr01-lake-example"
	owned.Network.Manage = true
	owned.Preflight.Repair = true
	owned.Source.SecretKMSKeyARN = "arn:aws:kms:ap-northeast-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	owned.Governance.Enabled = true
	owned.Governance.Columns = map[string][]string{"pii": {"%.email"}, "public": {"products.%"}}

	adopted := shippedConfig(t)
	adopted.Lake.ExistingBucketName = "lakeforge-kept-lake"
	adopted.Personas.Analysts.AdoptGroup = true
	adopted.Import.AdoptLocations = []string{"s3://blueprint-output/kthr01/"}
	adopted.Schedule.Enabled = false
	adopted.Import.Mode = config.ModeIncremental
	adopted.Import.BookmarkKeys = map[string][]string{"products": {"id"}}

	existing := shippedConfig(t)
	existing.Personas.Admins.CreateRole, existing.Personas.Admins.GroupName = false, ""
	existing.Personas.Admins.PrincipalARNs = []string{"arn:aws:iam::123456789012:role/existing-admin"}
	existing.Personas.Analysts.CreateRole, existing.Personas.Analysts.GroupName = false, ""
	existing.Personas.Analysts.PrincipalARNs = []string{"arn:aws:iam::123456789012:user/analyst", "arn:aws:iam::123456789012:role/existing-analyst"}
	existing.Schedule.RunAtDeploy = false

	configs := map[string]config.Config{"shipped": shipped, "owned": owned, "adopted": adopted, "existing": existing}
	for name, cfg := range configs {
		if err := cfg.Validate(); err != nil {
			t.Fatalf("golden configuration %s: %v", name, err)
		}
	}
	return configs
}

// Digests that change with every build or configuration edit, not with the
// stack's shape: asset hashes (the Lambda binaries, the import script) and
// the first run's digest of the definition and configuration.
var (
	assetHash             = regexp.MustCompile(`[0-9a-f]{64}`)
	pipelineDigestPattern = regexp.MustCompile(`"pipelineDigest\\":\\"[0-9a-f]{16}`)
)

// normalizedTemplate is a template without what the construct tree's shape
// alone decides (each resource's aws:cdk:path, and the order of DependsOn,
// which CDK sorts by construct path and CloudFormation reads as a set) and
// without build digests.
func normalizedTemplate(t *testing.T, doc map[string]any) map[string]any {
	t.Helper()
	resources, _ := doc["Resources"].(map[string]any)
	for _, r := range resources {
		res := r.(map[string]any)
		if deps, ok := res["DependsOn"].([]any); ok {
			slices.SortFunc(deps, func(a, b any) int { return strings.Compare(a.(string), b.(string)) })
		}
		if md, ok := res["Metadata"].(map[string]any); ok {
			delete(md, "aws:cdk:path")
			if len(md) == 0 {
				delete(res, "Metadata")
			}
		}
	}
	raw, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	raw = assetHash.ReplaceAll(raw, []byte("<asset-hash>"))
	raw = pipelineDigestPattern.ReplaceAll(raw, []byte(`"pipelineDigest\":\"<digest>`))
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// renameAllowed are the resource types whose logical id may change, with
// the reason a deployed stack loses nothing when it does: CloudFormation
// creates the resource under the new id before it deletes the old one.
var renameAllowed = map[string]string{
	// The permission's construct id is CDK's "AllowEventRule" plus the
	// rule's full construct path, which the constructs lengthen; the
	// permission has no physical name and nothing refers to it.
	"AWS::Lambda::Permission": "an EventBridge rule's permission to invoke a function: named after the rule's construct path, stateless, unreferenced",
}

// The template of each golden configuration matches the one recorded in
// testdata/templates resource by resource: same logical ids (a changed id
// replaces the resource on deploy: a new lake bucket, persona roles with
// new ARNs, named Glue and Athena resources that collide with the old),
// same properties, dependencies, policies and metadata. Only the types of
// renameAllowed may change their id, and only to an identical resource.
func TestTemplatesKeepEveryResource(t *testing.T) {
	for name, cfg := range goldenConfigs(t) {
		t.Run(name, func(t *testing.T) {
			got := normalizedTemplate(t, synth(t, cfg).JSON)
			path := filepath.Join("testdata", "templates", name+".json")
			if *updateGolden {
				raw, err := json.MarshalIndent(got, "", " ")
				if err != nil {
					t.Fatal(err)
				}
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, append(raw, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (record it with -update)", err)
			}
			var want map[string]any
			if err := json.Unmarshal(raw, &want); err != nil {
				t.Fatal(err)
			}
			for _, problem := range compareTemplates(want, got) {
				t.Error(problem)
			}
		})
	}
}

// compareTemplates lists the differences between two normalized templates:
// each section but Resources as a whole, then resource by resource. A
// resource of a type in renameAllowed that is gone under one id and
// identical under a new one counts as renamed, and references to it
// (DependsOn, Ref) follow.
func compareTemplates(want, got map[string]any) []string {
	want = renameIn(want, renamed(want, got))
	var problems []string
	for _, section := range sortedKeys(want, got) {
		if section == "Resources" {
			continue
		}
		if !reflect.DeepEqual(want[section], got[section]) {
			problems = append(problems, fmt.Sprintf("section %s differs:\nwant %s\ngot  %s", section, jsonText(want[section]), jsonText(got[section])))
		}
	}
	wantRes, _ := want["Resources"].(map[string]any)
	gotRes, _ := got["Resources"].(map[string]any)
	var gone, added []string
	for _, id := range sortedKeys(wantRes, gotRes) {
		w, inWant := wantRes[id]
		g, inGot := gotRes[id]
		switch {
		case !inGot:
			gone = append(gone, id)
		case !inWant:
			added = append(added, id)
		case !reflect.DeepEqual(w, g):
			problems = append(problems, fmt.Sprintf("resource %s differs%s", id, differingKeys(w, g)))
		}
	}
	// A resource that left one id and arrived under another, identical.
	for _, old := range gone {
		typ := typeOf(wantRes[old])
		i := slices.IndexFunc(added, func(id string) bool { return reflect.DeepEqual(wantRes[old], gotRes[id]) })
		if i < 0 {
			problems = append(problems, fmt.Sprintf("resource %s (%s) is gone: %s", old, typ, jsonText(wantRes[old])))
			continue
		}
		if _, ok := renameAllowed[typ]; !ok {
			problems = append(problems, fmt.Sprintf("resource %s (%s) has a new logical id %s: CloudFormation would replace it", old, typ, added[i]))
		}
		added = slices.Delete(added, i, i+1)
	}
	for _, id := range added {
		problems = append(problems, fmt.Sprintf("new resource %s (%s): %s", id, typeOf(gotRes[id]), jsonText(gotRes[id])))
	}
	return problems
}

// renamed pairs each resource of a renameAllowed type that is only in want
// with a resource only in got that is the same but for the names of other
// renamed resources it mentions.
func renamed(want, got map[string]any) map[string]string {
	wantRes, _ := want["Resources"].(map[string]any)
	gotRes, _ := got["Resources"].(map[string]any)
	out := map[string]string{}
	for _, old := range sortedKeys(wantRes) {
		if _, kept := gotRes[old]; kept {
			continue
		}
		if _, ok := renameAllowed[typeOf(wantRes[old])]; !ok {
			continue
		}
		for _, id := range sortedKeys(gotRes) {
			if _, existed := wantRes[id]; existed || slices.Contains(slices.Collect(maps.Values(out)), id) {
				continue
			}
			if reflect.DeepEqual(wantRes[old], gotRes[id]) {
				out[old] = id
				break
			}
		}
	}
	return out
}

// renameIn is doc with every renamed logical id replaced, wherever it is
// written (as a key, a Ref, a Fn::GetAtt or a DependsOn entry).
func renameIn(doc map[string]any, renames map[string]string) map[string]any {
	if len(renames) == 0 {
		return doc
	}
	raw, _ := json.Marshal(doc)
	text := string(raw)
	for old, id := range renames {
		text = strings.ReplaceAll(text, `"`+old+`"`, `"`+id+`"`)
	}
	var out map[string]any
	_ = json.Unmarshal([]byte(text), &out)
	for _, r := range out["Resources"].(map[string]any) {
		if deps, ok := r.(map[string]any)["DependsOn"].([]any); ok {
			slices.SortFunc(deps, func(a, b any) int { return strings.Compare(a.(string), b.(string)) })
		}
	}
	return out
}

// differingKeys shows the top-level keys of two resources that differ.
func differingKeys(w, g any) string {
	wm, _ := w.(map[string]any)
	gm, _ := g.(map[string]any)
	var b strings.Builder
	for _, k := range sortedKeys(wm, gm) {
		if !reflect.DeepEqual(wm[k], gm[k]) {
			fmt.Fprintf(&b, "\n  %s: want %s\n  %s: got  %s", k, jsonText(wm[k]), k, jsonText(gm[k]))
		}
	}
	return b.String()
}

func typeOf(r any) string {
	m, _ := r.(map[string]any)
	s, _ := m["Type"].(string)
	return s
}

func sortedKeys(maps ...map[string]any) []string {
	var keys []string
	for _, m := range maps {
		for k := range m {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

func jsonText(v any) string {
	raw, _ := json.Marshal(v)
	s := string(raw)
	if len(s) > 4000 {
		s = s[:4000] + "..."
	}
	return strings.TrimSpace(s)
}

// The comparison fails where a deploy would replace or change something.
func TestCompareTemplatesReportsReplacementAndChange(t *testing.T) {
	bucket := map[string]any{"Type": "AWS::S3::Bucket", "Properties": map[string]any{"BucketName": "lake"}}
	permission := map[string]any{"Type": "AWS::Lambda::Permission", "Properties": map[string]any{"Action": "lambda:InvokeFunction"}}
	template := func(resources map[string]any) map[string]any {
		return map[string]any{"Resources": resources}
	}
	base := template(map[string]any{"LakeBucket1": bucket, "AllowRule1": permission})
	if p := compareTemplates(base, template(map[string]any{"LakeBucket1": bucket, "AllowRule2": permission})); len(p) != 0 {
		t.Errorf("a permission under a new id was reported: %v", p)
	}
	renamed := compareTemplates(base, template(map[string]any{"LakeBucket2": bucket, "AllowRule1": permission}))
	if len(renamed) != 1 || !strings.Contains(renamed[0], "would replace it") {
		t.Errorf("a bucket under a new id: %v", renamed)
	}
	changed := map[string]any{"Type": "AWS::S3::Bucket", "Properties": map[string]any{"BucketName": "other"}}
	if p := compareTemplates(base, template(map[string]any{"LakeBucket1": changed, "AllowRule1": permission})); len(p) != 1 || !strings.Contains(p[0], "LakeBucket1 differs") {
		t.Errorf("a changed bucket: %v", p)
	}
	if p := compareTemplates(base, template(map[string]any{"AllowRule1": permission})); len(p) != 1 || !strings.Contains(p[0], "is gone") {
		t.Errorf("a removed bucket: %v", p)
	}
	withOutput := template(map[string]any{"LakeBucket1": bucket, "AllowRule1": permission})
	withOutput["Outputs"] = map[string]any{"LakeBucketName": map[string]any{"Value": "x"}}
	if p := compareTemplates(base, withOutput); len(p) != 1 || !strings.Contains(p[0], "section Outputs") {
		t.Errorf("a new output: %v", p)
	}
}
