package stack

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	gluescript "github.com/lakeforge/lakeforge/infra/glue"
	"github.com/lakeforge/lakeforge/pkg/config"
)

// firstRunResource is the first run's custom resource and its properties.
func firstRunResource(t *testing.T, s synthesized) (string, map[string]any) {
	t.Helper()
	for id, r := range s.resources("Custom::LakeforgeFirstRun") {
		return id, r["Properties"].(map[string]any)
	}
	t.Fatal("no Custom::LakeforgeFirstRun in the template")
	return "", nil
}

var digestPattern = regexp.MustCompile(`pipelineDigest\\?\\?\\?":\\?\\?\\?"([0-9a-f]+)`)

// firstRunDigest is the digest the first run at deploy carries, wherever
// in the template the trigger is written.
func firstRunDigest(t *testing.T, s synthesized) string {
	t.Helper()
	m := digestPattern.FindStringSubmatch(string(s.rawJSON(t)))
	if m == nil {
		t.Fatal("no pipelineDigest in the template: the first run has no trigger")
	}
	return m[1]
}

// synthWithAssets synthesizes cfg with the functions' code from dir (not
// shared with other tests).
func synthWithAssets(t *testing.T, cfg config.Config, dir string) synthesized {
	t.Helper()
	e := synthNewFrom(t, cfg, dir)
	return synthesized{Stack: e.stack, Template: e.tpl, JSON: e.json(t)}
}

// assetsWithOneChanged is a copy of dist/ (links) in which one function's
// bootstrap differs by a byte, as a rebuilt function would.
func assetsWithOneChanged(t *testing.T, function string) string {
	t.Helper()
	dist := filepath.Join(repoRoot(t), "dist")
	dir := t.TempDir()
	entries, err := os.ReadDir(dist)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != function {
			if err := os.Symlink(filepath.Join(dist, e.Name()), filepath.Join(dir, e.Name())); err != nil {
				t.Fatal(err)
			}
			continue
		}
		code, err := os.ReadFile(filepath.Join(dist, function, "bootstrap"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(dir, function), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, function, "bootstrap"), append(code, 0), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// A deploy that changes only a function's code, or only the import job's
// script, starts a run: the first run's trigger covers both (issue 17
// item 11), besides the definition and the configuration.
func TestFirstRunTriggerCoversTheScriptAndTheFunctions(t *testing.T) {
	cfg := shippedConfig(t)
	base := firstRunDigest(t, synth(t, cfg))

	changed := synthWithAssets(t, cfg, assetsWithOneChanged(t, "tag-output"))
	if got := firstRunDigest(t, changed); got == base {
		t.Errorf("a changed tag-output function leaves the first run's digest %s: the deploy would start no run", got)
	}

	script := gluescript.ImportJobScript
	gluescript.ImportJobScript = append(slices.Clone(script), []byte("\n# changed\n")...)
	defer func() { gluescript.ImportJobScript = script }()
	edited := synthWithAssets(t, cfg, filepath.Join(repoRoot(t), "dist"))
	gluescript.ImportJobScript = script
	if got := firstRunDigest(t, edited); got == base {
		t.Errorf("a changed job script leaves the first run's digest %s: the deploy would start no run", got)
	}
}

// The first run is the first-run function's custom resource (which starts
// nothing during a rollback, pkg/firstrun), bounded by a ServiceTimeout; its
// role reads only this stack's status and starts only this pipeline.
func TestFirstRunIsServedByItsFunction(t *testing.T) {
	s := synth(t, shippedConfig(t))
	id, props := firstRunResource(t, s)
	fnID := logicalID(s.Stack.Lake.Steps()[FirstRunFunction].Function())
	if !strings.Contains(jsonOf(t, props["ServiceToken"]), fnID) {
		t.Fatalf("%s is served by %v, not the first-run function %s", id, props["ServiceToken"], fnID)
	}
	if props["ServiceTimeout"] == nil {
		t.Errorf("%s has no ServiceTimeout: a crashed handler would hold the deploy for an hour", id)
	}
	smID, _ := s.find(t, "AWS::StepFunctions::StateMachine", nil)
	roleID := logicalID(s.Stack.Lake.Steps()[FirstRunFunction].Role())
	for _, st := range s.roleStatements(roleID) {
		switch {
		case slices.Contains(st.Actions, "cloudformation:DescribeStacks"):
			if !slices.Equal(st.Resources, []string{`{"Ref":"AWS::StackId"}`}) {
				t.Errorf("DescribeStacks on %v, want only this stack", st.Resources)
			}
		case slices.Contains(st.Actions, "states:StartExecution"):
			if !slices.Equal(st.Resources, []string{`{"Ref":"` + smID + `"}`}) {
				t.Errorf("StartExecution on %v, want only the pipeline %s", st.Resources, smID)
			}
		}
	}
}
