// Command test-connection is the TestConnection step Lambda: it checks that
// the deployed Glue connection can reach the source database (secret,
// subnet and route table, security groups, route to S3, DNS and free IPs,
// then glue:TestConnection) and, when repair is on, adds the missing
// self-referencing rule and S3 gateway endpoint. The logic is in
// pkg/preflight; this file only wires it.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/lakeforge/lakeforge/pkg/lambdaenv"
	"github.com/lakeforge/lakeforge/pkg/preflight"
	"github.com/lakeforge/lakeforge/pkg/steperr"
	"github.com/lakeforge/lakeforge/pkg/steplog"
)

func main() {
	log := steplog.New("test-connection")
	env := lambdaenv.New()
	connection := env.String("LAKEFORGE_CONNECTION_NAME")
	stackName := env.String("LAKEFORGE_STACK_NAME")
	freeIPs := env.Int("LAKEFORGE_REQUIRED_FREE_IPS")
	repair := env.Bool("LAKEFORGE_REPAIR", false)
	if err := env.Err(); err != nil {
		// Every invocation reports the bad environment as a ConfigError,
		// which the state machine does not retry.
		log.Error("bad environment", "error", err)
		lambda.Start(func(context.Context, preflight.Input) (preflight.Output, error) { return preflight.Output{}, err })
		return
	}
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		cfgErr := &steperr.ConfigError{Field: "AWS configuration", Fix: "the Lambda runtime provides it; " + err.Error()}
		lambda.Start(func(context.Context, preflight.Input) (preflight.Output, error) { return preflight.Output{}, cfgErr })
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
			Log:             log,
		},
		ConnectionName: connection,
	}
	lambda.Start(h.Handle)
}
