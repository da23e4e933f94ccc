// Command test-connection is the TestConnection step Lambda: it checks that
// the deployed Glue connection can reach the source database (secret and
// its KMS key, subnet and route table, security groups, route to S3, the
// AWS endpoints the import job calls without NAT, DNS and free IPs, then
// glue:TestConnection) and, when repair is on, adds the missing
// self-referencing rule, S3 route and interface endpoints. The logic is in
// pkg/preflight; this file only wires it.
package main

import (
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/lakeforge/lakeforge/pkg/preflight"
	"github.com/lakeforge/lakeforge/pkg/steprun"
)

func main() {
	step := steprun.New("test-connection")
	connection := step.Env.String("LAKEFORGE_CONNECTION_NAME")
	stackName := step.Env.String("LAKEFORGE_STACK_NAME")
	freeIPs := step.Env.Int("LAKEFORGE_REQUIRED_FREE_IPS")
	repair := step.Env.Bool("LAKEFORGE_REPAIR", false)
	secretKey := step.Env.Optional("LAKEFORGE_SECRET_KMS_KEY_ARN", "")
	cfg, err := step.AWSConfig()
	if err != nil {
		step.Fail(err)
		return
	}
	h := &preflight.Handler{
		Checker: &preflight.Checker{
			EC2:             ec2.NewFromConfig(cfg),
			Secrets:         secretsmanager.NewFromConfig(cfg),
			Glue:            glue.NewFromConfig(cfg),
			Region:          cfg.Region,
			StackName:       stackName,
			Repair:          repair,
			RequiredFreeIPs: freeIPs,
			SecretKMSKeyARN: secretKey,
			Log:             step.Log,
		},
		ConnectionName: connection,
	}
	steprun.Start(step, h.Handle)
}
