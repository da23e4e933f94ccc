package preflight

import (
	"github.com/lakeforge/lakeforge/pkg/stepcontract"
	"github.com/lakeforge/lakeforge/pkg/steprun"
)

// The step Lambdas of this package: functions/<Name>/main.go runs each
// with steprun.Main; pkg/steps lists them for the tests and the demo.
var (
	TestConnectionStep = steprun.Definition{Name: stepcontract.TestConnection, Wire: WireTestConnection}
	ManageNetworkStep  = steprun.Definition{Name: stepcontract.ManageNetwork, Wire: WireManageNetwork}
)
