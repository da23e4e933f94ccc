package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// ContextKey is the cdk.json context key that holds the configuration.
const ContextKey = "lakeforge"

// FromContext builds the configuration from the value of the "lakeforge"
// context key as CDK hands it over: a JSON object from cdk.json, or a JSON
// string from `cdk deploy -c lakeforge='{...}'`. Absent keys keep their
// defaults. The result is validated; every problem is reported at once.
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

// Parse decodes a JSON configuration over the defaults and validates it.
// Unknown keys are errors, so a misspelt setting never silently keeps its
// default.
func Parse(raw []byte) (Config, error) {
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

func decodeProblem(err error) Problem {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		return Problem{
			Path:    ContextKey + "." + typeErr.Field,
			Value:   typeErr.Value,
			Allowed: "a JSON " + jsonKind(typeErr.Type.Kind().String()),
		}
	}
	msg := err.Error()
	if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		return Problem{
			Path:    ContextKey,
			Value:   strings.Trim(f, `"`),
			Allowed: "a known key (see the configuration reference in README.md); this one is unknown, probably misspelt",
		}
	}
	return Problem{Path: ContextKey, Value: "", Allowed: "valid JSON: " + msg}
}

func jsonKind(goKind string) string {
	switch goKind {
	case "int", "int32", "int64", "float64":
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
