// Command first-run is the first run at deploy: the handler of a
// CloudFormation custom resource that starts one pipeline execution when a
// deploy created or changed the pipeline, and none during a rollback
// (pkg/firstrun). It only wires: firstrun.WireFirstRun builds the clients
// once at cold start.
package main

import (
	"github.com/lakeforge/lakeforge/pkg/firstrun"
	"github.com/lakeforge/lakeforge/pkg/steprun"
)

func main() { steprun.Main(firstrun.FirstRunStep) }
