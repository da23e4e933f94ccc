package localsfn

// One execution: the ASL on aws-local-stepfunctions (driver.mjs), its events as history.

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"time"
)

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
