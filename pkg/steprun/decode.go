package steprun

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/lakeforge/lakeforge/pkg/steperr"
)

// EventField is the Field of an InvalidInputError about the event as a
// whole (not a JSON object, not JSON at all).
const EventField = "(event)"

// Decode reads a Lambda event into a value of type In. Every problem is an
// *steperr.InvalidInputError naming the JSON field (its path from the
// event's root, e.g. "detail.jobRunId") and the JSON the step expects
// there, where encoding/json alone would answer an UnmarshalTypeError
// naming a Go type, which aws-lambda-go would hand to Step Functions as
// "UnmarshalTypeError", a name no Retry or Catch matches.
//
// The event must be a JSON object. Fields the step does not read are
// ignored: EventBridge events carry an envelope (id, time, account, ...)
// and Step Functions may pass the run's context, neither of which a step
// must reject.
func Decode[In any](raw []byte) (In, error) {
	var in In
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		got := "nothing"
		if len(trimmed) > 0 {
			got = jsonKind(trimmed)
		}
		return in, &steperr.InvalidInputError{
			Field: EventField,
			Fix:   "got " + got + "; the step expects a JSON object " + Shape(reflect.TypeFor[In]()),
		}
	}
	err := json.Unmarshal(trimmed, &in)
	if err == nil {
		return in, nil
	}
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			field = EventField
		}
		value, _, _ := strings.Cut(typeErr.Value, " ")
		return in, &steperr.InvalidInputError{
			Field: field,
			Fix:   fmt.Sprintf("got a JSON %s, expected %s; the step expects %s", value, describe(typeErr.Type), Shape(reflect.TypeFor[In]())),
		}
	case errors.As(err, &syntaxErr):
		return in, &steperr.InvalidInputError{
			Field: EventField,
			Fix:   fmt.Sprintf("not valid JSON at byte %d (%v); the step expects %s", syntaxErr.Offset, syntaxErr, Shape(reflect.TypeFor[In]())),
		}
	}
	return in, &steperr.InvalidInputError{Field: EventField, Fix: err.Error() + "; the step expects " + Shape(reflect.TypeFor[In]())}
}

// jsonKind names the kind of the JSON value that starts raw.
func jsonKind(raw []byte) string {
	switch raw[0] {
	case '[':
		return "a JSON array"
	case '"':
		return "a JSON string"
	case 't', 'f':
		return "a JSON boolean"
	case 'n':
		return "JSON null"
	}
	if raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9') {
		return "a JSON number"
	}
	return "no JSON"
}

var timeType = reflect.TypeFor[time.Time]()

// describe says in JSON terms what a value of Go type t must be.
func describe(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == timeType {
		return "a string (an RFC 3339 time)"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array of " + plural(describe(t.Elem()))
	case reflect.Map:
		return "an object of " + plural(describe(t.Elem()))
	case reflect.Struct:
		return "an object " + Shape(t)
	}
	return "a JSON value"
}

func plural(s string) string {
	for _, article := range []string{"a ", "an "} {
		if rest, ok := strings.CutPrefix(s, article); ok {
			if head, tail, found := strings.Cut(rest, " "); found {
				return head + "s " + tail
			}
			return rest + "s"
		}
	}
	return s
}

// Shape is the JSON shape of a struct type, e.g. {"runId": string}: the
// input a step expects, for error messages.
func Shape(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || t == timeType {
		return describe(t)
	}
	var fields []string
	for f := range t.Fields() {
		name, ok := jsonName(f)
		if !ok {
			continue
		}
		kind := describe(f.Type)
		if ft := deref(f.Type); ft.Kind() == reflect.Struct && ft != timeType {
			kind = Shape(ft)
		}
		fields = append(fields, fmt.Sprintf("%q: %s", name, strings.TrimPrefix(strings.TrimPrefix(kind, "an "), "a ")))
	}
	if len(fields) == 0 {
		return "{} (any object; its fields are not read)"
	}
	return "{" + strings.Join(fields, ", ") + "}"
}

func deref(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// jsonName is the key encoding/json uses for an exported field.
func jsonName(f reflect.StructField) (string, bool) {
	if !f.IsExported() {
		return "", false
	}
	tag := f.Tag.Get("json")
	if tag == "-" {
		return "", false
	}
	name, _, _ := strings.Cut(tag, ",")
	if name == "" {
		name = f.Name
	}
	return name, true
}
