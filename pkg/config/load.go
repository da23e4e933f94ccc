package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"sort"
	"strings"
)

// ContextKey is the cdk.json context key that holds the configuration.
const ContextKey = "lakeforge"

// FromContext builds the configuration from the value of the "lakeforge"
// context key as CDK hands it over: a JSON object from cdk.json, or a JSON
// string from `cdk deploy -c lakeforge='{...}'`. Absent keys keep their
// defaults. The result is validated; every problem is reported at once.
//
// An object from cdk.json has already been parsed by the CDK CLI, which
// keeps the last of two duplicate keys: LoadCDKJSON reads the file itself
// and catches those too.
func FromContext(value any) (Config, error) {
	var raw []byte
	switch v := value.(type) {
	case nil:
		raw = []byte("{}")
	case string:
		raw = []byte(v)
	default:
		var err error
		if raw, err = json.Marshal(v); err != nil {
			return Config{}, fmt.Errorf("context key %q: cannot read it as JSON: %w", ContextKey, err)
		}
	}
	return Parse(raw)
}

// LoadFile reads a configuration file that holds the "lakeforge" object
// itself (what `make deploy CONFIG=path` passes), with the same rules as
// cdk.json.
func LoadFile(path string) (Config, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("configuration file: %w", err)
	}
	return Parse(raw)
}

// LoadCDKJSON reads the "lakeforge" object of a cdk.json file byte for
// byte, so duplicate keys inside it are reported instead of silently
// resolved.
func LoadCDKJSON(path string) (Config, error) {
	ctx, err := CDKJSONContext(path)
	if err != nil {
		return Config{}, err
	}
	value, ok := ctx[ContextKey]
	if !ok {
		return Parse([]byte("{}"))
	}
	return Parse(value)
}

// CDKJSONContext is the "context" object of a cdk.json file, each entry as
// written: the "lakeforge" object (ContextKey) and the CDK feature flags.
func CDKJSONContext(path string) (map[string]json.RawMessage, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cdk.json: %w", err)
	}
	var doc struct {
		Context map[string]json.RawMessage `json:"context"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("%s is not valid JSON: %w", path, err)
	}
	return doc.Context, nil
}

// FeatureFlags are the entries of a cdk.json context other than the
// "lakeforge" object: the CDK feature flags an app gets under `cdk synth`.
func FeatureFlags(ctx map[string]json.RawMessage) (map[string]any, error) {
	flags := map[string]any{}
	for k, v := range ctx {
		if k == ContextKey {
			continue
		}
		var val any
		if err := json.Unmarshal(v, &val); err != nil {
			return nil, fmt.Errorf("cdk.json context %s: %w", k, err)
		}
		flags[k] = val
	}
	return flags, nil
}

// Parse decodes a JSON configuration over the defaults and validates it.
// Keys must match exactly: Go's encoding/json would match them regardless
// of case (so "stackname" silently overrode "stackName"), and it would keep
// the last of two duplicates. Unknown keys are errors, so a misspelt
// setting never silently keeps its default; anything after the object is an
// error too.
func Parse(raw []byte) (Config, error) {
	if probs := checkKeys(raw); len(probs) > 0 {
		return Config{}, &Problems{List: probs}
	}
	cfg := Default()
	// Lists and maps given in the JSON replace the defaults instead of
	// merging into them: a user who lists LF-tags lists all of them.
	cfg.LFTags.Tags = nil
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return Config{}, &Problems{List: []Problem{decodeProblem(err)}}
	}
	if cfg.LFTags.Tags == nil {
		cfg.LFTags.Tags = Default().LFTags.Tags
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// checkKeys walks the JSON document against the Config type and reports,
// at their full paths, keys that are not exactly a setting's name,
// duplicate keys, and data after the first value. It reports nothing about
// types and values; the decoder and Validate do.
func checkKeys(raw []byte) []Problem {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	w := &keyWalker{dec: dec}
	if err := w.value(reflect.TypeOf(Config{}), ContextKey); err != nil {
		return append(w.probs, Problem{Path: ContextKey, Value: "", Allowed: "valid JSON: " + err.Error()})
	}
	if tok, err := dec.Token(); err != io.EOF {
		found := fmt.Sprint(tok)
		if err != nil {
			found = err.Error()
		}
		w.probs = append(w.probs, Problem{Path: ContextKey, Value: found, Allowed: "one JSON object and nothing after it; remove what follows the closing brace"})
	}
	return w.probs
}

type keyWalker struct {
	dec   *json.Decoder
	probs []Problem
}

func (w *keyWalker) add(path, value, allowed string) {
	w.probs = append(w.probs, Problem{Path: path, Value: value, Allowed: allowed})
}

// value reads one JSON value whose Go type is t (nil: unknown, only
// duplicates are checked below it).
func (w *keyWalker) value(t reflect.Type, path string) error {
	tok, err := w.dec.Token()
	if err != nil {
		return err
	}
	delim, ok := tok.(json.Delim)
	if !ok {
		if tok == nil && t != nil && t.Kind() != reflect.Slice && t.Kind() != reflect.Map {
			// encoding/json would silently keep the default (a null list
			// or map is an empty one, which is what it says).
			w.add(path, "null", "a value, not null; leave the key out to keep the default")
		}
		return nil
	}
	switch delim {
	case '[':
		var elem reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			elem = t.Elem()
		}
		for i := 0; w.dec.More(); i++ {
			if err := w.value(elem, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case '{':
		fields := jsonFields(t)
		seen := map[string]bool{}
		for w.dec.More() {
			tok, err := w.dec.Token()
			if err != nil {
				return err
			}
			key, _ := tok.(string)
			keyPath := path + "." + key
			if seen[key] {
				w.add(keyPath, key, "each key once: this key appears more than once in the same object, and JSON readers disagree on which one wins")
			}
			seen[key] = true
			var next reflect.Type
			switch {
			case t != nil && t.Kind() == reflect.Map:
				next = t.Elem()
			case fields != nil:
				ft, known := fields[key]
				if !known {
					w.add(keyPath, key, unknownKeyHint(key, fields))
				}
				next = ft
			}
			if err := w.value(next, keyPath); err != nil {
				return err
			}
		}
	}
	// The closing delimiter.
	_, err = w.dec.Token()
	return err
}

// jsonFields maps the JSON names of a struct type's fields to their types;
// nil when t is not a struct.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	if t == nil || t.Kind() != reflect.Struct {
		return nil
	}
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		out[name] = f.Type
	}
	return out
}

// unknownKeyHint says which known key an unknown one resembles, or lists
// the keys allowed at its place.
func unknownKeyHint(key string, fields map[string]reflect.Type) string {
	known := make([]string, 0, len(fields))
	for k := range fields {
		known = append(known, k)
	}
	sort.Strings(known)
	for _, k := range known {
		if strings.EqualFold(k, key) {
			return fmt.Sprintf("unknown key; did you mean %q? Keys are case-sensitive", k)
		}
	}
	best, bestDist := "", 3
	for _, k := range known {
		if d := editDistance(strings.ToLower(key), strings.ToLower(k)); d < bestDist {
			best, bestDist = k, d
		}
	}
	if best != "" {
		return fmt.Sprintf("unknown key; did you mean %q?", best)
	}
	return "unknown key; the keys here are " + strings.Join(known, ", ")
}

// editDistance is the Levenshtein distance of two short strings.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func decodeProblem(err error) Problem {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		path := ContextKey
		if typeErr.Field != "" {
			path += "." + typeErr.Field
		}
		return Problem{
			Path:    path,
			Value:   typeErr.Value,
			Allowed: "a JSON " + jsonKind(typeErr.Type.Kind().String()),
		}
	}
	return Problem{Path: ContextKey, Value: "", Allowed: "valid JSON: " + err.Error()}
}

func jsonKind(goKind string) string {
	switch goKind {
	case "int", "int32", "int64":
		return "whole number"
	case "float64":
		return "number"
	case "bool":
		return "boolean (true or false)"
	case "slice":
		return "array"
	case "map", "struct":
		return "object"
	}
	return goKind
}

// Marshal renders the configuration as indented JSON, as cdk.json holds it.
func (c Config) Marshal() []byte {
	b, _ := json.MarshalIndent(c, "", "  ")
	return b
}
