package stack

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/lakeforge/lakeforge/pkg/config"
)

// uniqueID computes what CDK's own allocation gives a plain stack's
// resource, for paths of every shape makeUniqueId treats apart: one
// component, "Resource" and "Default" components, repeats, characters that
// are not alphanumeric, and a human part longer than 240 characters.
func TestUniqueIDIsCDKsLogicalID(t *testing.T) {
	app := awscdk.NewApp(nil)
	plain := awscdk.NewStack(app, jsii.String("Plain"), nil)
	paths := [][]string{
		{"Workgroup"},
		{"LakeBucket", "Resource"},
		{"StepRegisterLocation", "Function", "Resource"},
		{"FirstRun", "Resource", "Default"},
		{"Pipeline", "Pipeline", "Resource"},
		{"Import", "ImportEvents", "Events", "Rule"},
		{"Step-Register_Location", "Policy"},
		{strings.Repeat("Long", 70), "Resource"},
		{strings.Repeat("x", 260)},
	}
	for _, path := range paths {
		var scope constructs.Construct = plain
		for _, id := range path[:len(path)-1] {
			if child := scope.Node().TryFindChild(jsii.String(id)); child != nil {
				scope = child.(constructs.Construct)
				continue
			}
			scope = constructs.NewConstruct(scope, jsii.String(id))
		}
		r := awscdk.NewCfnResource(scope, jsii.String(path[len(path)-1]), &awscdk.CfnResourceProps{Type: jsii.String("AWS::SNS::Topic")})
		if got, want := uniqueID(path), *plain.GetLogicalId(r); got != want {
			t.Errorf("path %v: uniqueID %s, CDK %s", path, got, want)
		}
	}
}

// In the lakeforge stack a resource of the lake keeps the logical id of
// its path without the lake's and its part's construct ids; anything
// else keeps CDK's.
func TestLakeResourcesKeepTheirTopLevelLogicalIDs(t *testing.T) {
	st := synth(t, shippedConfig(t)).Stack
	for c, want := range map[constructs.IConstruct]string{
		st.Lake.Storage.LakeBucket:      uniqueID([]string{"LakeBucket", "Resource"}),
		st.Lake.Storage.Key:             uniqueID([]string{"Key", "Resource"}),
		st.Lake.Personas.AnalystRole:    uniqueID([]string{"AnalystRole", "Resource"}),
		st.Lake.Pipeline.StateMachine:   uniqueID([]string{"Pipeline", "Resource"}),
		st.Lake.Source.Connection:       "SourceConnection",
		st.Lake.ImportWorkflow.Workflow: "ImportWorkflow",
	} {
		el, ok := c.(awscdk.CfnElement)
		if !ok {
			el = c.Node().DefaultChild().(awscdk.CfnElement)
		}
		if got := *st.GetLogicalId(el); got != want {
			t.Errorf("%s: logical id %s, want %s", *c.Node().Path(), got, want)
		}
	}
}

// A synthesis resolves an element's logical id at every reference to it.
// New pins each element's id while it builds the stack, so synthesizing
// asks AllocateLogicalId (a callback from Node into Go) only for the few
// elements CDK itself adds while synthesizing, not once per reference:
// unpinned, the shipped stack asked it thousands of times, three quarters
// of a synthesis' time.
func TestSynthesisDoesNotAskGoForPinnedLogicalIDs(t *testing.T) {
	cfg := shippedConfig(t)
	flags, err := config.FeatureFlags(shippedContext(t))
	if err != nil {
		t.Fatal(err)
	}
	app := awscdk.NewApp(&awscdk.AppProps{Context: &flags})
	s := New(app, cfg.StackName, &Props{Config: cfg, AssetDir: filepath.Join(repoRoot(t), "dist")})
	before := logicalIDAsks.Load()
	tpl := assertions.Template_FromStack(s.Stack, nil)
	asks := logicalIDAsks.Load() - before
	elements := 0
	for _, section := range []string{"Resources", "Outputs", "Parameters", "Conditions", "Rules"} {
		m, _ := (*tpl.ToJSON())[section].(map[string]any)
		elements += len(m)
	}
	t.Logf("synthesis asked for %d logical ids; the template has %d elements", asks, elements)
	if asks > int64(elements)/10 {
		t.Errorf("synthesis asked AllocateLogicalId %d times for a template of %d elements: the ids New pinned are asked again at each reference", asks, elements)
	}
}
