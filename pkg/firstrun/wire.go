package firstrun

import (
	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/lakeforge/lakeforge/pkg/steprun"
)

// The SDK clients WireFirstRun passes for each interface.
var (
	_ StacksAPI     = (*cloudformation.Client)(nil)
	_ ExecutionsAPI = (*sfn.Client)(nil)
)

// WireFirstRun wires first-run, the handler of the custom resource that
// starts the first execution at deploy: cfn.LambdaWrap answers
// CloudFormation at the event's ResponseURL. It reads no environment: the
// state machine and the input are the resource's properties.
func WireFirstRun(s *steprun.Step) (steprun.Handler, error) {
	cfg, err := s.AWSConfig()
	if err != nil {
		return nil, err
	}
	f := &FirstRun{Stacks: cloudformation.NewFromConfig(cfg), SFN: sfn.NewFromConfig(cfg), Log: s.Log}
	return steprun.Typed(s.Name, cfn.LambdaWrap(f.Handler)), nil
}
