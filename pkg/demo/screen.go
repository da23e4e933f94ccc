package demo

// What the demo shows, as one story in order: the stand-in list once, a
// line per setup phase as it ends, the CLI's display of the run, then the
// final screen (the analyst's queries, a one-line summary, what to do
// next). Everything else (the demo's narration, each stand-in's answer, the
// step handlers' JSON logs, Spark's log) goes to the log file, whose path
// the demo prints; --verbose shows it on the terminal too.

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// screen writes the demo's own lines. On a terminal a phase in progress is
// a live line, replaced by its ✔ line when it ends; piped, each phase is
// one plain line when it ends.
type screen struct {
	mu       sync.Mutex
	out      io.Writer
	terminal bool
	width    int
	live     bool
}

func (s *screen) clearLive() {
	if s.live {
		fmt.Fprint(s.out, "\r\x1b[K")
		s.live = false
	}
}

// begin shows the phase in progress (terminal only).
func (s *screen) begin(what string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.terminal {
		return
	}
	s.clearLive()
	fmt.Fprint(s.out, s.fit("  … "+what))
	s.live = true
}

// done replaces the live line with the phase's result.
func (s *screen) done(what string, took time.Duration, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clearLive()
	mark, end := "✔", ""
	if s.terminal {
		mark = "\x1b[32m✔\x1b[0m"
	}
	if err != nil {
		mark, end = "✘", ": "+err.Error()
		if s.terminal {
			mark = "\x1b[31m✘\x1b[0m"
		}
	}
	fmt.Fprintln(s.out, mark+" "+s.fit(fmt.Sprintf("%-60s %s%s", what, round(took), end)))
}

// println writes whole lines, each cut to the screen's width.
func (s *screen) println(text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clearLive()
	for _, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		fmt.Fprintln(s.out, s.fit(line))
	}
}

// printWrapped writes whole lines, each too wide for the screen wrapped
// at spaces (its continuation indented two more than the line), for text
// that must be read whole (a CLI's report).
func (s *screen) printWrapped(text string) {
	var out []string
	for _, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		out = append(out, wrap(line, s.width-1)...)
	}
	s.println(strings.Join(out, "\n"))
}

// wrap breaks line at spaces into lines of at most width runes (0: no
// limit); a word longer than that stays whole (println cuts it).
func wrap(line string, width int) []string {
	if width <= 0 || utf8.RuneCountInString(line) <= width {
		return []string{line}
	}
	body := strings.TrimLeft(line, " ")
	indent := strings.Repeat(" ", len(line)-len(body))
	cont := indent + "  "
	var out []string
	cur := indent
	for _, w := range strings.Split(body, " ") {
		switch {
		case strings.TrimSpace(cur) == "":
			cur += w
		case utf8.RuneCountInString(cur)+1+utf8.RuneCountInString(w) <= width:
			cur += " " + w
		default:
			out = append(out, cur)
			cur = cont + w
		}
	}
	return append(out, cur)
}

// fit cuts a line to the width (a terminal would wrap it).
func (s *screen) fit(line string) string {
	if s.width <= 0 || utf8.RuneCountInString(line) <= s.width-1 {
		return line
	}
	r := []rune(line)
	return string(r[:s.width-2]) + "…"
}

func round(d time.Duration) string {
	if d < 10*time.Second {
		return d.Round(10 * time.Millisecond).String()
	}
	return d.Round(100 * time.Millisecond).String()
}

// logFile is the demo's log: narration, stand-ins, handler and Spark logs.
// Writes from several goroutines and processes are serialized.
type logFile struct {
	mu    sync.Mutex
	w     io.Writer
	also  io.Writer // the terminal with --verbose
	start time.Time
}

func (l *logFile) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.also != nil {
		_, _ = l.also.Write(p)
	}
	return l.w.Write(p)
}

// say writes one narration line with the time since the demo started.
func (l *logFile) say(format string, args ...any) {
	fmt.Fprintf(l, "demo [%6.1fs] %s\n", time.Since(l.start).Seconds(), fmt.Sprintf(format, args...))
}

// queryResult is one of the analyst's queries and its answer.
type queryResult struct {
	sql  string
	cols []string
	rows [][]string
}

// table renders a result as a Markdown-like table no wider than width:
// the widest column gives way first, its values cut with "…".
func table(cols []string, rows [][]string, width int) string {
	widths := make([]int, len(cols))
	for i, c := range cols {
		widths[i] = utf8.RuneCountInString(c)
	}
	for _, r := range rows {
		for i, v := range r {
			if i < len(widths) {
				widths[i] = max(widths[i], utf8.RuneCountInString(v))
			}
		}
	}
	total := func() int {
		n := 1
		for _, w := range widths {
			n += w + 3
		}
		return n
	}
	for width > 0 && total() > width-1 {
		widest := 0
		for i, w := range widths {
			if w > widths[widest] {
				widest = i
			}
		}
		if widths[widest] <= 4 {
			break
		}
		widths[widest]--
	}
	cell := func(v string, w int) string {
		if utf8.RuneCountInString(v) > w {
			v = string([]rune(v)[:w-1]) + "…"
		}
		return v + strings.Repeat(" ", w-utf8.RuneCountInString(v))
	}
	var b strings.Builder
	line := func(vals []string) {
		for i := range widths {
			v := ""
			if i < len(vals) {
				v = vals[i]
			}
			b.WriteString("| " + cell(v, widths[i]) + " ")
		}
		b.WriteString("|\n")
	}
	line(cols)
	sep := make([]string, len(cols))
	for i := range sep {
		sep[i] = strings.Repeat("-", widths[i])
	}
	line(sep)
	for _, r := range rows {
		line(r)
	}
	noun := "rows"
	if len(rows) == 1 {
		noun = "row"
	}
	fmt.Fprintf(&b, "(%d %s)\n", len(rows), noun)
	return b.String()
}

// nextSteps is the end of the final screen: from the demo to a deployment.
func nextSteps(logPath string) string {
	return `Next steps:
  1. Put your database, secret and network into the "lakeforge" object of cdk.json   docs/configuration.md
  2. make preflight   check the connection to your database from this machine          docs/troubleshooting.md
  3. make deploy      check credentials, region and configuration, then deploy          docs/operations.md
  What stood in for AWS: go run ./cmd/lakeforge-demo --stand-ins
  Logs of this run: ` + logPath
}
