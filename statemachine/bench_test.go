package statemachine

import (
	"testing"
	"time"
)

// BenchmarkPipelineTransitions runs the pipeline ASL with
// aws-local-stepfunctions against a simulated import of each length and
// reports the state transitions of one run (the budget is 40) and how long
// after the import finished the pipeline noticed it. Wait states are
// overridden to 0 ms; the simulated clock advances by their seconds.
func BenchmarkPipelineTransitions(b *testing.B) {
	for _, c := range []struct {
		name string
		d    time.Duration
	}{{"import=30m", 30 * time.Minute}, {"import=3h", 3 * time.Hour}, {"import=never(timeout=6h)", 100 * time.Hour}} {
		b.Run(c.name, func(b *testing.B) {
			var transitions, reads int
			var delay time.Duration
			for b.Loop() {
				w := newWorld(b, c.d, sixHours)
				ex := runLocal(b, map[string]any{}, w.handle)
				transitions, reads = ex.Transitions(), len(w.calls["GetImportStatus"])
				if ex.Status == "SUCCEEDED" {
					delay = w.noticeDelay()
				}
			}
			b.ReportMetric(float64(transitions), "transitions/run")
			b.ReportMetric(float64(reads), "status-reads/run")
			b.ReportMetric(delay.Minutes(), "notice-delay-min")
		})
	}
}
