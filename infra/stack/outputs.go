package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// output is one stack output an operator (and the CLI) reads after a
// deploy: its key is the output's logical id whatever the construct path,
// so the CLI finds it in any stack the lake is in.
type output struct {
	key, description string
	value            *string
}

// addOutputs exports outs under scope.
func addOutputs(scope constructs.Construct, outs []output) {
	for _, o := range outs {
		if o.value == nil {
			continue
		}
		out := awscdk.NewCfnOutput(scope, jsii.String(o.key), &awscdk.CfnOutputProps{Value: o.value, Description: jsii.String(o.description)})
		out.OverrideLogicalId(jsii.String(o.key))
	}
}
