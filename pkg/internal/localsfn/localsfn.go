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
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
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
	// CallbackTimeout, when set, ends a .waitForTaskToken wait that no
	// SendTaskSuccess or SendTaskFailure ended within it with
	// States.Timeout, in place of the state's TimeoutSeconds (hours in the
	// pipeline): a token that is never released fails the run instead of
	// hanging it.
	CallbackTimeout time.Duration
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
