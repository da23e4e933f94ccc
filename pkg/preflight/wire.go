package preflight

import (
	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/lakeforge/lakeforge/pkg/stepcontract"
	"github.com/lakeforge/lakeforge/pkg/steprun"
)

// The SDK clients WireTestConnection and the CLI pass for each interface.
var (
	_ EC2API         = (*ec2.Client)(nil)
	_ SecretsAPI     = (*secretsmanager.Client)(nil)
	_ GlueAPI        = (*glue.Client)(nil)
	_ RepairsAPI     = (*ec2.Client)(nil)
	_ HostedZonesAPI = (*route53.Client)(nil)
)

// WireTestConnection wires test-connection: what its main.go runs at cold
// start and what the template contract test starts with the template's
// environment.
func WireTestConnection(s *steprun.Step) (steprun.Handler, error) {
	connection := s.Env.String(stepcontract.EnvConnectionName)
	stackName := s.Env.String(stepcontract.EnvStackName)
	freeIPs := s.Env.Int(stepcontract.EnvRequiredFreeIPs)
	repair := s.Env.Bool(stepcontract.EnvRepair, false)
	secretKey := s.Env.Optional(stepcontract.EnvSecretKMSKeyARN, "")
	cfg, err := s.AWSConfig()
	if err != nil {
		return nil, err
	}
	h := &Handler{
		Checker: &Checker{
			EC2:             ec2.NewFromConfig(cfg),
			Route53:         route53.NewFromConfig(cfg),
			Secrets:         secretsmanager.NewFromConfig(cfg),
			Glue:            glue.NewFromConfig(cfg),
			Region:          cfg.Region,
			StackName:       stackName,
			Repair:          repair,
			RequiredFreeIPs: freeIPs,
			SecretKMSKeyARN: secretKey,
			Log:             s.Log,
		},
		ConnectionName: connection,
	}
	return steprun.Typed(s.Name, h.Handle), nil
}

// WireManageNetwork wires manage-network, the handler of network.manage's
// custom resource: cfn.LambdaWrap answers CloudFormation at the event's
// ResponseURL. The subnet and groups are the resource's properties.
func WireManageNetwork(s *steprun.Step) (steprun.Handler, error) {
	stackName := s.Env.String(stepcontract.EnvStackName)
	cfg, err := s.AWSConfig()
	if err != nil {
		return nil, err
	}
	client := ec2.NewFromConfig(cfg)
	m := &NetworkManager{
		Checker: &Checker{
			EC2:       client,
			Route53:   route53.NewFromConfig(cfg),
			Region:    cfg.Region,
			StackName: stackName,
			Repair:    true,
			Tags:      ManagedNetworkTags(),
			Log:       s.Log,
		},
		Remover: client,
	}
	return steprun.Typed(s.Name, cfn.LambdaWrap(m.Handler)), nil
}
