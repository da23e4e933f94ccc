package importrun

import (
	"github.com/lakeforge/lakeforge/pkg/stepcontract"
	"github.com/lakeforge/lakeforge/pkg/steprun"
)

// The step Lambdas of this package: functions/<Name>/main.go runs each
// with steprun.Main; pkg/steps lists them for the tests and the demo.
var (
	StartImportStep  = steprun.Definition{Name: stepcontract.StartImport, Wire: WireStartImport}
	ImportEventsStep = steprun.Definition{Name: stepcontract.ImportEvents, Wire: WireImportEvents}
)
