package steprun_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// invocationError is the body aws-lambda-go posts to the Runtime API's
// /runtime/invocation/{id}/error: Step Functions takes errorType as the
// error name its Retry and Catch match.
type invocationError struct {
	ErrorMessage string `json:"errorMessage"`
	ErrorType    string `json:"errorType"`
}

// fakeRuntimeAPI serves the Lambda Runtime API to one function process:
// it hands out events in order and records each answer by request id.
type fakeRuntimeAPI struct {
	events  []string
	mu      sync.Mutex
	next    int
	answers map[string]invocationError
	done    chan struct{}
}

func (f *fakeRuntimeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	const prefix = "/2018-06-01/runtime/invocation/"
	switch {
	case r.Method == http.MethodGet && r.URL.Path == prefix+"next":
		f.mu.Lock()
		i := f.next
		f.next++
		f.mu.Unlock()
		if i >= len(f.events) {
			<-r.Context().Done() // no more events: the function waits
			return
		}
		w.Header().Set("Lambda-Runtime-Aws-Request-Id", "req-"+strconv.Itoa(i))
		w.Header().Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(time.Now().Add(time.Minute).UnixMilli(), 10))
		w.Header().Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:probe")
		_, _ = io.WriteString(w, f.events[i])
	case r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, prefix):
		id, kind, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, prefix), "/")
		body, _ := io.ReadAll(r.Body)
		var ie invocationError
		if kind == "error" {
			_ = json.Unmarshal(body, &ie)
		} else {
			ie.ErrorType = "(success) " + string(body)
		}
		f.mu.Lock()
		f.answers[id] = ie
		if len(f.answers) == len(f.events) {
			close(f.done)
		}
		f.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	default:
		http.NotFound(w, r)
	}
}

// runFunction builds functions/<name> as `make build` does (for this
// machine's architecture, with the -tags lambda.norpc of the Lambda build),
// runs it against a fake Runtime API with env, sends events and returns the
// answers in order. The build keeps the test's own cgo setting: forcing
// CGO_ENABLED=0 here made `make test` compile the AWS SDK a second time
// (every package above net changes with it) for one binary.
func runFunction(t *testing.T, name string, env []string, events ...string) []invocationError {
	answers, _ := runFunctionWithOutput(t, name, env, events...)
	return answers
}

// runFunctionWithOutput is runFunction that also returns what the function
// wrote to stdout and stderr, which Lambda sends to CloudWatch Logs.
func runFunctionWithOutput(t *testing.T, name string, env []string, events ...string) ([]invocationError, string) {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	bin := filepath.Join(t.TempDir(), "bootstrap")
	build := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", bin, "./functions/"+name)
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v\n%s", name, err, out)
	}
	api := &fakeRuntimeAPI{events: events, answers: map[string]invocationError{}, done: make(chan struct{})}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: api}
	go func() { _ = srv.Serve(l) }()
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin)
	cmd.Env = append([]string{"AWS_LAMBDA_RUNTIME_API=" + l.Addr().String(), "PATH=" + os.Getenv("PATH")}, env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	cmd.Stdout = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	select {
	case <-api.done:
	case <-ctx.Done():
		t.Fatalf("%s answered %d of %d events within a minute; its output:\n%s", name, len(api.answers), len(events), stderr.String())
	}
	out := make([]invocationError, len(events))
	for i := range events {
		out[i] = api.answers["req-"+strconv.Itoa(i)]
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	return out, stderr.String()
}

// The error name Step Functions sees is the errorType aws-lambda-go posts
// for the handler's error. A real function binary, given the events the
// state machine could pass, must answer InvalidInputError (a name the
// ASL's Catch knows), never UnmarshalTypeError; a function whose
// environment is incomplete answers ConfigError to every invocation.
func TestTheRealBinaryNamesBadEventsInvalidInputError(t *testing.T) {
	runtimeEnv := []string{"AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing", "AWS_ENDPOINT_URL=http://127.0.0.1:9"}
	got := runFunction(t, "start-import",
		append([]string{"WORKFLOW_NAME=lakeforge-import", "TOKEN_TABLE=lakeforge-tokens"}, runtimeEnv...),
		`["wr_1"]`, `{"taskToken":5}`, `{"executionName":["x"]}`)
	for i, want := range []string{"(event)", "taskToken", "executionName"} {
		if got[i].ErrorType != "InvalidInputError" || !strings.Contains(got[i].ErrorMessage, "invalid input: "+want+": ") {
			t.Errorf("event %d: errorType %q, message %q; want InvalidInputError naming %s", i, got[i].ErrorType, got[i].ErrorMessage, want)
		}
	}
	// The stack sets LoggingConfig LogFormat JSON and ApplicationLogLevel
	// INFO; Lambda passes them to the function as these variables.
	logEnv := append([]string{"AWS_LAMBDA_LOG_FORMAT=JSON", "AWS_LAMBDA_LOG_LEVEL=INFO"}, runtimeEnv...)
	broken, output := runFunctionWithOutput(t, "start-import", logEnv, `{"taskToken":"t"}`)
	if broken[0].ErrorType != "ConfigError" || !strings.Contains(broken[0].ErrorMessage, "WORKFLOW_NAME is not set") {
		t.Errorf("without its environment: %+v; want ConfigError naming WORKFLOW_NAME", broken[0])
	}
	checkLambdaJSONLogs(t, output, "ERROR", "cannot start")
}

// checkLambdaJSONLogs checks the function's output against what Lambda's
// log-level filtering needs from a runtime it does not format itself (Go on
// provided.al2023): one JSON object per line with a "level" key (otherwise
// Lambda files the line as INFO, and an ERROR is dropped by a WARN filter)
// and an RFC 3339 timestamp. A line with level and message must exist.
func checkLambdaJSONLogs(t *testing.T, output, level, message string) {
	t.Helper()
	found := false
	for _, line := range strings.Split(strings.TrimSpace(output), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Errorf("log line is not a JSON object: %q", line)
			continue
		}
		ts, _ := rec["timestamp"].(string)
		if _, err := time.Parse(time.RFC3339Nano, ts); err != nil {
			t.Errorf("log line without an RFC 3339 timestamp: %q", line)
		}
		if rec["level"] == nil {
			t.Errorf("log line without a level: %q", line)
		}
		if rec["level"] == level && rec["message"] == message && rec["step"] == "start-import" {
			found = true
		}
	}
	if !found {
		t.Errorf("no %s record %q of step start-import in:\n%s", level, message, output)
	}
}
