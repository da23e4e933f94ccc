package testtier

import "testing"

func TestUnitFollowsTheVariable(t *testing.T) {
	t.Setenv(Env, "unit")
	if !Unit() {
		t.Error("Unit() is false with " + Env + "=unit")
	}
	t.Setenv(Env, "")
	if Unit() {
		t.Error("Unit() is true without " + Env)
	}
}

// recorder is a testing.TB that records a skip instead of skipping: `make
// test` fails on any real skip, this test's included.
type recorder struct {
	testing.TB
	skipped bool
}

func (r *recorder) Helper()              {}
func (r *recorder) Skipf(string, ...any) { r.skipped = true }
func (r *recorder) Skip(...any)          { r.skipped = true }
func (r *recorder) SkipNow()             { r.skipped = true }

// External must skip in the unit tier and let the test go on otherwise.
func TestExternalSkipsOnlyInTheUnitTier(t *testing.T) {
	for _, tc := range []struct {
		tier string
		skip bool
	}{{"unit", true}, {"", false}, {"full", false}} {
		t.Setenv(Env, tc.tier)
		r := &recorder{TB: t}
		External(r, "nothing")
		if r.skipped != tc.skip {
			t.Errorf("%s=%q: skipped = %v, want %v", Env, tc.tier, r.skipped, tc.skip)
		}
	}
}
