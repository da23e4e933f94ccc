package stack

import (
	"encoding/json"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
)

// retained lists "Type logicalId" of the resources CloudFormation keeps
// when the stack is deleted.
func (s synthesized) retained() []string {
	var out []string
	for id, r := range s.JSON["Resources"].(map[string]any) {
		res := r.(map[string]any)
		if res["DeletionPolicy"] == "Retain" || res["DeletionPolicy"] == "RetainExceptOnCreate" {
			out = append(out, res["Type"].(string)+" "+id)
		}
	}
	sort.Strings(out)
	return out
}

// What `make destroy` keeps is a decision: the lake bucket with the data,
// the access-log bucket and the KMS key (which encrypted Glue's logs and
// bookmarks), nothing else. Their bucket policies go with the stack.
func TestDestroyKeepsTheLakeTheAccessLogsAndTheKeyOnly(t *testing.T) {
	st := synth(t, shippedConfig(t))
	want := []string{
		"AWS::KMS::Key " + logicalID(st.Stack.Lake.Storage.Key),
		"AWS::S3::Bucket " + logicalID(st.Stack.Lake.Storage.AccessLogsBucket),
		"AWS::S3::Bucket " + logicalID(st.Stack.Lake.Storage.LakeBucket),
	}
	sort.Strings(want)
	if got := st.retained(); !slices.Equal(got, want) {
		t.Fatalf("retained on destroy:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for id, p := range st.resources("AWS::S3::BucketPolicy") {
		if p["DeletionPolicy"] == "Retain" {
			t.Errorf("bucket policy %s is kept on destroy", id)
		}
	}
	lake := st.resource(t, logicalID(st.Stack.Lake.Storage.LakeBucket))
	if lake["UpdateReplacePolicy"] != "Retain" {
		t.Errorf("lake bucket UpdateReplacePolicy = %v", lake["UpdateReplacePolicy"])
	}
	// The results bucket is emptied and deleted.
	results := st.resource(t, logicalID(st.Stack.Lake.Storage.ResultsBucket))
	if results["DeletionPolicy"] != "Delete" || len(st.resources("Custom::S3AutoDeleteObjects")) != 1 {
		t.Errorf("results bucket: DeletionPolicy %v, auto-delete resources %d", results["DeletionPolicy"], len(st.resources("Custom::S3AutoDeleteObjects")))
	}
}

// A named lake bucket is created with its name (and a second deployment
// after destroy would collide with the kept one: lake.existingBucketName
// is the way back, tested below).
func TestNamedLakeBucketIsCreatedWithItsName(t *testing.T) {
	cfg := shippedConfig(t)
	cfg.Lake.BucketName = "kthr01-lake-example"
	st := synth(t, cfg)
	lake := st.resource(t, logicalID(st.Stack.Lake.Storage.LakeBucket))
	if got := dig(lake, "Properties", "BucketName"); got != "kthr01-lake-example" {
		t.Fatalf("BucketName = %v", got)
	}
	if lake["DeletionPolicy"] != "Retain" {
		t.Fatalf("DeletionPolicy = %v", lake["DeletionPolicy"])
	}
}

// Destroy, then deploy with lake.existingBucketName: the stack creates no
// lake bucket, points everything at the kept one (so the database that
// EnsureDatabase made before still matches), applies its TLS-only policy
// through a BucketPolicy, and destroying it again leaves the bucket alone.
func TestRedeployAdoptsTheKeptLakeBucket(t *testing.T) {
	const kept = "lakeforge-lakebucket9cd7bbd2-a1b2c3d4e5f6"
	cfg := shippedConfig(t)
	cfg.Lake.ExistingBucketName = kept
	st := synth(t, cfg)

	buckets := st.resources("AWS::S3::Bucket")
	if len(buckets) != 2 {
		t.Fatalf("%d buckets; want only the results and access-log buckets", len(buckets))
	}
	for id, b := range buckets {
		if strings.HasPrefix(id, "LakeBucket") || dig(b, "Properties", "BucketName") == kept {
			t.Fatalf("the adopted bucket is a resource of the stack: %s", id)
		}
	}
	want := []string{
		"AWS::KMS::Key " + logicalID(st.Stack.Lake.Storage.Key),
		"AWS::S3::Bucket " + logicalID(st.Stack.Lake.Storage.AccessLogsBucket),
	}
	if got := st.retained(); !slices.Equal(got, want) {
		t.Fatalf("retained: %v, want %v", got, want)
	}

	var policy map[string]any
	for _, p := range st.resources("AWS::S3::BucketPolicy") {
		if dig(p, "Properties", "Bucket") == kept {
			policy = p
		}
	}
	if policy == nil {
		t.Fatalf("no bucket policy on %s", kept)
	}
	stmts := parseStatements(dig(policy, "Properties", "PolicyDocument"))
	if len(stmts) != 1 || stmts[0].Effect != "Deny" || !strings.Contains(stmts[0].raw, `"aws:SecureTransport":"false"`) || !slices.Contains(stmts[0].Actions, "s3:*") {
		t.Fatalf("bucket policy does not refuse plain HTTP: %+v", stmts)
	}
	if res := strings.Join(stmts[0].Resources, " "); !strings.Contains(res, ":s3:::"+kept+`"`) || !strings.Contains(res, ":s3:::"+kept+`/*"`) {
		t.Fatalf("bucket policy resources = %s", res)
	}

	tpl, _ := json.Marshal(st.JSON)
	for _, want := range []string{
		`"s3://` + kept + `/lake"`,  // the database and registered location
		`:s3:::` + kept + `/lake/*`, // the workflow role's objects
	} {
		if !strings.Contains(string(tpl), want) {
			t.Errorf("template does not contain %s", want)
		}
	}
	out := dig(st.JSON, "Outputs", "LakeBucketName", "Value")
	if out != kept {
		t.Errorf("LakeBucketName output = %v", out)
	}

	ann := assertions.Annotations_FromStack(st.Stack.Stack)
	msg := assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*"))
	for _, found := range []any{ann.FindError(jsii.String("*"), msg), ann.FindWarning(jsii.String("*"), msg)} {
		raw, _ := json.Marshal(found)
		if string(raw) != "[]" {
			t.Errorf("unsuppressed cdk-nag findings with an adopted bucket: %s", raw)
		}
	}
}

// nameLimits are AWS's limits on the names lakeforge gives resources, from
// the API and CloudFormation references: a resource type and name property
// missing here is a new derived name whose limit must be added to
// config.derivedNames first.
var nameLimits = map[string]int{
	"AWS::Scheduler::Schedule Name":                     64,
	"AWS::StepFunctions::StateMachine StateMachineName": 80,
	"AWS::Glue::Workflow Name":                          255,
	"AWS::Glue::Trigger Name":                           255,
	"AWS::Glue::Trigger WorkflowName":                   255,
	"AWS::Glue::Job Name":                               255,
	"AWS::Glue::SecurityConfiguration Name":             255,
	"AWS::Glue::Connection ConnectionInput.Name":        255,
	"AWS::Logs::LogGroup LogGroupName":                  512,
	"AWS::CloudWatch::Dashboard DashboardName":          255,
}

// With the longest stackName the configuration accepts, every name derived
// from it fits its AWS limit.
func TestLongestStackNameFitsEveryDerivedName(t *testing.T) {
	cfg := shippedConfig(t)
	cfg.StackName = "L" + strings.Repeat("f", 57) // config's bound: 64 - len("-daily")
	if err := cfg.Validate(); err != nil {
		t.Fatalf("the longest stackName is refused: %v", err)
	}
	st := synth(t, cfg)
	if n := len(*st.Stack.StackName()); n > 128 {
		t.Fatalf("stack name of %d characters", n)
	}
	stem := strings.ToLower(cfg.StackName)
	checked := 0
	for id, r := range st.JSON["Resources"].(map[string]any) {
		res := r.(map[string]any)
		props, _ := res["Properties"].(map[string]any)
		for key, v := range props {
			names := map[string]any{key: v}
			if key == "ConnectionInput" {
				names = map[string]any{"ConnectionInput.Name": dig(props, "ConnectionInput", "Name")}
			}
			for k, val := range names {
				s, ok := val.(string)
				if !ok || !strings.HasSuffix(k, "Name") || !strings.Contains(strings.ToLower(s), stem) {
					continue
				}
				limit, known := nameLimits[res["Type"].(string)+" "+k]
				if !known {
					t.Errorf("%s (%s) %s = %q derives from stackName but has no known AWS limit", id, res["Type"], k, s)
					continue
				}
				checked++
				if len(s) > limit {
					t.Errorf("%s %s = %q: %d characters, AWS allows %d", res["Type"], k, s, len(s), limit)
				}
			}
		}
	}
	if checked < 8 {
		t.Fatalf("only %d derived names found in the template", checked)
	}
}
