// Command start-import is the StartImport step Lambda; see pkg/importrun.
// It only wires: importrun.WireStartImport reads the environment and builds the clients
// once at cold start (the template contract test starts the same wiring).
package main

import (
	"github.com/lakeforge/lakeforge/pkg/importrun"
	"github.com/lakeforge/lakeforge/pkg/steprun"
)

func main() { steprun.Main(importrun.StartImportStep) }
