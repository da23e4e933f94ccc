//lint:file-ignore SA1019 assertions.Annotations returns cxapi.SynthesisMessage, which jsii marks deprecated; the Go binding offers no other type.

package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/lakeforge/lakeforge/pkg/config"
	"github.com/lakeforge/lakeforge/pkg/stepcontract"
)

func TestMain(m *testing.M) {
	code := m.Run()
	jsii.Close()
	os.Exit(code)
}

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// The team's stack with the lake embedded synthesizes with the AWS
// Solutions checks clean on the lake's part, keeps the team's bucket and
// role as they are (no second lake bucket, no second job role), and gives
// them exactly what the import needs.
func TestLakeEmbedsInAnExistingStackWithItsBucketAndRole(t *testing.T) {
	dist := filepath.Join(repoRoot(), "dist")
	if _, err := os.Stat(dist); err != nil {
		t.Fatalf("no %s: run `make build` first (make test does)", dist)
	}
	cfg, err := config.LoadCDKJSON(filepath.Join(repoRoot(), "cdk.json"))
	if err != nil {
		t.Fatal(err)
	}
	app := awscdk.NewApp(nil)
	s := NewAnalyticsStack(app, "TeamAnalytics", cfg, dist)
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
	tpl := assertions.Template_FromStack(s.Stack, nil)
	raw, err := json.Marshal(tpl.ToJSON())
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Resources map[string]struct {
			Type       string
			Properties map[string]any
		}
		Outputs map[string]struct{ Value any }
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	bucketID := *s.Stack.GetLogicalId(s.DataBucket.Node().DefaultChild().(awscdk.CfnElement))
	roleID := *s.Stack.GetLogicalId(s.GlueRole.Node().DefaultChild().(awscdk.CfnElement))
	text := func(v any) string { b, _ := json.Marshal(v); return string(b) }

	// No bucket is versioned but the team's: the lake made none of its own
	// (the Athena results and access-log buckets are not versioned).
	for rid, r := range doc.Resources {
		if r.Type == "AWS::S3::Bucket" && rid != bucketID && r.Properties["VersioningConfiguration"] != nil {
			t.Errorf("the lake made a bucket of its own: %s", rid)
		}
	}
	var job map[string]any
	for _, r := range doc.Resources {
		if r.Type == "AWS::Glue::Job" {
			job = r.Properties
		}
	}
	if got := text(job["Role"]); got != `{"Fn::GetAtt":["`+roleID+`","Arn"]}` {
		t.Errorf("the import job runs as %s, not the team's role %s", got, roleID)
	}
	if n := strings.Count(text(doc.Resources), `"glue.amazonaws.com"`); n < 1 {
		t.Errorf("no role trusts Glue")
	}
	for rid, r := range doc.Resources {
		if r.Type == "AWS::IAM::Role" && rid != roleID && strings.Contains(text(r.Properties["AssumeRolePolicyDocument"]), `"Service":"glue.amazonaws.com"`) &&
			!strings.Contains(text(r.Properties["AssumeRolePolicyDocument"]), "lakeformation.amazonaws.com") {
			t.Errorf("the lake made a job role of its own: %s", rid)
		}
	}

	// The team's role may read and write the lake prefix of the team's
	// bucket, and the team's bucket refuses plain HTTP.
	prefixGrant, tls := false, false
	for _, r := range doc.Resources {
		props := text(r.Properties)
		switch r.Type {
		case "AWS::IAM::Policy":
			if strings.Contains(text(r.Properties["Roles"]), `"Ref":"`+roleID+`"`) && strings.Contains(props, `"Sid":"ReadWriteLakePrefix"`) &&
				strings.Contains(props, bucketID) && strings.Contains(props, "/"+cfg.Lake.Prefix+"*") {
				prefixGrant = true
			}
		case "AWS::S3::BucketPolicy":
			if strings.Contains(text(r.Properties["Bucket"]), bucketID) && strings.Contains(props, `"aws:SecureTransport":"false"`) {
				tls = true
			}
		}
	}
	if !prefixGrant {
		t.Error("the team's role got no read-write statement on the lake prefix of the team's bucket")
	}
	if !tls {
		t.Error("the team's bucket does not refuse plain HTTP")
	}

	// The steps name the team's bucket and role.
	steps := s.Lake.Steps()
	registerEnv := doc.Resources[*s.Stack.GetLogicalId(steps[stepcontract.RegisterLocation].Function().Node().DefaultChild().(awscdk.CfnElement))].Properties["Environment"]
	if env := text(registerEnv); !strings.Contains(env, bucketID) || !strings.Contains(env, `"`+stepcontract.EnvWorkflowRoleARN+`":{"Fn::GetAtt":["`+roleID+`","Arn"]}`) {
		t.Errorf("register-location's environment does not name the team's bucket and role: %s", env)
	}

	// The stack-delete cleanup revokes the grants of the lake's own roles
	// only: the team's role outlives the lake.
	for _, r := range doc.Resources {
		if r.Type == "Custom::LakeFormationCleanup" && strings.Contains(text(r.Properties), roleID) {
			t.Errorf("the cleanup would revoke the team's role's grants: %s", text(r.Properties))
		}
	}

	// The outputs keep the keys the CLI reads, whatever the construct path.
	for _, key := range []string{"LakeBucketName", "StateMachineArn", "ImportWorkflowName", "WorkflowRoleArn"} {
		if _, ok := doc.Outputs[key]; !ok {
			t.Errorf("no output %s (outputs: %v)", key, doc.Outputs)
		}
	}
	if got := text(doc.Outputs["LakeBucketName"].Value); got != `{"Ref":"`+bucketID+`"}` {
		t.Errorf("LakeBucketName output %s, want the team's bucket", got)
	}

	// cdk-nag finds nothing unsuppressed in the lake's part of the stack.
	ann := assertions.Annotations_FromStack(s.Stack)
	for _, m := range *ann.FindError(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*"))) {
		if strings.HasPrefix(*m.Id, "/TeamAnalytics/Lakeforge/") {
			t.Errorf("cdk-nag at %s: %v", *m.Id, m.Entry.Data)
		}
	}
}
