// Command cleanup-lake-formation is the stack-delete cleanup: a CloudFormation
// custom resource that, when the stack is deleted, revokes the Lake Formation
// grants of the stack's roles and removes them from the data lake
// administrators; see pkg/lakeformation (StackCleanup). It only wires.
package main

import (
	"github.com/aws/aws-lambda-go/cfn"
	lf "github.com/aws/aws-sdk-go-v2/service/lakeformation"

	"github.com/lakeforge/lakeforge/pkg/awsretry"
	"github.com/lakeforge/lakeforge/pkg/lakeformation"
	"github.com/lakeforge/lakeforge/pkg/steprun"
)

func main() {
	step := steprun.New("cleanup-lake-formation")
	cfg, err := step.AWSConfig()
	if err != nil {
		step.Fail(err)
		return
	}
	cleanup := &lakeformation.StackCleanup{LF: lf.NewFromConfig(cfg), Retry: awsretry.Default(), Log: step.Log}
	steprun.Start(step, cfn.LambdaWrap(cleanup.Handler))
}
