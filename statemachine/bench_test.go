package statemachine

import (
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/glue/types"
)

// BenchmarkPipelineTransitions runs the pipeline ASL with
// aws-local-stepfunctions against simulated imports and prints, per
// scenario, the state transitions of one run (goal: at most 12, flat in the
// import's length) and how long after the import ended the pipeline
// noticed it (goal: at most 60 s when the Glue event arrives, at most the
// fallback interval when it is lost). Wait states and retry pauses are
// overridden to 0 ms; the simulated clock runs through the events.
func BenchmarkPipelineTransitions(b *testing.B) {
	for _, c := range []struct {
		name  string
		d     time.Duration
		setup func(w *world)
	}{
		{"import-30m", 30 * time.Minute, nil},
		{"import-3h", 3 * time.Hour, nil},
		{"lost-event", 3 * time.Hour, func(w *world) { w.events = nil }},
		{"failed-job", 30 * time.Minute, func(w *world) {
			w.glue.JobState = types.JobRunStateFailed
			w.events = []simEvent{{after: 5 * time.Second, state: "FAILED", message: "job failed"}}
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			var transitions int
			var lag time.Duration
			for b.Loop() {
				w := newWorld(b, c.d, sixHours)
				if c.setup != nil {
					c.setup(w)
				}
				ex := runLocal(b, map[string]any{}, w.handle)
				transitions, lag = ex.Transitions(), w.noticeLag()
			}
			b.ReportMetric(float64(transitions), "transitions/run")
			b.ReportMetric(lag.Seconds(), "notice-lag-s")
			fmt.Printf("pipeline-bench: scenario=%s transitions=%d notice_lag_s=%d\n", c.name, transitions, int(lag.Seconds()))
		})
	}
}
