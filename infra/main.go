// Command infra is the lakeforge CDK app: it reads the "lakeforge" context
// from cdk.json, validates it, and synthesizes the stack. A bad setting stops
// synth before any construct is made.
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/lakeforge/lakeforge/infra/stack"
	"github.com/lakeforge/lakeforge/pkg/config"
)

func main() {
	app := awscdk.NewApp(nil)
	if err := build(app, "dist"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		fmt.Fprintln(os.Stderr, "Fix the \"lakeforge\" context in cdk.json (or the -c lakeforge=... override); nothing was synthesized or deployed.")
		jsii.Close()
		os.Exit(1)
	}
	app.Synth(nil)
	jsii.Close()
}

// build validates the configuration and adds the stack to app, checked
// against the AWS Solutions rules (each suppression in the stack carries its
// reason). On a configuration error it adds nothing.
func build(app awscdk.App, assetDir string) error {
	cfg, err := config.FromContext(app.Node().TryGetContext(jsii.String(config.ContextKey)))
	if err != nil {
		return err
	}
	stack.New(app, cfg.StackName, &stack.Props{Config: cfg, AssetDir: assetDir})
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
	return nil
}
