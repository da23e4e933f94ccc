package localsfn

import (
	"context"
	"encoding/json"
	"errors"
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
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(arn), Name: aws.String("x")})
	if err != nil {
		t.Fatal(err)
	}
	var d *sfn.DescribeExecutionOutput
	for i := 0; i < 300; i++ {
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
