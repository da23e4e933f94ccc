package statemachine

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/lakeforge/lakeforge/internal/testtier"
)

// repoRoot is the module root (node_modules, functions/).
func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..")
}

// node22 is the Node 22 binary aws-local-stepfunctions needs.
func node22(t testing.TB) string {
	t.Helper()
	testtier.External(t, "Node 22 (aws-local-stepfunctions)")
	p := os.Getenv("LAKEFORGE_NODE22")
	if p == "" {
		p = filepath.Join(repoRoot(), "scripts", "node22", "node_modules", "node", "bin", "node")
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("no Node 22 at %s: run `make node_modules` (it installs Node 22 into scripts/node22)", p)
	}
	return p
}

// fakeARN is what CloudFormation would substitute for a placeholder.
func fakeARN(placeholder string) string {
	if placeholder == TopicPlaceholder {
		return "arn:aws:sns:us-east-1:123456789012:lakeforge-failures"
	}
	return "arn:aws:lambda:us-east-1:123456789012:function:lakeforge-" + strings.TrimSuffix(placeholder, "FunctionArn")
}

// substituted is the definition with every placeholder replaced by an ARN
// of the right shape, as DefinitionSubstitutions does at deploy time.
func substituted() string {
	out := Pipeline
	for _, p := range Placeholders(Pipeline) {
		out = strings.ReplaceAll(out, "${"+p+"}", fakeARN(p))
	}
	return out
}

// event is one execution event, as the driver reports it.
type event struct {
	Type      string          `json:"type"`
	State     string          `json:"state"`
	StateType string          `json:"stateType"`
	Input     json.RawMessage `json:"input"`
	Error     string          `json:"error"`
	Cause     string          `json:"cause"`
	Attempt   int             `json:"attempt"`
}

// execution is the end of one local run.
type execution struct {
	Status string          `json:"status"`
	Output json.RawMessage `json:"output"`
	Error  string          `json:"error"`
	Cause  string          `json:"cause"`
	Events []event         `json:"events"`
}

// entered lists the states entered, in order.
func (e execution) entered() []string {
	var out []string
	for _, ev := range e.Events {
		if ev.Type == "StateEntered" {
			out = append(out, ev.State)
		}
	}
	return out
}

// Transitions counts the state transitions of the run: one per state
// entered, as Step Functions bills them (its retries are billed too; they
// are counted separately in retries()).
func (e execution) Transitions() int { return len(e.entered()) }

func (e execution) retries(state string) int {
	n := 0
	for _, ev := range e.Events {
		if ev.Type == "StateRetried" && ev.State == state {
			n++
		}
	}
	return n
}

// lambdaError turns a Go error into what Step Functions sees from a Lambda
// written with aws-lambda-go: the error is named after the top-level Go
// type, and the cause is the JSON error payload.
func lambdaError(err error) (name, cause string) {
	var tf *taskFailure
	if errors.As(err, &tf) {
		return tf.name, tf.cause
	}
	var named interface{ LambdaErrorName() string }
	if errors.As(err, &named) {
		name = named.LambdaErrorName()
	} else {
		ty := reflect.TypeOf(err)
		for ty.Kind() == reflect.Pointer {
			ty = ty.Elem()
		}
		name = ty.Name()
	}
	payload, _ := json.Marshal(map[string]string{"errorMessage": err.Error(), "errorType": name})
	return name, string(payload)
}

// serviceError is a Lambda service error such as Lambda.TooManyRequestsException.
type serviceError string

func (e serviceError) Error() string           { return string(e) + ": simulated" }
func (e serviceError) LambdaErrorName() string { return string(e) }

// taskHandler answers one Task state invocation.
type taskHandler func(state string, input json.RawMessage) (any, error)

// runs numbers the local executions, so each gets its own task token.
var runs int

// runLocal executes the pipeline definition with aws-local-stepfunctions;
// every Task is answered by handle, every Wait and Retry pause is 0.
func runLocal(t testing.TB, input any, handle taskHandler) execution {
	t.Helper()
	var def map[string]any
	if err := json.Unmarshal([]byte(substituted()), &def); err != nil {
		t.Fatal(err)
	}
	// The one driver of aws-local-stepfunctions, shared with the local
	// Step Functions of the CLI tests and `make demo`.
	cmd := exec.Command(node22(t), filepath.Join(repoRoot(), "pkg", "internal", "localsfn", "driver.mjs"))
	cmd.Dir = repoRoot()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer stdin.Close()
	send := func(v any) {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := stdin.Write(append(b, '\n')); err != nil {
			t.Fatalf("write to driver: %v (stderr: %s)", err, stderr.String())
		}
	}
	runs++
	// Every Wait state and every Retry pause takes 0 ms: runs take
	// milliseconds (the transition counts do not depend on the pauses).
	send(map[string]any{
		"waitMillis":  0,
		"retryMillis": 0,
		"definition":  def,
		"input":       input,
		"context": map[string]any{
			"Execution": map[string]any{
				"Id":   "arn:aws:states:us-east-1:123456789012:execution:lakeforge-pipeline:test-run",
				"Name": "test-run",
			},
			// $$.Task.Token: Step Functions puts an opaque token of up to
			// 2048 characters here for a .waitForTaskToken state.
			"Task": map[string]any{"Token": fmt.Sprintf("AAAAKgAAAAIAAAAAAAAAA%dtoken", runs)},
		},
	})
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	var events []event
	for sc.Scan() {
		var msg struct {
			Kind  string          `json:"kind"`
			State string          `json:"state"`
			Input json.RawMessage `json:"input"`
		}
		line := sc.Bytes()
		if err := json.Unmarshal(line, &msg); err != nil {
			t.Fatalf("driver said %q: %v", line, err)
		}
		switch msg.Kind {
		case "event":
			var ev event
			if err := json.Unmarshal(line, &ev); err != nil {
				t.Fatal(err)
			}
			events = append(events, ev)
		case "task":
			out, err := handle(msg.State, msg.Input)
			if err != nil {
				name, cause := lambdaError(err)
				send(map[string]any{"error": map[string]string{"name": name, "message": cause}})
			} else {
				send(map[string]any{"output": out})
			}
		case "end":
			var ex execution
			if err := json.Unmarshal(line, &ex); err != nil {
				t.Fatal(err)
			}
			ex.Events = events
			return ex
		default:
			t.Fatalf("unknown driver message %s", line)
		}
	}
	t.Fatalf("the driver ended without a result: %v\nstderr: %s", sc.Err(), stderr.String())
	return execution{}
}

// mustJSON decodes raw into a generic value.
func mustJSON(t testing.TB, raw json.RawMessage) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	return v
}
