package stack

import (
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
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
