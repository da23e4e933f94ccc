// Command import-events ends the pipeline's wait for the import: on the
// import job's state-change events, and on the fallback schedule,
// it releases the task token StartImport kept, and has runs that ended
// outside the state machine tagged by TagOutput. See pkg/importrun; it
// only wires (the template contract test starts the same wiring).
package main

import (
	"github.com/lakeforge/lakeforge/pkg/importrun"
	"github.com/lakeforge/lakeforge/pkg/steprun"
)

func main() { steprun.Main(importrun.ImportEventsStep) }
