package cli

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// The two ways to show a followed run.
var (
	_ display = (*plainDisplay)(nil)
	_ display = (*barDisplay)(nil)
)

// display shows a followed run: progress bars on a terminal, plain lines
// when piped.
type display interface {
	stepStarted(name string, sinceStart time.Duration)
	stepFinished(s Step)
	importProgress(p importProgress)
	// tick redraws the live line (terminal only).
	tick(current *Step, running time.Duration)
	finish()
}

func round(d time.Duration) string {
	if d < 10*time.Second {
		return d.Round(time.Millisecond).String()
	}
	return d.Round(100 * time.Millisecond).String()
}

// plainDisplay writes one line per event, nothing else: safe for logs,
// pipes and CI.
type plainDisplay struct{ w io.Writer }

func (d *plainDisplay) stepStarted(name string, since time.Duration) {
	fmt.Fprintf(d.w, "[+%s] %s started\n", round(since), name)
}

func (d *plainDisplay) stepFinished(s Step) {
	verb := "done"
	if s.Failed {
		verb = "failed"
	}
	fmt.Fprintf(d.w, "%s %s in %s\n", s.Name, verb, round(time.Duration(s.Seconds*float64(time.Second))))
}

func (d *plainDisplay) importProgress(p importProgress) { fmt.Fprintln(d.w, p.line()) }
func (d *plainDisplay) tick(*Step, time.Duration)       {}
func (d *plainDisplay) finish()                         {}

func (p importProgress) line() string {
	s := fmt.Sprintf("import run %s: %s", ShortID(p.runID), strings.ToLower(p.status))
	switch {
	case p.tablesPresent:
		s += fmt.Sprintf(", %d/%d tables", p.tablesDone, p.tablesTotal)
	case p.actionsTotal > 0:
		s += fmt.Sprintf(", %d/%d workflow actions done", p.actionsDone, p.actionsTotal)
	default:
		// Glue counts a run's actions once its trigger has fired.
		s += ", its job not started yet"
	}
	return s
}

// ShortID shortens a long run id (an execution name is a UUID, a Glue
// workflow run id "wr_" and 64 hex digits) where it is repeated: the start
// is enough to tell runs apart; --output json keeps the whole id.
func ShortID(id string) string {
	if len(id) <= 16 {
		return id
	}
	return id[:11] + "…"
}

// barDisplay draws on a terminal: a line per finished state, and a live
// last line with bars for the steps and the import, redrawn in place.
type barDisplay struct {
	w        io.Writer
	finished int
	imp      importProgress
	hasImp   bool
	live     bool
}

// pipelineSteps is the number of states of a successful run, for the bar.
// It is an estimate (the ASL decides); the bar caps at full.
const pipelineSteps = 9

func (d *barDisplay) clear() {
	if d.live {
		fmt.Fprint(d.w, "\r\x1b[K")
		d.live = false
	}
}

func (d *barDisplay) stepStarted(string, time.Duration) {}

func (d *barDisplay) stepFinished(s Step) {
	d.clear()
	mark := "\x1b[32m✔\x1b[0m"
	if s.Failed {
		mark = "\x1b[31m✘\x1b[0m"
	}
	d.finished++
	fmt.Fprintf(d.w, "%s %-24s %s\n", mark, s.Name, round(time.Duration(s.Seconds*float64(time.Second))))
}

func (d *barDisplay) importProgress(p importProgress) { d.imp, d.hasImp = p, true }

func bar(done, total, width int) string {
	if total <= 0 {
		total = 1
	}
	n := min(done*width/total, width)
	return "[" + strings.Repeat("█", n) + strings.Repeat("░", width-n) + "]"
}

func (d *barDisplay) tick(current *Step, running time.Duration) {
	d.clear()
	line := fmt.Sprintf("%s %d/%d steps", bar(d.finished, pipelineSteps, 20), min(d.finished, pipelineSteps), pipelineSteps)
	if current != nil {
		line += fmt.Sprintf("  %s %s", current.Name, round(running))
	}
	if d.hasImp && current != nil && strings.Contains(current.Name, "Import") {
		switch {
		case d.imp.tablesPresent:
			line += fmt.Sprintf("  tables %s %d/%d", bar(d.imp.tablesDone, d.imp.tablesTotal, 10), d.imp.tablesDone, d.imp.tablesTotal)
		case d.imp.actionsTotal > 0:
			line += fmt.Sprintf("  import %s %d/%d actions", bar(int(d.imp.actionsDone), int(d.imp.actionsTotal), 10), d.imp.actionsDone, d.imp.actionsTotal)
		default:
			line += "  import starting"
		}
	}
	fmt.Fprint(d.w, line)
	d.live = true
}

func (d *barDisplay) finish() { d.clear() }
