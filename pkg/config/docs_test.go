package config

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// configurationPage is the settings reference: one table with a row per
// setting (key, type, default, rule, example).
const configurationPage = "docs/configuration.md"

// docRow is one row of the settings table.
type docRow struct{ key, typ, def, rule, example string }

func readSettingsTable(t *testing.T) []docRow {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", configurationPage))
	if err != nil {
		t.Fatal(err)
	}
	text := string(raw)
	const header = "| key | type | default | rule | example |"
	start := strings.Index(text, header)
	if start < 0 {
		t.Fatalf("%s has no settings table (%s)", configurationPage, header)
	}
	var rows []docRow
	for _, line := range strings.Split(text[start:], "\n")[2:] {
		if !strings.HasPrefix(line, "| ") {
			break
		}
		cells := strings.Split(strings.TrimSuffix(strings.TrimPrefix(line, "| "), " |"), " | ")
		if len(cells) != 5 {
			t.Errorf("%s: %d cells, want 5 (key | type | default | rule | example): %s", configurationPage, len(cells), line)
			continue
		}
		rows = append(rows, docRow{strings.Trim(cells[0], "`"), cells[1], cells[2], cells[3], cells[4]})
	}
	if len(rows) < 40 {
		t.Fatalf("%s: the settings table has only %d rows", configurationPage, len(rows))
	}
	return rows
}

// The configuration page documents every setting of the configuration type
// once, and nothing else, so a new field cannot ship undocumented and a
// removed one cannot stay in the docs. Each row says the JSON type the
// field takes, a default that is the one Default() has, a rule and an
// example.
func TestConfigurationPageDocumentsEverySetting(t *testing.T) {
	rows := readSettingsTable(t)
	fields := settingFields(reflect.TypeOf(Config{}), "")
	var documented []string
	for _, r := range rows {
		documented = append(documented, r.key)
		f, ok := fields[r.key]
		if !ok {
			t.Errorf("%s documents `%s`, which is no setting of pkg/config.Config", configurationPage, r.key)
			continue
		}
		if want := jsonTypeName(f); r.typ != want {
			t.Errorf("%s: `%s` has type %q; the field takes %q", configurationPage, r.key, r.typ, want)
		}
		if strings.TrimSpace(r.rule) == "" || !strings.Contains(r.example, "`") || strings.TrimSpace(r.def) == "" {
			t.Errorf("%s: `%s` lacks a default, rule or example (a backticked value): %+v", configurationPage, r.key, r)
		}
		checkDocumentedDefault(t, r)
	}
	for key := range fields {
		if n := countOf(documented, key); n != 1 {
			t.Errorf("%s documents `%s` %d times; want one row", configurationPage, key, n)
		}
	}
}

func countOf(list []string, s string) int {
	n := 0
	for _, v := range list {
		if v == s {
			n++
		}
	}
	return n
}

// checkDocumentedDefault compares a default written as a JSON value
// (`30`, `lakeforge`, `[]`, `{"key":"source",...}`) with Default()'s value
// at the key. Words such as "generated" or "(required)" are not compared.
func checkDocumentedDefault(t *testing.T, r docRow) {
	t.Helper()
	if !strings.HasPrefix(r.def, "`") {
		return
	}
	lit := strings.SplitN(strings.TrimPrefix(r.def, "`"), "`", 2)[0]
	raw, _ := json.Marshal(Default())
	var doc any
	_ = json.Unmarshal(raw, &doc)
	actual := doc
	for _, part := range strings.Split(r.key, ".") {
		m, _ := actual.(map[string]any)
		actual = m[part]
	}
	var want any
	if err := json.Unmarshal([]byte(lit), &want); err != nil {
		want = lit // a bare string: `lakeforge`, `G.1X`
	}
	if empty(want) && empty(actual) {
		return
	}
	if !reflect.DeepEqual(want, actual) {
		t.Errorf("%s: `%s` default %s; Default() has %v", configurationPage, r.key, r.def, actual)
	}
}

// empty is true for "", null, [] and {}: an absent list or map reads as
// empty, and an unset string as "".
func empty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case []any:
		return len(x) == 0
	case map[string]any:
		return len(x) == 0
	}
	return false
}

// jsonTypeName is how the page names the JSON a field takes.
func jsonTypeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int32, reflect.Int64:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Struct:
		return "object"
	case reflect.Slice:
		return "list of " + jsonTypeName(t.Elem()) + "s"
	case reflect.Map:
		return "map of " + strings.Replace(jsonTypeName(t.Elem()), "list", "lists", 1) + pluralIfObject(t.Elem())
	}
	return t.Kind().String()
}

func pluralIfObject(t reflect.Type) string {
	if t.Kind() == reflect.Struct {
		return "s"
	}
	return ""
}

// settingFields maps the JSON path of each leaf of a configuration type to
// its Go type. A TagRef is documented as one setting (an object).
func settingFields(t reflect.Type, prefix string) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		path := prefix + name
		if f.Type.Kind() == reflect.Struct && f.Type != reflect.TypeOf(TagRef{}) {
			for k, v := range settingFields(f.Type, path+".") {
				out[k] = v
			}
			continue
		}
		out[path] = f.Type
	}
	return out
}
