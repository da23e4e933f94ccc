package lakeformation

import (
	"context"
	"testing"
)

// TestCallCounts measures the API calls each step makes on a fresh account
// and on a converged one (the figures of the closing note), and
// checks the converged run is read-only. Run with -v to see the figures.
func TestCallCounts(t *testing.T) {
	type step struct {
		name  string
		seed  func(t *testing.T, a *account)
		build func(a *account) Runner
	}
	one := func(a *account) *GrantTagPermissions {
		g := grantStep(a)
		g.Grants = AccessGrants(workflowRole, workflowTag, []string{analystRole}, analystTag)
		return g
	}
	for _, s := range []step{
		{"configure-lake-formation", seedSettings, func(a *account) Runner { return configureStep(a) }},
		{"ensure-lf-tags", func(*testing.T, *account) {}, func(a *account) Runner {
			return &EnsureLFTags{LF: a.LF, Retry: fastRetry(), Tags: map[string][]string{"maintenance": {"crawler", "manual"}, "source": {"product"}}}
		}},
		{"register-location", func(*testing.T, *account) {}, func(a *account) Runner { return locationStep(a) }},
		{"ensure-database", func(t *testing.T, a *account) { createTag(t, a, "maintenance", "crawler", "manual") }, func(a *account) Runner { return databaseStep(a) }},
		{"grant-tag-permissions (1 analyst)", func(*testing.T, *account) {}, func(a *account) Runner { return one(a) }},
		{"tag-output", func(t *testing.T, a *account) {
			createTag(t, a, "source", "product")
			seedOutputDatabase(t, a, false)
		}, func(a *account) Runner { return tagOutputStep(a) }},
	} {
		t.Run(s.name, func(t *testing.T) {
			onEachBackend(t, func(t *testing.T, a *account) {
				s.seed(t, a)
				a.markCalls()
				if _, err := s.build(a).Run(context.Background()); err != nil {
					t.Fatal(err)
				}
				fresh, freshMut := len(a.since()), len(a.mutatingSince())
				a.markCalls()
				if _, err := s.build(a).Run(context.Background()); err != nil {
					t.Fatal(err)
				}
				conv, convMut := len(a.since()), len(a.mutatingSince())
				if convMut != 0 || freshMut == 0 {
					t.Fatalf("mutating calls: fresh %d, converged %d", freshMut, convMut)
				}
				t.Logf("%-34s fresh: %d calls (%d mutating); converged: %d calls (0 mutating)", s.name, fresh, freshMut, conv)
			})
		})
	}
}
