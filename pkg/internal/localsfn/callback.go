package localsfn

// The .waitForTaskToken wait and SendTaskSuccess, SendTaskFailure, SendTaskHeartbeat.

import (
	"encoding/json"
	"fmt"
	"time"
)

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
	var timeout <-chan time.Time
	if s.opts.CallbackTimeout > 0 {
		timer := time.NewTimer(s.opts.CallbackTimeout)
		defer timer.Stop()
		timeout = timer.C
	}
	select {
	case <-cb.done:
	case <-timeout:
		s.answer(token, cb, func() {
			cb.failed, cb.errName = true, "States.Timeout"
			cb.cause = fmt.Sprintf("no SendTaskSuccess or SendTaskFailure for the task token within %s (localsfn's CallbackTimeout, in place of the state's TimeoutSeconds)", s.opts.CallbackTimeout)
		})
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
