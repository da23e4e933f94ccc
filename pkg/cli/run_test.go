package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	gluetypes "github.com/aws/aws-sdk-go-v2/service/glue/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/lakeforge/lakeforge/pkg/internal/localsfn"
	"github.com/lakeforge/lakeforge/pkg/steperr"
)

// pipelineTasks answers the pipeline's Task states the way the step
// Lambdas do (their output shapes: pkg/importrun.State, pkg/verify.Output).
// failAt makes that state return failErr instead.
type pipelineTasks struct {
	mu       sync.Mutex
	runID    func() string
	failAt   string
	failErr  error
	importMs int // how long the import takes
	// releaseErr is SendTaskSuccess's error, if it failed.
	releaseErr error
}

func (p *pipelineTasks) answer(state string, input json.RawMessage) (any, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if state == p.failAt {
		return nil, p.failErr
	}
	switch {
	case state == "VerifyQuery":
		var in struct {
			RunID string `json:"runId"`
		}
		_ = json.Unmarshal(input, &in)
		return map[string]any{"runId": in.RunID, "verified": 2}, nil
	case state == "StartImport":
		// As in the pipeline: the function gets the task token, and the
		// wait ends when import-events calls SendTaskSuccess with the run
		// (pkg/importrun.Run), here after the import's duration, on the
		// local Step Functions' own API.
		var in struct {
			Payload struct {
				TaskToken string `json:"taskToken"`
			} `json:"Payload"`
		}
		if err := json.Unmarshal(input, &in); err != nil || in.Payload.TaskToken == "" {
			return nil, fmt.Errorf("StartImport input %s has no Payload.taskToken", input)
		}
		out, _ := json.Marshal(map[string]any{"workflowName": testWorkflow, "runId": p.runID(), "status": "COMPLETED", "completed": true, "releasedBy": "event"})
		endpoint, wait := os.Getenv("AWS_ENDPOINT_URL_SFN"), time.Duration(p.importMs)*time.Millisecond
		go func() {
			time.Sleep(wait)
			c := sfn.New(sfn.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint), Credentials: credentials.NewStaticCredentialsProvider("testing", "testing", "")})
			if _, err := c.SendTaskSuccess(context.Background(), &sfn.SendTaskSuccessInput{TaskToken: aws.String(in.Payload.TaskToken), Output: aws.String(string(out))}); err != nil {
				p.mu.Lock()
				p.releaseErr = err
				p.mu.Unlock()
			}
		}()
		return localsfn.AwaitCallback, nil
	}
	return map[string]any{"step": state, "changes": []string{}}, nil
}

// startWorkflowRun makes a real workflow run on moto for the progress
// display to read.
func (f *fixture) startWorkflowRun() string {
	f.t.Helper()
	g := glue.NewFromConfig(f.moto.Config())
	if _, err := g.CreateWorkflow(f.ctx, &glue.CreateWorkflowInput{Name: aws.String(testWorkflow)}); err != nil {
		var exists *gluetypes.AlreadyExistsException
		if !errors.As(err, &exists) {
			f.t.Fatal(err)
		}
	}
	out, err := g.StartWorkflowRun(f.ctx, &glue.StartWorkflowRunInput{Name: aws.String(testWorkflow)})
	if err != nil {
		f.t.Fatal(err)
	}
	return aws.ToString(out.RunId)
}

// The states of a successful run of the ASL, in the order the
// specification (DESIGN.md, "The daily pipeline") gives them.
var successOrder = []string{"ConfigureLakeFormation", "EnsureLFTags", "RegisterLocation", "EnsureDatabase",
	"GrantTagPermissions", "TestConnection", "StartImport", "TagOutput", "VerifyQuery"}

func TestRunFollowShowsEachStateImportProgressAndSummary(t *testing.T) {
	tasks := &pipelineTasks{importMs: 300}
	f := newFixture(t, tasks.answer)
	f.deployStack()
	runID := f.startWorkflowRun()
	tasks.runID = func() string { return runID }
	f.putManifest(runID, map[string][2]int64{"products": {100, 100}, "orders": {42, 1042}})

	out, errOut, code := f.cli("run", "--follow")
	tasks.mu.Lock()
	if tasks.releaseErr != nil {
		t.Errorf("SendTaskSuccess for StartImport's token: %v", tasks.releaseErr)
	}
	tasks.mu.Unlock()
	if code != ExitOK {
		t.Fatalf("exit %d, want 0\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	// State by state, in order, each with its elapsed time.
	pos := 0
	for _, s := range successOrder {
		re := regexp.MustCompile(`(?m)^` + s + ` done in [0-9.]+(ms|µs|s)$`)
		loc := re.FindStringIndex(out[pos:])
		if loc == nil {
			t.Fatalf("no %q line after offset %d:\n%s", s+" done in <elapsed>", pos, out)
		}
		pos += loc[1]
	}
	if !strings.Contains(out, "import run "+ShortID(runID)+": running") {
		t.Errorf("no import progress line for run %s:\n%s", runID, out)
	}
	for _, want := range []string{"SUCCEEDED in", "rows per table (import run " + ShortID(runID) + ")", "products", "orders", "1042 in the lake", "cost estimate: $"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	// Plain lines only when piped: no cursor movement.
	if strings.Contains(out, "\x1b[") || strings.Contains(out, "\r") {
		t.Errorf("piped output has terminal control sequences:\n%q", out)
	}
	// The cost counts one transition per state entered (Step Functions
	// bills each), and the plain output prints one "started" line per state.
	started := strings.Count(out, " started\n")
	if !strings.Contains(out, fmt.Sprintf("Step Functions, %d state transitions", started)) {
		t.Errorf("cost estimate is not based on the %d states entered:\n%s", started, out)
	}
}

func TestRunFollowFailureNamesStateCauseAndFix(t *testing.T) {
	tasks := &pipelineTasks{failAt: "EnsureDatabase", failErr: &steperr.PermanentError{
		Op: "glue:CreateDatabase", Err: errors.New("AccessDeniedException: not authorized"), Fix: "give the role glue:CreateDatabase and redeploy"}}
	f := newFixture(t, tasks.answer)
	f.deployStack()
	tasks.runID = func() string { return "" }

	out, errOut, code := f.cli("run", "--follow", "--output", "json")
	if code != ExitProblem {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, ExitProblem, out, errOut)
	}
	var sum RunSummary
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatalf("--output json is not JSON: %v\n%s", err, out)
	}
	if sum.Status != "FAILED" || sum.Failure == nil {
		t.Fatalf("summary %+v, want FAILED with a failure", sum)
	}
	want := Failure{State: "EnsureDatabase", Error: "PermanentError",
		Message: "glue:CreateDatabase: AccessDeniedException: not authorized. Fix: give the role glue:CreateDatabase and redeploy",
		Fix:     "give the role glue:CreateDatabase and redeploy"}
	if *sum.Failure != want {
		t.Errorf("failure\n got %+v\nwant %+v", *sum.Failure, want)
	}
	// Progress went to stderr, so stdout stays one JSON document.
	if !strings.Contains(errOut, "EnsureDatabase failed in") {
		t.Errorf("stderr lacks the failed state's line:\n%s", errOut)
	}
}

func TestRunWithoutFollowPrintsTheExecution(t *testing.T) {
	tasks := &pipelineTasks{runID: func() string { return "wr_1" }}
	f := newFixture(t, tasks.answer)
	f.deployStack()
	out, errOut, code := f.cli("run", "--name", "manual-1")
	if code != ExitOK || !strings.Contains(out, "started arn:aws:states:us-east-1:123456789012:execution:lakeforge-pipeline:manual-1") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	if err := f.sfn.Wait(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	// The same name again: Step Functions refuses it; the CLI says why.
	_, errOut, code = f.cli("run", "--name", "manual-1")
	if code != ExitAWS || !strings.Contains(errOut, "ExecutionAlreadyExists") {
		t.Errorf("exit %d, stderr %s; want %d naming ExecutionAlreadyExists", code, errOut, ExitAWS)
	}
}

func TestCommandsNameTheFixWhenTheStackIsMissing(t *testing.T) {
	f := newFixture(t, nil)
	for _, cmd := range []string{"run", "status"} {
		_, errOut, code := f.cli(cmd)
		if code != ExitAWS {
			t.Errorf("%s: exit %d, want %d", cmd, code, ExitAWS)
		}
		if !strings.Contains(errOut, "stack lakeforge does not exist in us-east-1") || !strings.Contains(errOut, "Fix: deploy it with `make deploy`") {
			t.Errorf("%s: stderr %q does not name the missing stack and the fix", cmd, errOut)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	f := newFixture(t, nil)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"status", "--output", "yaml"}, `--output "yaml": Fix: use --output text or --output json`},
		{[]string{"status", "-n", "0"}, "-n 0: Fix: use a number from 1 to 100"},
		{[]string{"status", "extra"}, `unexpected argument "extra"`},
	} {
		_, errOut, code := f.cli(tc.args...)
		if code != ExitUsage || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, code, errOut, ExitUsage, tc.want)
		}
	}
	// A broken cdk.json is a usage error naming the file's fix.
	f.writeConfig(func(c map[string]any) { c["stackName"] = "" })
	_, errOut, code := f.cli("doctor")
	if code != ExitUsage || !strings.Contains(errOut, "stackName") || !strings.Contains(errOut, "lakeforge.stackName") || !strings.Contains(errOut, "Fix: correct the \"lakeforge\" configuration") {
		t.Errorf("bad cdk.json: exit %d, stderr %q", code, errOut)
	}
}

// The CLI's configuration follows pkg/config's rules (issue 13): a key
// that differs only in case, and a duplicate key, are errors at their path.
func TestConfigurationRulesApplyToTheCLI(t *testing.T) {
	f := newFixture(t, nil)
	raw, err := os.ReadFile(filepath.Join(f.dir, "cdk.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, old, new, want string }{
		{"case variant", `"stackName": "lakeforge"`, `"stackname": "lakeforge"`, "stackname"},
		{"duplicate key", `"stackName": "lakeforge"`, `"stackName": "lakeforge", "stackName": "other"`, "stackName"},
	} {
		bad := strings.Replace(string(raw), tc.old, tc.new, 1)
		if bad == string(raw) {
			t.Fatalf("%s: cdk.json has no %s", tc.name, tc.old)
		}
		if err := os.WriteFile(filepath.Join(f.dir, "cdk.json"), []byte(bad), 0o644); err != nil {
			t.Fatal(err)
		}
		_, errOut, code := f.cli("status")
		if code != ExitUsage || !strings.Contains(errOut, tc.want) {
			t.Errorf("%s: exit %d, stderr %q", tc.name, code, errOut)
		}
	}
	// --config takes the lakeforge object alone, as make deploy CONFIG= does.
	file := filepath.Join(f.dir, "lakeforge.json")
	var doc struct {
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	obj := doc.Context["lakeforge"].(map[string]any)
	obj["stackName"] = "other-stack"
	b, _ := json.Marshal(obj)
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := f.cli("--config", file, "status")
	if code != ExitAWS || !strings.Contains(errOut, "stack other-stack does not exist") {
		t.Errorf("--config: exit %d, stderr %q", code, errOut)
	}
}
