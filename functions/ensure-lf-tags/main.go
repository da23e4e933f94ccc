// Command ensure-lf-tags is the EnsureLFTags step Lambda; see pkg/lakeformation.
// It only wires: lakeformation.WireEnsureLFTags reads the environment and builds the clients
// once at cold start (the template contract test starts the same wiring).
package main

import (
	"github.com/lakeforge/lakeforge/pkg/lakeformation"
	"github.com/lakeforge/lakeforge/pkg/steprun"
)

func main() { steprun.Main(lakeformation.EnsureLFTagsStep) }
