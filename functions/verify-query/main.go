// Command verify-query is the VerifyQuery step Lambda; see pkg/verify.
// It only wires: verify.WireVerifyQuery reads the environment and builds the clients
// once at cold start (the template contract test starts the same wiring).
package main

import (
	"github.com/lakeforge/lakeforge/pkg/steprun"
	"github.com/lakeforge/lakeforge/pkg/verify"
)

func main() { steprun.Main(verify.VerifyQueryStep) }
