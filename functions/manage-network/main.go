// Command manage-network is network.manage: the handler of a CloudFormation
// custom resource that, at deploy, creates what the preflight checks find
// missing in the Glue connection's network (and nothing that exists), and
// removes what it created when the stack is deleted (pkg/preflight). It
// only wires: preflight.WireManageNetwork builds the clients once.
package main

import (
	"github.com/lakeforge/lakeforge/pkg/preflight"
	"github.com/lakeforge/lakeforge/pkg/steprun"
)

func main() { steprun.Main(preflight.ManageNetworkStep) }
