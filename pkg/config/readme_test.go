package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// The configuration reference (README.md and the docs/ pages it links)
// names every setting, so a new field cannot ship undocumented.
func TestReadmeDocumentsEverySetting(t *testing.T) {
	var readme string
	for _, f := range []string{"README.md", filepath.Join("docs", "configuration.md")} {
		raw, err := os.ReadFile(filepath.Join("..", "..", f))
		if err != nil {
			t.Fatal(err)
		}
		readme += string(raw)
	}
	pages, _ := filepath.Glob(filepath.Join("..", "..", "docs", "*.md"))
	for _, page := range pages {
		if filepath.Base(page) == "configuration.md" {
			continue // read above
		}
		more, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		readme += string(more)
	}
	paths := settingPaths(reflect.TypeOf(Config{}), "")
	if len(paths) < 40 {
		t.Fatalf("found only %d settings: %v", len(paths), paths)
	}
	for _, p := range paths {
		if !strings.Contains(readme, "`"+p+"`") {
			t.Errorf("neither README.md nor a docs/ page documents `%s`", p)
		}
	}
}

// settingPaths lists the JSON paths of the leaves of a configuration type.
// A TagRef is documented as one setting.
func settingPaths(t reflect.Type, prefix string) []string {
	var out []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		path := prefix + name
		if f.Type.Kind() == reflect.Struct && f.Type != reflect.TypeOf(TagRef{}) {
			out = append(out, settingPaths(f.Type, path+".")...)
			continue
		}
		out = append(out, path)
	}
	return out
}
