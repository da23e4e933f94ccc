// Package firstrun is the first run at deploy: the handler of the
// CloudFormation custom resource that starts one pipeline execution when a
// deploy created or changed the pipeline (schedule.runAtDeploy).
//
// CloudFormation sends the custom resource an Update not only when a deploy
// changes its properties but also when a failed update rolls back: the
// rollback updates every changed resource back to its previous properties
// (while the stack is UPDATE_ROLLBACK_IN_PROGRESS). An execution started
// then would run against half-rolled-back resources, so the handler asks
// CloudFormation for the stack's status and starts an execution only while
// the stack goes forward (CREATE_IN_PROGRESS, UPDATE_IN_PROGRESS).
package firstrun

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cftypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/lakeforge/lakeforge/pkg/steperr"
)

// Properties of the custom resource, set by the stack.
const (
	// StateMachineProperty is the pipeline's ARN.
	StateMachineProperty = "StateMachineArn"
	// InputProperty is the execution's input; it carries the digest of
	// what the run depends on, so a deploy that changes any of it updates
	// the resource.
	InputProperty = "Input"
	// PhysicalID is the resource's one physical ID: an update never
	// replaces it.
	PhysicalID = "lakeforge-first-run"
)

// forwardStatuses are the stack statuses of a deploy going forward, in
// which CloudFormation sends Create and Update for a change of the template.
var forwardStatuses = []cftypes.StackStatus{cftypes.StackStatusCreateInProgress, cftypes.StackStatusUpdateInProgress}

// StacksAPI reads the stack's status.
type StacksAPI interface {
	DescribeStacks(context.Context, *cloudformation.DescribeStacksInput, ...func(*cloudformation.Options)) (*cloudformation.DescribeStacksOutput, error)
}

// ExecutionsAPI starts the pipeline.
type ExecutionsAPI interface {
	StartExecution(context.Context, *sfn.StartExecutionInput, ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error)
}

// FirstRun starts the first execution at deploy.
type FirstRun struct {
	Stacks StacksAPI
	SFN    ExecutionsAPI
	Log    *slog.Logger
}

// Handler is the custom resource's handler (wrap it with cfn.LambdaWrap).
// Create and Update start one execution while the stack goes forward;
// during a rollback, or when the status cannot be read, they start nothing
// and answer SUCCESS (not starting is the safe side: the schedule runs the
// pipeline anyway), saying why in the log and the response data. A failed
// StartExecution fails the resource, so the deploy reports it. Delete does
// nothing: an execution is not undone.
func (f *FirstRun) Handler(ctx context.Context, ev cfn.Event) (string, map[string]any, error) {
	id := ev.PhysicalResourceID
	if id == "" {
		id = PhysicalID
	}
	switch ev.RequestType {
	case cfn.RequestDelete:
		return id, nil, nil
	case cfn.RequestCreate, cfn.RequestUpdate:
	default:
		return id, nil, &steperr.InvalidInputError{Field: "RequestType", Fix: fmt.Sprintf("Create, Update or Delete, the request types CloudFormation sends a custom resource (got %q)", ev.RequestType)}
	}
	machine, input, err := properties(ev.ResourceProperties)
	if err != nil {
		return id, nil, err
	}
	status, err := f.stackStatus(ctx, ev.StackID)
	if err != nil {
		reason := "not started: the stack's status could not be read (" + err.Error() + "); the schedule starts the next run, or start one by hand: aws stepfunctions start-execution --state-machine-arn " + machine
		f.Log.ErrorContext(ctx, "first run at deploy", "started", false, "reason", reason)
		return id, map[string]any{"Started": "false", "Reason": reason}, nil
	}
	if !slices.Contains(forwardStatuses, status) {
		reason := "not started: the stack is " + string(status) + ", not a deploy going forward (a rollback sends the previous properties as an Update)"
		f.Log.WarnContext(ctx, "first run at deploy", "started", false, "reason", reason, "requestType", string(ev.RequestType))
		return id, map[string]any{"Started": "false", "Reason": reason}, nil
	}
	out, err := f.SFN.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(machine), Input: aws.String(input)})
	if err != nil {
		return id, nil, fmt.Errorf("states:StartExecution of %s: %w (the first run at deploy could not start; fix the cause and redeploy, or set schedule.runAtDeploy to false)", machine, err)
	}
	f.Log.InfoContext(ctx, "first run at deploy", "started", true, "executionArn", aws.ToString(out.ExecutionArn), "stackStatus", string(status))
	return id, map[string]any{"Started": "true", "ExecutionArn": aws.ToString(out.ExecutionArn)}, nil
}

func (f *FirstRun) stackStatus(ctx context.Context, stackID string) (cftypes.StackStatus, error) {
	if stackID == "" {
		return "", fmt.Errorf("the event names no StackId")
	}
	out, err := f.Stacks.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(stackID)})
	if err != nil {
		return "", fmt.Errorf("cloudformation:DescribeStacks: %w", err)
	}
	if len(out.Stacks) != 1 {
		return "", fmt.Errorf("cloudformation:DescribeStacks answered %d stacks for %s", len(out.Stacks), stackID)
	}
	return out.Stacks[0].StackStatus, nil
}

func properties(props map[string]any) (machine, input string, err error) {
	machine, _ = props[StateMachineProperty].(string)
	input, _ = props[InputProperty].(string)
	switch {
	case !strings.HasPrefix(machine, "arn:"):
		return "", "", &steperr.InvalidInputError{Field: "ResourceProperties." + StateMachineProperty, Fix: fmt.Sprintf("the pipeline's state machine ARN (the stack sets it; redeploy); got %q", machine)}
	case !strings.HasPrefix(input, "{"):
		return "", "", &steperr.InvalidInputError{Field: "ResourceProperties." + InputProperty, Fix: fmt.Sprintf("the execution's JSON input (the stack sets it; redeploy); got %q", input)}
	}
	return machine, input, nil
}
