// Command cleanup-lake-formation is the stack-delete cleanup: the handler of
// a CloudFormation custom resource that, when the stack is deleted, revokes
// the Lake Formation grants of the stack's roles and removes them from the
// data lake administrators (pkg/lakeformation, StackCleanup). It only wires:
// lakeformation.WireCleanupLakeFormation builds the client once at cold start.
package main

import (
	"github.com/lakeforge/lakeforge/pkg/lakeformation"
	"github.com/lakeforge/lakeforge/pkg/steprun"
)

func main() { steprun.Main(lakeformation.CleanupLakeFormationStep) }
