package cli

// The tests run the CLI against the moto server (CloudFormation, S3,
// Glue, Lake Formation, IAM, Scheduler, EC2, Secrets Manager) and against
// real executions of statemachine/pipeline.asl.json by
// aws-local-stepfunctions behind pkg/internal/localsfn (moto's Step
// Functions does not execute definitions). The CLI's clients are the
// production ones (DefaultClients), pointed at both through
// AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_SFN.

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/lakeforge/lakeforge/internal/motoserver"
	"github.com/lakeforge/lakeforge/pkg/internal/localsfn"
	"github.com/lakeforge/lakeforge/pkg/stepcontract"
	"github.com/lakeforge/lakeforge/statemachine"
)

func TestMain(m *testing.M) { motoserver.Main(m) }

const (
	testStack        = "lakeforge"
	testStateMachine = "arn:aws:states:us-east-1:123456789012:stateMachine:lakeforge-pipeline"
	testBucket       = "lakeforge-lakebucket-test"
	testWorkflow     = "lakeforge-import"
	testWorkflowRole = "arn:aws:iam::123456789012:role/lakeforge-workflow"
	testAnalystRole  = "arn:aws:iam::123456789012:role/lakeforge-analyst"
	testAdminRole    = "arn:aws:iam::123456789012:role/lakeforge-admin"
)

// substituted is the pipeline with every placeholder replaced by an ARN
// of the right shape, as DefinitionSubstitutions does at deploy time.
func substituted() string {
	out := statemachine.Pipeline
	for _, p := range statemachine.Placeholders(out) {
		arn := "arn:aws:lambda:us-east-1:123456789012:function:lakeforge-" + strings.TrimSuffix(p, "FunctionArn")
		if p == statemachine.TopicPlaceholder {
			arn = "arn:aws:sns:us-east-1:123456789012:lakeforge-failures"
		}
		out = strings.ReplaceAll(out, "${"+p+"}", arn)
	}
	return out
}

// fixture is one fake account with a deployed stack.
type fixture struct {
	t    *testing.T
	moto *motoserver.Server
	sfn  *localsfn.Server
	dir  string // holds cdk.json
	ctx  context.Context
	// wrap, when set, adjusts the production clients (where moto differs
	// from AWS; each use says why).
	wrap func(*Clients)
}

// newFixture resets moto, creates the stack (outputs only) and starts the
// local Step Functions with task answers from task.
func newFixture(t *testing.T, task localsfn.TaskFunc) *fixture {
	t.Helper()
	srv := motoserver.Current(t)
	srv.Reset(t)
	f := &fixture{t: t, moto: srv, dir: t.TempDir(), ctx: motoserver.Context(t)}
	zero := 0
	if task != nil {
		sfn, err := localsfn.Start(localsfn.Options{Definition: substituted(), StateMachineArn: testStateMachine, Task: task, WaitMillis: &zero, RetryMillis: &zero,
			CallbackTimeout: 30 * time.Second}) // a release that never comes fails the run
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(sfn.Close)
		f.sfn = sfn
		t.Setenv("AWS_ENDPOINT_URL_SFN", sfn.URL)
	}
	home := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL":            srv.URL,
		"AWS_ACCESS_KEY_ID":           "testing",
		"AWS_SECRET_ACCESS_KEY":       "testing",
		"AWS_REGION":                  motoserver.Region,
		"AWS_PROFILE":                 "",
		"AWS_CONFIG_FILE":             filepath.Join(home, "config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(home, "credentials"),
		"AWS_EC2_METADATA_DISABLED":   "true",
	} {
		t.Setenv(k, v)
	}
	f.writeConfig(nil)
	return f
}

// writeConfig writes cdk.json: the repository's, with edit applied to its
// lakeforge context.
func (f *fixture) writeConfig(edit func(map[string]any)) {
	raw, err := os.ReadFile(filepath.Join(localsfn.RepoRoot(), "cdk.json"))
	if err != nil {
		f.t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		f.t.Fatal(err)
	}
	lfc := doc["context"].(map[string]any)["lakeforge"].(map[string]any)
	if edit != nil {
		edit(lfc)
	}
	out, _ := json.MarshalIndent(doc, "", "  ")
	if err := os.WriteFile(filepath.Join(f.dir, "cdk.json"), out, 0o644); err != nil {
		f.t.Fatal(err)
	}
}

// deployStack creates the stack on moto with the outputs the CLI reads
// (infra/stack/outputs.go) and the lake bucket.
func (f *fixture) deployStack() {
	f.t.Helper()
	outputs := map[string]any{}
	for k, v := range map[string]string{
		stepcontract.OutputStateMachineArn: testStateMachine, stepcontract.OutputLakeBucketName: testBucket, stepcontract.OutputWorkflowName: testWorkflow,
		stepcontract.OutputConnectionName: "lakeforge-source", stepcontract.OutputWorkflowRoleArn: testWorkflowRole,
		stepcontract.OutputAnalystRoleArn: testAnalystRole, stepcontract.OutputAdminRoleArn: testAdminRole,
	} {
		outputs[k] = map[string]any{"Value": v}
	}
	tpl, _ := json.Marshal(map[string]any{
		"Resources": map[string]any{"Topic": map[string]any{"Type": "AWS::SNS::Topic"}},
		"Outputs":   outputs,
	})
	cfg := f.moto.Config()
	_, err := cloudformation.NewFromConfig(cfg).CreateStack(f.ctx, &cloudformation.CreateStackInput{StackName: aws.String(testStack), TemplateBody: aws.String(string(tpl))})
	if err != nil {
		f.t.Fatal(err)
	}
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := s3c.CreateBucket(f.ctx, &s3.CreateBucketInput{Bucket: aws.String(testBucket)}); err != nil {
		f.t.Fatal(err)
	}
}

// putManifest writes the import job's manifest for a run (pkg/verify's
// layout: <prefix>_lakeforge_runs/<runId>/manifest.json).
// testChecksum is the proof checksum of every table in putManifest's manifests.
const testChecksum = "2149056871854709602"

func (f *fixture) putManifest(runID string, tables map[string][2]int64) {
	f.t.Helper()
	type tbl struct {
		Name        string         `json:"name"`
		SourceTable string         `json:"sourceTable"`
		Path        string         `json:"path"`
		Mode        string         `json:"mode"`
		RowsWritten int64          `json:"rowsWritten"`
		RowsTotal   int64          `json:"rowsTotal"`
		Proof       map[string]any `json:"proof"`
	}
	var list []tbl
	for name, rows := range tables {
		// The job's proof before publish, as infra/glue/import_job.py writes it.
		proof := map[string]any{"scope": "every row", "columns": []string{"id"}, "sourceRows": rows[1], "sourceChecksum": testChecksum,
			"lakeRows": rows[1], "lakeChecksum": testChecksum}
		list = append(list, tbl{Name: name, SourceTable: "public." + name, Path: "s3://" + testBucket + "/lake/" + name + "/", Mode: "snapshot",
			RowsWritten: rows[0], RowsTotal: rows[1], Proof: proof})
	}
	body, _ := json.Marshal(map[string]any{"workflowName": testWorkflow, "runId": runID, "mode": "snapshot", "tables": list})
	s3c := s3.NewFromConfig(f.moto.Config(), func(o *s3.Options) { o.UsePathStyle = true })
	_, err := s3c.PutObject(f.ctx, &s3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String("lake/_lakeforge_runs/" + runID + "/manifest.json"), Body: bytes.NewReader(body)})
	if err != nil {
		f.t.Fatal(err)
	}
}

// cli runs one command line in-process and returns stdout, stderr, status.
func (f *fixture) cli(args ...string) (string, string, int) {
	f.t.Helper()
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute) // a hang bound, not a speed goal
	defer cancel()
	args = append([]string{"--cdk-json", filepath.Join(f.dir, "cdk.json")}, args...)
	clients := func(ctx context.Context, o AWSOptions) (*Clients, error) {
		c, err := DefaultClients(ctx, o)
		if err == nil && f.wrap != nil {
			f.wrap(c)
		}
		return c, err
	}
	code := Main(ctx, args, Env{Stdout: &out, Stderr: &errb, Clients: clients, PollInterval: 20 * time.Millisecond})
	return out.String(), errb.String(), code
}
