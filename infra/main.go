// Command infra is the lakeforge CDK app: it reads the configuration,
// validates it, and synthesizes the stack. A bad setting stops synth before
// any construct is made.
//
// The configuration is the "lakeforge" object of cdk.json, or the file the
// context key lakeforge:configFile names (`make deploy CONFIG=path`).
// `make deploy` also sets lakeforge:deploy=true: then the shipped example
// values and a region mismatch are refused too, before anything is deployed.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/lakeforge/lakeforge/infra/stack"
	"github.com/lakeforge/lakeforge/pkg/config"
)

// Context keys the Makefile sets.
const (
	// ConfigFileContextKey names a file that holds the "lakeforge" object.
	ConfigFileContextKey = "lakeforge:configFile"
	// DeployContextKey is "true" under `make deploy`.
	DeployContextKey = "lakeforge:deploy"
)

func main() {
	app := awscdk.NewApp(nil)
	if err := build(app, "dist"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		fmt.Fprintln(os.Stderr, "Fix the configuration (the \"lakeforge\" object of cdk.json, or the CONFIG file); nothing was synthesized or deployed.")
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
	cfg, err := loadConfig(app)
	if err != nil {
		return err
	}
	// The CDK CLI sets CDK_DEFAULT_ACCOUNT when its credentials resolve
	// (every deploy): then administrators of another account are refused.
	if err := cfg.CheckAccount(os.Getenv("CDK_DEFAULT_ACCOUNT")); err != nil {
		return err
	}
	if contextString(app, DeployContextKey) == "true" {
		// The CDK CLI sets CDK_DEFAULT_REGION from the profile it deploys
		// with; the stack is environment-agnostic and goes to that region.
		if err := cfg.CheckDeploy(os.Getenv("CDK_DEFAULT_REGION")); err != nil {
			return err
		}
	}
	stack.New(app, cfg.StackName, &stack.Props{Config: cfg, AssetDir: assetDir})
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
	return nil
}

// loadConfig reads the configuration from the CONFIG file, or from the
// context. When the context object is the one in ./cdk.json, the file is
// read byte for byte, so duplicate keys (which the CDK CLI's JSON parser
// silently resolves) are reported.
func loadConfig(app awscdk.App) (config.Config, error) {
	if file := contextString(app, ConfigFileContextKey); file != "" {
		cfg, err := config.LoadFile(file)
		if err != nil {
			return cfg, fmt.Errorf("%s: %w", file, err)
		}
		return cfg, nil
	}
	value := app.Node().TryGetContext(jsii.String(config.ContextKey))
	if _, isString := value.(string); !isString && value != nil && sameAsCDKJSON(value, "cdk.json") {
		return config.LoadCDKJSON("cdk.json")
	}
	return config.FromContext(value)
}

// sameAsCDKJSON says whether value is the "lakeforge" object of the
// cdk.json at path.
func sameAsCDKJSON(value any, path string) bool {
	ctx, err := config.CDKJSONContext(path)
	if err != nil {
		return false
	}
	var shipped any
	if json.Unmarshal(ctx[config.ContextKey], &shipped) != nil {
		return false
	}
	got, err := json.Marshal(value)
	if err != nil {
		return false
	}
	var normalized any
	if json.Unmarshal(got, &normalized) != nil {
		return false
	}
	return reflect.DeepEqual(normalized, shipped)
}

func contextString(app awscdk.App, key string) string {
	s, _ := app.Node().TryGetContext(jsii.String(key)).(string)
	return s
}
