package firstrun

// The first run at deploy against moto: the real DescribeStacks request for
// the event's stack and the real StartExecution on a state machine.
// moto 5.2.5 completes a stack at once, so a stack there is never
// CREATE_IN_PROGRESS, UPDATE_IN_PROGRESS or UPDATE_ROLLBACK_IN_PROGRESS:
// the request goes to moto (for a stack it created) and only the status of
// its answer is replaced by the one the case is about (docs/aws-behaviour.md).

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cftypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/lakeforge/lakeforge/internal/motoserver"
	"github.com/lakeforge/lakeforge/pkg/internal/awscalls"
	"github.com/lakeforge/lakeforge/pkg/steperr"
)

func TestMain(m *testing.M) { motoserver.Main(m) }

// statusAs is moto's CloudFormation client with the answer's status
// replaced (see the file comment); it records the stack asked for.
type statusAs struct {
	*cloudformation.Client
	status  cftypes.StackStatus
	fail    error
	askedOf []string
}

func (s *statusAs) DescribeStacks(ctx context.Context, in *cloudformation.DescribeStacksInput, opts ...func(*cloudformation.Options)) (*cloudformation.DescribeStacksOutput, error) {
	s.askedOf = append(s.askedOf, aws.ToString(in.StackName))
	if s.fail != nil {
		return nil, s.fail
	}
	out, err := s.Client.DescribeStacks(ctx, in, opts...)
	if err != nil {
		return nil, err
	}
	for i := range out.Stacks {
		out.Stacks[i].StackStatus = s.status
	}
	return out, nil
}

type fixture struct {
	rec      *awscalls.Recorder
	stacks   *statusAs
	sfn      *sfn.Client
	machine  string
	stackID  string
	handler  *FirstRun
	logs     *bytes.Buffer
	previous string // the input of the deploy before
}

const input = `{"trigger":"deploy","pipelineDigest":"0123456789abcdef"}`

func newFixture(t *testing.T) *fixture {
	t.Helper()
	srv := motoserver.Current(t)
	srv.Reset(t)
	ctx := motoserver.Context(t)
	setup := srv.Config()
	role, err := iam.NewFromConfig(setup).CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("pipeline"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"states.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	sm, err := sfn.NewFromConfig(setup).CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("lakeforge-pipeline"), RoleArn: role.Role.Arn,
		Definition: aws.String(`{"StartAt":"Done","States":{"Done":{"Type":"Succeed"}}}`)})
	if err != nil {
		t.Fatal(err)
	}
	stack, err := cloudformation.NewFromConfig(setup).CreateStack(ctx, &cloudformation.CreateStackInput{StackName: aws.String("lakeforge"),
		TemplateBody: aws.String(`{"Resources":{"Topic":{"Type":"AWS::SNS::Topic"}}}`)})
	if err != nil {
		t.Fatal(err)
	}
	rec := &awscalls.Recorder{}
	cfg := rec.Attach(srv.Config())
	f := &fixture{rec: rec, stacks: &statusAs{Client: cloudformation.NewFromConfig(cfg)}, sfn: sfn.NewFromConfig(setup),
		machine: aws.ToString(sm.StateMachineArn), stackID: aws.ToString(stack.StackId), logs: &bytes.Buffer{},
		previous: `{"trigger":"deploy","pipelineDigest":"fedcba9876543210"}`}
	f.handler = &FirstRun{Stacks: f.stacks, SFN: sfn.NewFromConfig(cfg), Log: slog.New(slog.NewJSONHandler(f.logs, nil))}
	return f
}

func (f *fixture) event(kind cfn.RequestType) cfn.Event {
	ev := cfn.Event{RequestType: kind, StackID: f.stackID, LogicalResourceID: "FirstRunAtDeploy", ResourceType: "Custom::LakeforgeFirstRun",
		ResourceProperties: map[string]any{"ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:first-run", StateMachineProperty: f.machine, InputProperty: input}}
	if kind != cfn.RequestCreate {
		ev.PhysicalResourceID = PhysicalID
	}
	if kind == cfn.RequestUpdate {
		ev.OldResourceProperties = map[string]any{StateMachineProperty: f.machine, InputProperty: f.previous}
	}
	return ev
}

// executions lists the inputs of the state machine's executions on moto.
func (f *fixture) executions(t *testing.T) []string {
	t.Helper()
	out, err := f.sfn.ListExecutions(motoserver.Context(t), &sfn.ListExecutionsInput{StateMachineArn: aws.String(f.machine)})
	if err != nil {
		t.Fatal(err)
	}
	var inputs []string
	for _, e := range out.Executions {
		d, err := f.sfn.DescribeExecution(motoserver.Context(t), &sfn.DescribeExecutionInput{ExecutionArn: e.ExecutionArn})
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, aws.ToString(d.Input))
	}
	return inputs
}

// A deploy going forward (create, or an update that changed the digest)
// starts one execution with the resource's input, after asking for the
// event's own stack.
func TestForwardDeployStartsOneExecution(t *testing.T) {
	for _, c := range []struct {
		kind   cfn.RequestType
		status cftypes.StackStatus
	}{{cfn.RequestCreate, cftypes.StackStatusCreateInProgress}, {cfn.RequestUpdate, cftypes.StackStatusUpdateInProgress}} {
		t.Run(string(c.kind), func(t *testing.T) {
			f := newFixture(t)
			f.stacks.status = c.status
			id, data, err := f.handler.Handler(motoserver.Context(t), f.event(c.kind))
			if err != nil {
				t.Fatal(err)
			}
			if id != PhysicalID || data["Started"] != "true" || !strings.HasPrefix(data["ExecutionArn"].(string), "arn:aws:states:") {
				t.Fatalf("id %q data %v", id, data)
			}
			if got := f.executions(t); len(got) != 1 || got[0] != input {
				t.Fatalf("executions %q, want one with %s", got, input)
			}
			if len(f.stacks.askedOf) != 1 || f.stacks.askedOf[0] != f.stackID {
				t.Fatalf("asked for stacks %v, want the event's %s", f.stacks.askedOf, f.stackID)
			}
		})
	}
}

// A failed update's rollback sends the previous properties as an Update
// while the stack is UPDATE_ROLLBACK_IN_PROGRESS: nothing starts, the
// resource answers SUCCESS (so the rollback completes) and says why. The
// same for any status but a forward deploy, and when the status cannot be
// read.
func TestRollbackUpdateStartsNothing(t *testing.T) {
	for _, c := range []struct {
		name   string
		status cftypes.StackStatus
		fail   error
		reason string
	}{
		{"update rollback", cftypes.StackStatusUpdateRollbackInProgress, nil, "UPDATE_ROLLBACK_IN_PROGRESS"},
		{"cleanup", cftypes.StackStatusUpdateCompleteCleanupInProgress, nil, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"},
		{"status unknown", "", errors.New("AccessDenied: not authorized to perform cloudformation:DescribeStacks"), "could not be read"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			f.stacks.status, f.stacks.fail = c.status, c.fail
			ev := f.event(cfn.RequestUpdate)
			// The rollback's event: the previous input is now the new one.
			ev.ResourceProperties[InputProperty], ev.OldResourceProperties[InputProperty] = f.previous, input
			id, data, err := f.handler.Handler(motoserver.Context(t), ev)
			if err != nil {
				t.Fatalf("the rollback must complete: %v", err)
			}
			if id != PhysicalID || data["Started"] != "false" || !strings.Contains(data["Reason"].(string), c.reason) {
				t.Fatalf("id %q data %v", id, data)
			}
			if got := f.executions(t); len(got) != 0 {
				t.Fatalf("executions %q started during %s", got, c.name)
			}
			if !strings.Contains(f.logs.String(), c.reason) {
				t.Errorf("the log does not say why nothing started:\n%s", f.logs)
			}
			for _, call := range f.rec.Calls() {
				if call == "states:StartExecution" {
					t.Fatalf("calls %v", f.rec.Calls())
				}
			}
		})
	}
}

// Delete starts nothing and calls nothing; bad properties are the
// stack's fault and named; a StartExecution that fails fails the resource.
func TestDeleteBadPropertiesAndFailedStart(t *testing.T) {
	f := newFixture(t)
	if id, _, err := f.handler.Handler(motoserver.Context(t), f.event(cfn.RequestDelete)); err != nil || id != PhysicalID || len(f.rec.Calls()) != 0 {
		t.Fatalf("delete: id %q err %v calls %v", id, err, f.rec.Calls())
	}
	ev := f.event(cfn.RequestCreate)
	ev.ResourceProperties[StateMachineProperty] = "lakeforge-pipeline"
	_, _, err := f.handler.Handler(motoserver.Context(t), ev)
	var bad *steperr.InvalidInputError
	if !errors.As(err, &bad) || !strings.Contains(bad.Field, StateMachineProperty) {
		t.Fatalf("a name instead of an ARN: %T %v", err, err)
	}
	f.stacks.status = cftypes.StackStatusCreateInProgress
	ev = f.event(cfn.RequestCreate)
	ev.ResourceProperties[StateMachineProperty] = f.machine + "-gone"
	if _, _, err := f.handler.Handler(motoserver.Context(t), ev); err == nil || !strings.Contains(err.Error(), "states:StartExecution") {
		t.Fatalf("a state machine that does not exist: %v", err)
	}
}

// The IAM actions the handler calls, for its golden file.
func TestIAMActionsGolden(t *testing.T) {
	f := newFixture(t)
	f.stacks.status = cftypes.StackStatusCreateInProgress
	if _, _, err := f.handler.Handler(motoserver.Context(t), f.event(cfn.RequestCreate)); err != nil {
		t.Fatal(err)
	}
	awscalls.CheckGolden(t, "../../"+awscalls.GoldenPath("first-run"), f.rec.Calls())
	raw, _ := json.Marshal(f.rec.Calls())
	t.Logf("calls %s", raw)
}
