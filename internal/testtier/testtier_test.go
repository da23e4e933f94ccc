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

// External must skip under the unit tier and let the test go on otherwise.
func TestExternalSkipsOnlyInTheUnitTier(t *testing.T) {
	for _, tc := range []struct {
		tier string
		skip bool
	}{{"unit", true}, {"", false}} {
		t.Setenv(Env, tc.tier)
		reached := false
		ran := t.Run("tier="+tc.tier, func(t *testing.T) {
			External(t, "nothing")
			reached = true
		})
		if !ran {
			t.Fatalf("tier %q: subtest failed", tc.tier)
		}
		if reached == tc.skip {
			t.Errorf("tier %q: body reached = %v, want skip = %v", tc.tier, reached, tc.skip)
		}
	}
}
