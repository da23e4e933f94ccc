package docs

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The README is the front page: short, and every page it and the docs link
// to (and every heading a link names) exists, so a newcomer never lands on
// a dead link after a page is split or a heading renamed.
func TestReadmeIsShortAndEveryDocLinkResolves(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(readme), "\n"); n > 250 {
		t.Errorf("README.md has %d lines; keep it at most 250 (what lakeforge is, the demo, the quick start, links) and move details to docs/", n)
	}
	pages, _ := filepath.Glob("*.md")
	files := append([]string{filepath.Join("..", "README.md")}, pages...)
	link := regexp.MustCompile(`\]\(([^)\s]+)\)`)
	checked := 0
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range link.FindAllStringSubmatch(withoutCode(string(raw)), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			path, anchor, _ := strings.Cut(target, "#")
			dest := file
			if path != "" {
				dest = filepath.Join(filepath.Dir(file), path)
			}
			body, err := os.ReadFile(dest)
			if err != nil {
				t.Errorf("%s links to %s: %v", file, target, err)
				continue
			}
			checked++
			if anchor != "" && !hasAnchor(string(body), anchor) {
				t.Errorf("%s links to %s: %s has no heading with the anchor #%s", file, target, dest, anchor)
			}
		}
	}
	if checked < 20 {
		t.Fatalf("checked only %d links; the link pattern is broken", checked)
	}
}

// withoutCode drops fenced code blocks, whose brackets are no links.
func withoutCode(text string) string {
	var b strings.Builder
	in := false
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			in = !in
			continue
		}
		if !in {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

// hasAnchor says whether a heading of the Markdown text has GitHub's anchor
// for it: lower case, punctuation dropped, spaces as hyphens.
func hasAnchor(text, anchor string) bool {
	for _, line := range strings.Split(withoutCode(text), "\n") {
		if !strings.HasPrefix(line, "#") {
			continue
		}
		title := strings.TrimSpace(strings.TrimLeft(line, "#"))
		var b strings.Builder
		for _, r := range strings.ToLower(title) {
			switch {
			case r == ' ':
				b.WriteRune('-')
			case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
				b.WriteRune(r)
			}
		}
		if b.String() == anchor {
			return true
		}
	}
	return false
}
