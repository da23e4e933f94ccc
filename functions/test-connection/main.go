// Command test-connection is the TestConnection step Lambda; see pkg/preflight.
// It only wires: preflight.WireTestConnection reads the environment and builds the clients
// once at cold start (the template contract test starts the same wiring).
package main

import (
	"github.com/lakeforge/lakeforge/pkg/preflight"
	"github.com/lakeforge/lakeforge/pkg/steprun"
)

func main() { steprun.Main(preflight.TestConnectionStep) }
