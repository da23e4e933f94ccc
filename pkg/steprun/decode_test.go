package steprun_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/lakeforge/lakeforge/pkg/importrun"
	"github.com/lakeforge/lakeforge/pkg/lakeformation"
	"github.com/lakeforge/lakeforge/pkg/preflight"
	"github.com/lakeforge/lakeforge/pkg/steperr"
	"github.com/lakeforge/lakeforge/pkg/steprun"
	"github.com/lakeforge/lakeforge/pkg/verify"
)

// decoder decodes an event as one step's handler does and reports the
// InvalidInputError, if any.
type decoder func(raw string) (*steperr.InvalidInputError, error)

func decoderFor[In any]() decoder {
	return func(raw string) (*steperr.InvalidInputError, error) {
		// Through Boundary, the function every main starts: a rejected event
		// must never reach the handler.
		called := false
		h := steprun.Boundary("step", func(context.Context, In) (struct{}, error) {
			called = true
			return struct{}{}, nil
		})
		_, err := h(context.Background(), json.RawMessage(raw))
		if err == nil {
			return nil, nil
		}
		if called {
			return nil, errors.New("the handler ran although decoding failed")
		}
		var ie *steperr.InvalidInputError
		if !errors.As(err, &ie) || err != error(ie) {
			return nil, errors.New("not an InvalidInputError: " + reflect.TypeOf(err).String() + ": " + err.Error())
		}
		return ie, nil
	}
}

// inputTypes are the input types of every step handler (the In of the
// function each main wires), by function.
var inputTypes = map[string]struct {
	decode decoder
	typ    reflect.Type
	// valid is an event the state machine or EventBridge sends the step.
	valid string
}{
	"access-model steps": {decoderFor[lakeformation.StepInput](), reflect.TypeFor[lakeformation.StepInput](), `{"runId":"abc","nested":{"a":[1,2]}}`},
	"start-import":       {decoderFor[importrun.StartInput](), reflect.TypeFor[importrun.StartInput](), `{}`},
	"test-connection":    {decoderFor[preflight.Input](), reflect.TypeFor[preflight.Input](), `{}`},
	"verify-query":       {decoderFor[verify.Input](), reflect.TypeFor[verify.Input](), `{"runId":"wr_1","import":{"runId":"wr_1"}}`},
}

// Defect 8 of issue 8: a non-object event is an InvalidInputError on the
// event itself, for every step's input type.
func TestNonObjectEventsAreInvalidInput(t *testing.T) {
	for step, in := range inputTypes {
		for _, raw := range []string{`[]`, `["runId"]`, `"wr_1"`, `42`, `true`, `null`, ``, `{"runId":`} {
			ie, err := in.decode(raw)
			if err != nil {
				t.Errorf("%s, event %q: %v", step, raw, err)
				continue
			}
			if ie == nil {
				t.Errorf("%s: event %q accepted", step, raw)
				continue
			}
			if ie.Field != steprun.EventField || !strings.Contains(ie.Fix, "expects") {
				t.Errorf("%s, event %q: field %q, fix %q; want the event named and the expected input", step, raw, ie.Field, ie.Fix)
			}
		}
		if ie, err := in.decode(in.valid); ie != nil || err != nil {
			t.Errorf("%s: the event the pipeline sends is rejected: %v %v", step, ie, err)
		}
	}
}

// Each case is the event the state machine would pass with one field of
// the wrong JSON type; the error names that field's JSON path and the JSON
// it expects.
func TestWrongFieldTypesNameTheJSONField(t *testing.T) {
	cases := []struct {
		step, event, field, expects string
	}{
		{"verify-query", `{"runId":42}`, "runId", "expected a string"},
		{"verify-query", `{"runId":{"id":"wr_1"}}`, "runId", "got a JSON object, expected a string"},
		{"start-import", `{"taskToken":["t"]}`, "taskToken", "got a JSON array, expected a string"},
	}
	for _, tc := range cases {
		ie, err := inputTypes[tc.step].decode(tc.event)
		if err != nil || ie == nil {
			t.Errorf("%s %s: want InvalidInputError on %s, got %v %v", tc.step, tc.event, tc.field, ie, err)
			continue
		}
		if ie.Field != tc.field || !strings.Contains(ie.Fix, tc.expects) {
			t.Errorf("%s %s: field %q fix %q; want field %q and %q", tc.step, tc.event, ie.Field, ie.Fix, tc.field, tc.expects)
		}
		if strings.Contains(ie.Error(), "Go struct") || strings.Contains(ie.Error(), "importrun.") || strings.Contains(ie.Error(), "lakeformation.") {
			t.Errorf("message names a Go type: %s", ie.Error())
		}
	}
}

// Every field of every input type, set to a JSON value of another type,
// is rejected with its own JSON path: no field can be added to an input
// struct without the rule holding for it.
func TestEveryFieldOfEveryInputTypeIsChecked(t *testing.T) {
	for step, in := range inputTypes {
		for path, wrong := range wrongValues(in.typ, "") {
			event := nest(path, wrong)
			ie, err := in.decode(event)
			if err != nil || ie == nil {
				t.Errorf("%s %s: want InvalidInputError, got %v %v", step, event, ie, err)
				continue
			}
			if ie.Field != path {
				t.Errorf("%s %s: field %q, want %q", step, event, ie.Field, path)
			}
		}
	}
}

// Fields the step does not read (the EventBridge envelope, the run's
// context) are not a reason to fail.
func TestUnknownFieldsAreIgnored(t *testing.T) {
	ie, err := inputTypes["verify-query"].decode(`{"runId":"wr_1","execution":{"id":"x"},"extra":[1]}`)
	if ie != nil || err != nil {
		t.Fatalf("unknown fields rejected: %v %v", ie, err)
	}
}

// wrongValues maps the JSON path of every field under t to a JSON value
// of another type than the field's.
func wrongValues(t reflect.Type, prefix string) map[string]string {
	out := map[string]string{}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	for f := range t.Fields() {
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		path := prefix + name
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		switch ft.Kind() {
		case reflect.String:
			out[path] = `7`
		case reflect.Struct:
			out[path] = `"x"`
			for p, v := range wrongValues(ft, path+".") {
				out[p] = v
			}
		default:
			out[path] = `"x"`
		}
	}
	return out
}

// nest builds {"a":{"b":value}} for path "a.b".
func nest(path, value string) string {
	parts := strings.Split(path, ".")
	out := value
	for i := len(parts) - 1; i >= 0; i-- {
		key, _ := json.Marshal(parts[i])
		out = "{" + string(key) + ":" + out + "}"
	}
	return out
}
