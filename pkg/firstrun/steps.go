package firstrun

import (
	"github.com/lakeforge/lakeforge/pkg/stepcontract"
	"github.com/lakeforge/lakeforge/pkg/steprun"
)

// FirstRunStep is the first run's custom resource handler: functions/first-run
// runs it with steprun.Main; pkg/steps lists it for the tests and the demo.
var FirstRunStep = steprun.Definition{Name: stepcontract.FirstRun, Wire: WireFirstRun}
