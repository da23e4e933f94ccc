package localsfn

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

type denied struct{}

func (denied) Error() string { return "not allowed" }

// A two-state definition executed for real: the history the SDK reads
// back has Step Functions' event types in order, and a failing task's
// error is named after its Go type.
func TestExecutesTheDefinitionAndServesItsHistory(t *testing.T) {
	def := `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:a","Next":"B"},
	"B":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:b","End":true}}}`
	arn := "arn:aws:states:us-east-1:123456789012:stateMachine:m"
	srv, err := Start(Options{Definition: def, StateMachineArn: arn, Task: func(state string, _ json.RawMessage) (any, error) {
		if state == "B" {
			return nil, denied{}
		}
		return map[string]int{"n": 1}, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	c := sfn.New(sfn.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), Credentials: credentials.NewStaticCredentialsProvider("a", "b", "")})
	// Node runs the execution: on a loaded machine its start alone can take
	// seconds, so the poll ends on this hang bound, not on a count.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	st, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(arn), Name: aws.String("x")})
	if err != nil {
		t.Fatal(err)
	}
	var d *sfn.DescribeExecutionOutput
	for i := 0; ctx.Err() == nil; i++ {
		d, err = c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: st.ExecutionArn})
		if err != nil {
			t.Fatal(err)
		}
		if d.Status != sfntypes.ExecutionStatusRunning {
			break
		}
		h, err := c.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: st.ExecutionArn, ReverseOrder: true})
		if err != nil {
			t.Fatalf("poll %d: %v", i, err)
		}
		_ = h
		time.Sleep(10 * time.Millisecond)
	}
	if d.Status != sfntypes.ExecutionStatusFailed || aws.ToString(d.Error) != "denied" {
		t.Errorf("status %s error %q, want FAILED with the task's error name", d.Status, aws.ToString(d.Error))
	}
	h, err := c.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: st.ExecutionArn})
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, ev := range h.Events {
		types = append(types, string(ev.Type))
	}
	want := []string{"ExecutionStarted", "TaskStateEntered", "LambdaFunctionScheduled", "LambdaFunctionStarted", "LambdaFunctionSucceeded",
		"TaskStateExited", "TaskStateEntered", "LambdaFunctionScheduled", "LambdaFunctionStarted", "LambdaFunctionFailed", "ExecutionFailed"}
	if len(types) != len(want) {
		t.Fatalf("history %v\nwant    %v", types, want)
	}
	for i := range want {
		if types[i] != want[i] {
			t.Fatalf("history %v\nwant    %v", types, want)
		}
	}
	var nf *sfntypes.ExecutionDoesNotExist
	if _, err := c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn + "-nope")}); !errors.As(err, &nf) {
		t.Errorf("unknown execution: %v, want ExecutionDoesNotExist", err)
	}
}

// callbackDef is one .waitForTaskToken state, as the pipeline's
// StartImport is written: the token goes to the function in its Payload.
const callbackDef = `{"StartAt":"Wait","States":{"Wait":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken",
	"Parameters":{"FunctionName":"arn:aws:lambda:us-east-1:123456789012:function:w","Payload":{"token.$":"$$.Task.Token"}},
	"ResultPath":"$.import","End":true}}}`

const callbackMachine = "arn:aws:states:us-east-1:123456789012:stateMachine:cb"

func client(url string) *sfn.Client {
	return sfn.New(sfn.Options{Region: "us-east-1", BaseEndpoint: aws.String(url), Credentials: credentials.NewStaticCredentialsProvider("a", "b", "")})
}

// finish waits for the execution to end and returns its description.
func finish(t *testing.T, ctx context.Context, c *sfn.Client, arn *string) *sfn.DescribeExecutionOutput {
	t.Helper()
	for {
		d, err := c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: arn})
		if err != nil {
			t.Fatal(err)
		}
		if d.Status != sfntypes.ExecutionStatusRunning {
			return d
		}
		select {
		case <-ctx.Done():
			t.Fatalf("execution still %s: %v", d.Status, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// The callback pattern: the state waits after its function returned, and
// SendTaskSuccess's output becomes the state's result; SendTaskFailure's
// error and cause become the state's error. Answers to tokens follow the
// API reference: TaskDoesNotExist for a token never handed out,
// TaskTimedOut once the task is closed, InvalidOutput for output that is
// not JSON.
func TestSendTaskSuccessAndFailureEndTheWait(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	tokens := make(chan string, 4)
	srv, err := Start(Options{Definition: callbackDef, StateMachineArn: callbackMachine, Task: func(state string, input json.RawMessage) (any, error) {
		var in struct {
			Payload struct {
				Token string `json:"token"`
			} `json:"Payload"`
		}
		if err := json.Unmarshal(input, &in); err != nil {
			return nil, err
		}
		tokens <- in.Payload.Token
		return AwaitCallback, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	c := client(srv.URL)

	var missing *sfntypes.TaskDoesNotExist
	if _, err := c.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String("never-handed-out"), Output: aws.String("{}")}); !errors.As(err, &missing) {
		t.Errorf("SendTaskSuccess of an unknown token: %v, want TaskDoesNotExist", err)
	}
	if _, err := c.SendTaskHeartbeat(ctx, &sfn.SendTaskHeartbeatInput{TaskToken: aws.String("never-handed-out")}); !errors.As(err, &missing) {
		t.Errorf("SendTaskHeartbeat of an unknown token: %v, want TaskDoesNotExist", err)
	}

	// Success: the wait holds until SendTaskSuccess, whose output lands at
	// the state's ResultPath.
	ok, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(callbackMachine), Name: aws.String("ok"), Input: aws.String(`{"day":"2026-12-03"}`)})
	if err != nil {
		t.Fatal(err)
	}
	token := <-tokens
	if token != TaskToken("ok") {
		t.Fatalf("the function got token %q, want the execution's $$.Task.Token %q", token, TaskToken("ok"))
	}
	time.Sleep(200 * time.Millisecond)
	if d, err := c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: ok.ExecutionArn}); err != nil || d.Status != sfntypes.ExecutionStatusRunning {
		t.Fatalf("before SendTaskSuccess the execution is %v (%v), want RUNNING", d.Status, err)
	}
	if _, err := c.SendTaskHeartbeat(ctx, &sfn.SendTaskHeartbeatInput{TaskToken: aws.String(token)}); err != nil {
		t.Errorf("heartbeat of the waiting task: %v", err)
	}
	var invalid *sfntypes.InvalidOutput
	if _, err := c.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(token), Output: aws.String("not json")}); !errors.As(err, &invalid) {
		t.Errorf("SendTaskSuccess with output that is not JSON: %v, want InvalidOutput", err)
	}
	if _, err := c.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(token), Output: aws.String(`{"runId":"wr_1","rows":7}`)}); err != nil {
		t.Fatal(err)
	}
	d := finish(t, ctx, c, ok.ExecutionArn)
	var out struct {
		Day    string `json:"day"`
		Import struct {
			RunID string `json:"runId"`
			Rows  int    `json:"rows"`
		} `json:"import"`
	}
	if d.Status != sfntypes.ExecutionStatusSucceeded || json.Unmarshal([]byte(aws.ToString(d.Output)), &out) != nil || out.Import.RunID != "wr_1" || out.Import.Rows != 7 || out.Day != "2026-12-03" {
		t.Fatalf("execution %s output %s, want SUCCEEDED with SendTaskSuccess's output at $.import", d.Status, aws.ToString(d.Output))
	}
	var closed *sfntypes.TaskTimedOut
	if _, err := c.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(token), Output: aws.String("{}")}); !errors.As(err, &closed) {
		t.Errorf("a second SendTaskSuccess: %v, want TaskTimedOut (the task is closed)", err)
	}
	if _, err := c.SendTaskHeartbeat(ctx, &sfn.SendTaskHeartbeatInput{TaskToken: aws.String(token)}); !errors.As(err, &closed) {
		t.Errorf("heartbeat after the end: %v, want TaskTimedOut", err)
	}
	h, err := c.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: ok.ExecutionArn})
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, ev := range h.Events {
		types = append(types, string(ev.Type))
	}
	want := []string{"ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSubmitted", "TaskSucceeded", "TaskStateExited", "ExecutionSucceeded"}
	if strings.Join(types, " ") != strings.Join(want, " ") {
		t.Errorf("history %v\nwant    %v", types, want)
	}

	// Failure: SendTaskFailure's error and cause are the state's.
	bad, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(callbackMachine), Name: aws.String("bad")})
	if err != nil {
		t.Fatal(err)
	}
	token = <-tokens
	if _, err := c.SendTaskFailure(ctx, &sfn.SendTaskFailureInput{TaskToken: aws.String(token), Error: aws.String("ImportFailedError"), Cause: aws.String("import job run jr_1 ended FAILED")}); err != nil {
		t.Fatal(err)
	}
	d = finish(t, ctx, c, bad.ExecutionArn)
	if d.Status != sfntypes.ExecutionStatusFailed || aws.ToString(d.Error) != "ImportFailedError" || aws.ToString(d.Cause) != "import job run jr_1 ended FAILED" {
		t.Errorf("execution %s error %q cause %q, want FAILED with SendTaskFailure's error and cause", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause))
	}
}

// A wait that no SendTask* call ends fails with States.Timeout after
// CallbackTimeout, as the state's TimeoutSeconds would, instead of hanging.
func TestCallbackTimeoutEndsAWaitNobodyReleases(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	srv, err := Start(Options{Definition: callbackDef, StateMachineArn: callbackMachine, CallbackTimeout: 300 * time.Millisecond,
		Task: func(string, json.RawMessage) (any, error) { return AwaitCallback, nil }})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	c := client(srv.URL)
	ex, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(callbackMachine), Name: aws.String("lost"), Input: aws.String(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	d := finish(t, ctx, c, ex.ExecutionArn)
	if d.Status != sfntypes.ExecutionStatusFailed || aws.ToString(d.Error) != "States.Timeout" {
		t.Fatalf("execution %s error %q cause %q, want FAILED with States.Timeout", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause))
	}
}
