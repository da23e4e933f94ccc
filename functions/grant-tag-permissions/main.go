// Command grant-tag-permissions is the GrantTagPermissions step Lambda; see pkg/lakeformation.
// It only wires: lakeformation.WireGrantTagPermissions reads the environment and builds the clients
// once at cold start (the template contract test starts the same wiring).
package main

import (
	"github.com/lakeforge/lakeforge/pkg/lakeformation"
	"github.com/lakeforge/lakeforge/pkg/steprun"
)

func main() { steprun.Main(lakeformation.GrantTagPermissionsStep) }
