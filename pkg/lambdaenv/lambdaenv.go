// Package lambdaenv reads a step Lambda's settings from its environment once,
// at cold start, and reports every missing or malformed variable together.
package lambdaenv

import (
	"encoding/json"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/lakeforge/lakeforge/pkg/steperr"
)

// Reader collects values and problems. Read everything, then call Err.
type Reader struct {
	lookup   func(string) (string, bool)
	problems []string
	names    []string
}

// New reads from the process environment.
func New() *Reader { return &Reader{lookup: os.LookupEnv} }

// FromMap reads from m only, never from the process environment.
func FromMap(m map[string]string) *Reader {
	return &Reader{lookup: func(k string) (string, bool) { v, ok := m[k]; return v, ok }}
}

func (r *Reader) get(name string) (string, bool) {
	if !slices.Contains(r.names, name) {
		r.names = append(r.names, name)
	}
	return r.lookup(name)
}

// Names lists the variables read so far, in the order first read: the
// template contract test compares them with the function's environment in
// the template, so a variable the stack sets and no step reads fails too.
func (r *Reader) Names() []string { return slices.Clone(r.names) }

// String returns a required, non-empty variable.
func (r *Reader) String(name string) string {
	v, ok := r.get(name)
	if !ok || strings.TrimSpace(v) == "" {
		r.problems = append(r.problems, name+" is not set")
		return ""
	}
	return v
}

// Optional returns a variable or def when it is unset or empty.
func (r *Reader) Optional(name, def string) string {
	if v, ok := r.get(name); ok && v != "" {
		return v
	}
	return def
}

// Bool returns a variable holding "true" or "false", or def when unset.
func (r *Reader) Bool(name string, def bool) bool {
	v, ok := r.get(name)
	if !ok || v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		r.problems = append(r.problems, name+"="+strconv.Quote(v)+" is not true or false")
	}
	return b
}

// Int returns a required integer variable.
func (r *Reader) Int(name string) int {
	v := r.String(name)
	if v == "" {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		r.problems = append(r.problems, name+"="+strconv.Quote(v)+" is not a whole number")
	}
	return n
}

// Float returns a required number variable.
func (r *Reader) Float(name string) float64 {
	v := r.String(name)
	if v == "" {
		return 0
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		r.problems = append(r.problems, name+"="+strconv.Quote(v)+" is not a number")
	}
	return f
}

// JSON decodes a required variable holding JSON into out.
func (r *Reader) JSON(name string, out any) {
	v := r.String(name)
	if v == "" {
		return
	}
	if err := json.Unmarshal([]byte(v), out); err != nil {
		r.problems = append(r.problems, name+" is not valid JSON: "+err.Error())
	}
}

// List returns a required comma-separated list.
func (r *Reader) List(name string) []string {
	v := r.String(name)
	if v == "" {
		return nil
	}
	return Split(v)
}

// OptionalList returns a comma-separated list, empty when unset.
func (r *Reader) OptionalList(name string) []string {
	return Split(r.Optional(name, ""))
}

// Split splits a comma-separated list, dropping empty elements.
func Split(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// Err returns a ConfigError naming every problem, or nil. The stack sets
// these variables; a problem here means the function was deployed by hand or
// its environment was edited.
func (r *Reader) Err() error {
	if len(r.problems) == 0 {
		return nil
	}
	return &steperr.ConfigError{
		Field: "environment",
		Fix:   strings.Join(r.problems, "; ") + "; redeploy the stack with `make deploy` so the function gets the environment it was built for",
	}
}
