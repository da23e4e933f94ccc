// Package localsfn is a local stand-in for the Step Functions API, for the
// CLI's tests and `make demo`: it executes the real ASL with
// aws-local-stepfunctions (driver.mjs, Node 22) and serves StartExecution,
// DescribeExecution, GetExecutionHistory, ListExecutions and, for the
// tokens it hands out, SendTaskSuccess, SendTaskFailure and
// SendTaskHeartbeat over the AWS JSON 1.0 protocol on 127.0.0.1, with the
// history events Step Functions records (TaskStateEntered,
// LambdaFunctionFailed, TaskSubmitted, ExecutionFailed, ...). Task states
// are answered by Go functions instead of Lambda.
//
// It is a stand-in, not an emulator: only what lakeforge reads is served.
package localsfn

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// TaskFunc answers one Task state: its output, or an error. The error's
// name as Step Functions sees it is ErrorName(err).
//
// For a .waitForTaskToken state, TaskFunc stands for the invoked
// function: returning AwaitCallback says the invocation went well and the
// state now waits for SendTaskSuccess or SendTaskFailure with the token
// (TaskToken of the execution); any other output answers in place of
// SendTaskSuccess, and an error fails the invocation itself.
type TaskFunc func(state string, input json.RawMessage) (any, error)

// AwaitCallback is what a TaskFunc returns for a .waitForTaskToken state
// to leave the state waiting for its task token.
var AwaitCallback any = awaitCallback{}

type awaitCallback struct{}

// TaskToken is the $$.Task.Token of an execution's states.
func TaskToken(executionName string) string { return "localsfn-token-" + executionName }

// callbackSuffix marks the Task resources that wait for a task token.
const callbackSuffix = ".waitForTaskToken"

// Options configure a Server.
type Options struct {
	// Definition is the ASL with its placeholders already substituted.
	Definition string
	// StateMachineArn names the state machine.
	StateMachineArn string
	Task            TaskFunc
	// WaitMillis and RetryMillis, when set, replace every Wait state's and
	// Retry's pause (tests and the demo do not wait hours).
	WaitMillis  *int
	RetryMillis *int
	// Node is the Node 22 binary; default LAKEFORGE_NODE22 or the repo's
	// scripts/node22/node_modules/node/bin/node.
	Node string
}

// Server is a running stand-in.
type Server struct {
	URL  string
	opts Options
	ln   net.Listener
	srv  *http.Server

	mu     sync.Mutex
	execs  map[string]*execution
	order  []string
	tokens map[string]*callback
	wg     sync.WaitGroup
	closed chan struct{}
}

// callback is one task token handed out: open until SendTaskSuccess or
// SendTaskFailure answers it, or the waiting state ends otherwise.
type callback struct {
	state          string
	done           chan struct{} // closed by the answer
	closed         bool
	output         json.RawMessage
	failed         bool
	errName, cause string
}

type execution struct {
	arn, name, input   string
	status             string
	start, stop        time.Time
	output, err, cause string
	events             []map[string]any
	lastStateType      map[string]string
}

// RepoRoot is the module root, found from this file's location.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..")
}

// NodePath is the Node 22 binary aws-local-stepfunctions needs.
func NodePath() (string, error) {
	p := os.Getenv("LAKEFORGE_NODE22")
	if p == "" {
		p = filepath.Join(RepoRoot(), "scripts", "node22", "node_modules", "node", "bin", "node")
	}
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("no Node 22 at %s: run `make node_modules` (it installs Node 22 into scripts/node22)", p)
	}
	return p, nil
}

// Start serves the API on a free loopback port.
func Start(opts Options) (*Server, error) {
	if opts.Node == "" {
		p, err := NodePath()
		if err != nil {
			return nil, err
		}
		opts.Node = p
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{URL: "http://" + ln.Addr().String(), opts: opts, ln: ln, execs: map[string]*execution{}, tokens: map[string]*callback{}, closed: make(chan struct{})}
	s.srv = &http.Server{Handler: http.HandlerFunc(s.serve)} // loopback only, for tests and the demo
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// Close stops serving and waits for running executions to end.
func (s *Server) Close() {
	_ = s.srv.Close()
	close(s.closed) // releases states still waiting for a token
	s.wg.Wait()
}

// Wait blocks until every execution started so far has ended, or timeout.
func (s *Server) Wait(timeout time.Duration) error {
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-time.After(timeout):
		return errors.New("localsfn: executions still running after " + timeout.String())
	}
}

type apiError struct {
	code int
	typ  string
	msg  string
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	target := r.Header.Get("X-Amz-Target")
	op := strings.TrimPrefix(target, "AWSStepFunctions.")
	body, _ := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	var in map[string]any
	_ = json.Unmarshal(body, &in)
	var (
		out  any
		aerr *apiError
	)
	switch op {
	case "StartExecution":
		out, aerr = s.startExecution(in)
	case "DescribeExecution":
		out, aerr = s.describeExecution(in)
	case "GetExecutionHistory":
		out, aerr = s.history(in)
	case "ListExecutions":
		out, aerr = s.listExecutions(in)
	case "SendTaskSuccess", "SendTaskFailure", "SendTaskHeartbeat":
		out, aerr = s.sendTask(op, in)
	default:
		aerr = &apiError{400, "UnknownOperationException", "localsfn does not serve " + target}
	}
	code := http.StatusOK
	if aerr != nil {
		code, out = aerr.code, map[string]string{"__type": aerr.typ, "message": aerr.msg}
	}
	b, _ := json.Marshal(out)
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(code)
	_, _ = w.Write(b)
}

func str(in map[string]any, k string) string { v, _ := in[k].(string); return v }

func epoch(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

func (s *Server) startExecution(in map[string]any) (any, *apiError) {
	if str(in, "stateMachineArn") != s.opts.StateMachineArn {
		return nil, &apiError{400, "StateMachineDoesNotExist", "State Machine Does Not Exist: '" + str(in, "stateMachineArn") + "'"}
	}
	name := str(in, "name")
	s.mu.Lock()
	if name == "" {
		name = fmt.Sprintf("run-%d-%d", time.Now().UnixMilli(), len(s.order)+1)
	}
	arn := strings.Replace(s.opts.StateMachineArn, ":stateMachine:", ":execution:", 1) + ":" + name
	if _, dup := s.execs[arn]; dup {
		s.mu.Unlock()
		return nil, &apiError{400, "ExecutionAlreadyExists", "Execution Already Exists: '" + arn + "'"}
	}
	input := str(in, "input")
	if input == "" {
		input = "{}"
	}
	e := &execution{arn: arn, name: name, input: input, status: "RUNNING", start: time.Now(), lastStateType: map[string]string{}}
	s.execs[arn] = e
	s.order = append(s.order, arn)
	s.addEvent(e, "ExecutionStarted", map[string]any{"executionStartedEventDetails": map[string]any{"input": input}})
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := s.run(e); err != nil {
			s.mu.Lock()
			s.finish(e, "FAILED", "", "localsfn.DriverError", err.Error())
			s.mu.Unlock()
		}
	}()
	return map[string]any{"executionArn": arn, "startDate": epoch(e.start)}, nil
}

// addEvent appends a history event; the caller holds s.mu.
func (s *Server) addEvent(e *execution, typ string, details map[string]any) {
	ev := map[string]any{"id": len(e.events) + 1, "timestamp": epoch(time.Now()), "type": typ}
	if len(e.events) > 0 {
		ev["previousEventId"] = len(e.events)
	}
	for k, v := range details {
		ev[k] = v
	}
	e.events = append(e.events, ev)
}

func (s *Server) finish(e *execution, status, output, errName, cause string) {
	if e.status != "RUNNING" {
		return
	}
	e.status, e.stop, e.output, e.err, e.cause = status, time.Now(), output, errName, cause
	if status == "SUCCEEDED" {
		s.addEvent(e, "ExecutionSucceeded", map[string]any{"executionSucceededEventDetails": map[string]any{"output": output}})
	} else {
		s.addEvent(e, "ExecutionFailed", map[string]any{"executionFailedEventDetails": map[string]any{"error": errName, "cause": cause}})
	}
}

// historyType names a driver state event as Step Functions' history does.
func historyType(stateType, suffix string) string { return stateType + suffix }

func (s *Server) run(e *execution) error {
	var def map[string]any
	if err := json.Unmarshal([]byte(s.opts.Definition), &def); err != nil {
		return fmt.Errorf("definition: %w", err)
	}
	states := map[string]map[string]any{}
	if m, ok := def["States"].(map[string]any); ok {
		for name, st := range m {
			states[name], _ = st.(map[string]any)
		}
	}
	cmd := exec.Command(s.opts.Node, filepath.Join(RepoRoot(), "pkg", "internal", "localsfn", "driver.mjs"))
	cmd.Dir = RepoRoot()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() { _ = cmd.Wait() }()
	defer stdin.Close()
	send := func(v any) error {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		_, err = stdin.Write(append(b, '\n'))
		return err
	}
	var input any
	_ = json.Unmarshal([]byte(e.input), &input)
	if err := send(map[string]any{
		"definition": def, "input": input,
		"context": map[string]any{
			"Execution": map[string]any{"Id": e.arn, "Name": e.name, "StartTime": e.start.UTC().Format(time.RFC3339Nano), "Input": input},
			// $$.Task.Token of a .waitForTaskToken state, answered with
			// SendTaskSuccess/SendTaskFailure (callbackTask).
			"Task": map[string]any{"Token": TaskToken(e.name)},
		},
		"waitMillis":  s.opts.WaitMillis,
		"retryMillis": s.opts.RetryMillis,
	}); err != nil {
		return err
	}
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var msg struct {
			Kind      string          `json:"kind"`
			Type      string          `json:"type"`
			State     string          `json:"state"`
			StateType string          `json:"stateType"`
			Input     json.RawMessage `json:"input"`
			Output    json.RawMessage `json:"output"`
			Status    string          `json:"status"`
			Error     string          `json:"error"`
			Cause     string          `json:"cause"`
		}
		if err := json.Unmarshal(sc.Bytes(), &msg); err != nil {
			return fmt.Errorf("driver said %q: %w", sc.Bytes(), err)
		}
		switch msg.Kind {
		case "event":
			s.mu.Lock()
			switch msg.Type {
			case "StateEntered":
				s.addEvent(e, historyType(msg.StateType, "StateEntered"), map[string]any{"stateEnteredEventDetails": map[string]any{"name": msg.State, "input": jsonText(msg.Input)}})
			case "StateExited":
				s.addEvent(e, historyType(msg.StateType, "StateExited"), map[string]any{"stateExitedEventDetails": map[string]any{"name": msg.State, "output": jsonText(msg.Output)}})
			}
			s.mu.Unlock()
		case "task":
			if resource, _ := states[msg.State]["Resource"].(string); strings.HasSuffix(resource, callbackSuffix) {
				if err := send(s.callbackTask(e, msg.State, resource, msg.Input)); err != nil {
					return err
				}
				continue
			}
			s.mu.Lock()
			s.addEvent(e, "LambdaFunctionScheduled", map[string]any{"lambdaFunctionScheduledEventDetails": map[string]any{"resource": msg.State, "input": jsonText(msg.Input)}})
			s.addEvent(e, "LambdaFunctionStarted", nil)
			s.mu.Unlock()
			out, terr := s.opts.Task(msg.State, msg.Input)
			s.mu.Lock()
			var reply any
			if terr != nil {
				name := ErrorName(terr)
				cause, _ := json.Marshal(map[string]string{"errorMessage": terr.Error(), "errorType": name})
				s.addEvent(e, "LambdaFunctionFailed", map[string]any{"lambdaFunctionFailedEventDetails": map[string]any{"error": name, "cause": string(cause)}})
				reply = map[string]any{"error": map[string]string{"name": name, "message": string(cause)}}
			} else {
				b, _ := json.Marshal(out)
				s.addEvent(e, "LambdaFunctionSucceeded", map[string]any{"lambdaFunctionSucceededEventDetails": map[string]any{"output": string(b)}})
				reply = map[string]any{"output": out}
			}
			s.mu.Unlock()
			if err := send(reply); err != nil {
				return err
			}
		case "end":
			s.mu.Lock()
			s.finish(e, msg.Status, jsonText(msg.Output), msg.Error, msg.Cause)
			s.mu.Unlock()
			return nil
		}
	}
	return fmt.Errorf("the driver ended without a result: %v: %s", sc.Err(), stderr.String())
}

func jsonText(raw json.RawMessage) string {
	if len(raw) == 0 {
		return "null"
	}
	return string(raw)
}

// ErrorName is the name Step Functions sees for an error a Go Lambda
// returns: aws-lambda-go names it after the error's top-level Go type.
func ErrorName(err error) string {
	var named interface{ ErrorName() string }
	if errors.As(err, &named) {
		return named.ErrorName()
	}
	ty := reflect.TypeOf(err)
	for ty.Kind() == reflect.Pointer {
		ty = ty.Elem()
	}
	return ty.Name()
}

func (s *Server) get(arn string) (*execution, *apiError) {
	e, ok := s.execs[arn]
	if !ok {
		return nil, &apiError{400, "ExecutionDoesNotExist", "Execution Does Not Exist: '" + arn + "'"}
	}
	return e, nil
}

func (s *Server) describeExecution(in map[string]any) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, aerr := s.get(str(in, "executionArn"))
	if aerr != nil {
		return nil, aerr
	}
	out := map[string]any{"executionArn": e.arn, "stateMachineArn": s.opts.StateMachineArn, "name": e.name,
		"status": e.status, "startDate": epoch(e.start), "input": e.input}
	if e.status != "RUNNING" {
		out["stopDate"] = epoch(e.stop)
		if e.status == "SUCCEEDED" {
			out["output"] = e.output
		} else {
			out["error"], out["cause"] = e.err, e.cause
		}
	}
	return out, nil
}

// page serves a slice with maxResults and an opaque offset token.
func page(n int, in map[string]any) (from, to int, next string) {
	max := 100
	if v, ok := in["maxResults"].(float64); ok && v > 0 {
		max = int(v)
	}
	if t := str(in, "nextToken"); t != "" {
		from, _ = strconv.Atoi(t)
	}
	to = min(from+max, n)
	if to < n {
		next = strconv.Itoa(to)
	}
	return from, to, next
}

func (s *Server) history(in map[string]any) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, aerr := s.get(str(in, "executionArn"))
	if aerr != nil {
		return nil, aerr
	}
	events := append([]map[string]any(nil), e.events...)
	if rev, _ := in["reverseOrder"].(bool); rev {
		sort.SliceStable(events, func(i, j int) bool { return events[i]["id"].(int) > events[j]["id"].(int) })
	}
	from, to, next := page(len(events), in)
	out := map[string]any{"events": events[from:to]}
	if next != "" {
		out["nextToken"] = next
	}
	return out, nil
}

func (s *Server) listExecutions(in map[string]any) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if str(in, "stateMachineArn") != s.opts.StateMachineArn {
		return nil, &apiError{400, "StateMachineDoesNotExist", "State Machine Does Not Exist"}
	}
	list := []map[string]any{}
	for i := len(s.order) - 1; i >= 0; i-- { // newest first, as Step Functions lists them
		e := s.execs[s.order[i]]
		if f := str(in, "statusFilter"); f != "" && f != e.status {
			continue
		}
		item := map[string]any{"executionArn": e.arn, "stateMachineArn": s.opts.StateMachineArn, "name": e.name, "status": e.status, "startDate": epoch(e.start)}
		if e.status != "RUNNING" {
			item["stopDate"] = epoch(e.stop)
		}
		list = append(list, item)
	}
	from, to, next := page(len(list), in)
	out := map[string]any{"executions": list[from:to]}
	if next != "" {
		out["nextToken"] = next
	}
	return out, nil
}

// callbackTask runs one attempt of a .waitForTaskToken state: it hands out
// the execution's token, invokes the TaskFunc and, when that answers
// AwaitCallback, waits for SendTaskSuccess or SendTaskFailure with the
// token. It returns the driver's reply, with the history events Step
// Functions records for a callback task (TaskScheduled, TaskStarted,
// TaskSubmitted, TaskSucceeded or TaskFailed).
func (s *Server) callbackTask(e *execution, state, resource string, input json.RawMessage) any {
	service, action := serviceAction(resource)
	token := TaskToken(e.name)
	cb := &callback{state: state, done: make(chan struct{})}
	s.mu.Lock()
	s.tokens[token] = cb // a retried state gets a fresh wait for its token
	s.addEvent(e, "TaskScheduled", map[string]any{"taskScheduledEventDetails": map[string]any{"resourceType": service, "resource": action, "region": region(s.opts.StateMachineArn), "parameters": jsonText(input)}})
	s.addEvent(e, "TaskStarted", map[string]any{"taskStartedEventDetails": map[string]any{"resourceType": service, "resource": action}})
	s.mu.Unlock()

	out, terr := s.opts.Task(state, input)
	if terr == nil && out != AwaitCallback {
		// The TaskFunc's output answers in place of SendTaskSuccess.
		b, err := json.Marshal(out)
		if err != nil {
			terr = err
		} else {
			s.answer(token, cb, func() { cb.output = b })
		}
	}
	if terr != nil {
		// The invocation failed: the error as Lambda reports it.
		name := ErrorName(terr)
		cause, _ := json.Marshal(map[string]string{"errorMessage": terr.Error(), "errorType": name})
		s.answer(token, cb, func() { cb.failed, cb.errName, cb.cause = true, name, string(cause) })
	} else {
		s.mu.Lock()
		s.addEvent(e, "TaskSubmitted", map[string]any{"taskSubmittedEventDetails": map[string]any{"resourceType": service, "resource": action}})
		s.mu.Unlock()
	}
	select {
	case <-cb.done:
	case <-s.closed:
		s.answer(token, cb, func() {
			cb.failed, cb.errName, cb.cause = true, "localsfn.Closed", "the local Step Functions server closed while the state waited for its task token"
		})
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if cb.failed {
		s.addEvent(e, "TaskFailed", map[string]any{"taskFailedEventDetails": map[string]any{"resourceType": service, "resource": action, "error": cb.errName, "cause": cb.cause}})
		return map[string]any{"error": map[string]string{"name": cb.errName, "message": cb.cause}}
	}
	s.addEvent(e, "TaskSucceeded", map[string]any{"taskSucceededEventDetails": map[string]any{"resourceType": service, "resource": action, "output": string(cb.output)}})
	return map[string]any{"output": cb.output}
}

// answer closes cb with set, unless it is answered already; false then.
func (s *Server) answer(token string, cb *callback, set func()) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cb.closed {
		return false
	}
	set()
	cb.closed = true
	close(cb.done)
	return true
}

// sendTask serves SendTaskSuccess, SendTaskFailure and SendTaskHeartbeat
// as the API reference documents them: a token this server never handed
// out is TaskDoesNotExist; one whose task is closed already is
// TaskTimedOut ("the task token has either expired or the task associated
// with the token has already been closed"); SendTaskSuccess's output must
// be JSON (InvalidOutput).
func (s *Server) sendTask(op string, in map[string]any) (any, *apiError) {
	token := str(in, "taskToken")
	if token == "" || len(token) > 2048 {
		return nil, &apiError{400, "InvalidToken", "Invalid Token: taskToken must have 1 to 2048 characters"}
	}
	s.mu.Lock()
	cb, ok := s.tokens[token]
	closed := ok && cb.closed
	s.mu.Unlock()
	switch {
	case !ok:
		return nil, &apiError{400, "TaskDoesNotExist", "Task Does Not Exist: no task was handed the token '" + token + "'"}
	case closed:
		return nil, &apiError{400, "TaskTimedOut", "Task Timed Out: the task of this token has already been closed"}
	}
	var set func()
	switch op {
	case "SendTaskHeartbeat":
		return map[string]any{}, nil
	case "SendTaskSuccess":
		output := str(in, "output")
		if !json.Valid([]byte(output)) {
			return nil, &apiError{400, "InvalidOutput", "Invalid Output: the output of SendTaskSuccess must be JSON"}
		}
		set = func() { cb.output = json.RawMessage(output) }
	default:
		set = func() { cb.failed, cb.errName, cb.cause = true, str(in, "error"), str(in, "cause") }
	}
	if !s.answer(token, cb, set) {
		return nil, &apiError{400, "TaskTimedOut", "Task Timed Out: the task of this token has already been closed"}
	}
	return map[string]any{}, nil
}

// serviceAction splits arn:aws:states:::lambda:invoke.waitForTaskToken
// into the history's resourceType ("lambda") and resource
// ("invoke.waitForTaskToken").
func serviceAction(resource string) (string, string) {
	rest := resource
	if i := strings.Index(rest, ":::"); i >= 0 {
		rest = rest[i+3:]
	}
	service, action, _ := strings.Cut(rest, ":")
	return service, action
}

// region is the region of an ARN.
func region(arn string) string {
	parts := strings.Split(arn, ":")
	if len(parts) > 3 {
		return parts[3]
	}
	return ""
}
