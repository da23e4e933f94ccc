// Package testtier tells a test whether the run is the unit tier (`make
// test-unit`): every test that needs no server, database, Spark or Node.
//
// A test that needs one of those calls External first. In the unit tier it
// is skipped; in every other run External does nothing, and `make test`
// fails when any test was skipped, so the full run never hides one.
package testtier

import (
	"os"
	"testing"
)

// Env is the variable `make test-unit` sets to "unit".
const Env = "LAKEFORGE_TEST_TIER"

// Unit reports whether this is the unit tier.
func Unit() bool { return os.Getenv(Env) == "unit" }

// External skips t in the unit tier: it needs what (for example "the moto
// server" or "Node 22").
func External(t testing.TB, what string) {
	t.Helper()
	if Unit() {
		t.Skipf("needs %s: not part of the unit tier (%s=unit)", what, Env)
	}
}
