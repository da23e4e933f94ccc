// Command get-import-status is the GetImportStatus step Lambda; see pkg/importrun.
// It only wires: importrun.WireGetImportStatus reads the environment and builds the clients
// once at cold start (the template contract test starts the same wiring).
package main

import (
	"github.com/lakeforge/lakeforge/pkg/importrun"
	"github.com/lakeforge/lakeforge/pkg/stepcontract"
	"github.com/lakeforge/lakeforge/pkg/steprun"
)

func main() { steprun.Main(stepcontract.GetImportStatus, importrun.WireGetImportStatus) }
