package verify

import (
	"github.com/lakeforge/lakeforge/pkg/stepcontract"
	"github.com/lakeforge/lakeforge/pkg/steprun"
)

// The step Lambdas of this package: functions/<Name>/main.go runs each
// with steprun.Main; pkg/steps lists them for the tests and the demo.
var (
	VerifyQueryStep = steprun.Definition{Name: stepcontract.VerifyQuery, Wire: WireVerifyQuery}
)
