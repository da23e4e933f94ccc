// Command preflight is `make preflight`: the test-connection checks run
// from an operator's machine with the operator's AWS credentials, against
// the "lakeforge" context of ./cdk.json (the connection may not be
// deployed yet), plus a direct handshake with the database when this
// machine can reach it.
//
// Exit status: 0 when no check failed, 1 when one did, 2 when the
// configuration or AWS credentials cannot be loaded.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/lakeforge/lakeforge/pkg/config"
	"github.com/lakeforge/lakeforge/pkg/preflight"
)

func main() {
	cdkJSON := flag.String("cdk-json", "cdk.json", "the CDK app file whose context holds the lakeforge configuration")
	region := flag.String("region", "", "AWS region of the connection (default: from network.availabilityZone)")
	timeout := flag.Duration("handshake-timeout", preflight.DefaultHandshakeTimeout, "bound on the direct database handshake")
	skipHandshake := flag.Bool("no-handshake", false, "skip the direct database handshake")
	caBundle := flag.String("ca-bundle", "", "PEM file of CAs trusted besides the system roots for the handshake (RDS: "+preflight.RDSCABundleURL+")")
	allowUnverified := flag.Bool("allow-unverified-tls", false, "send the database password even when the server certificate cannot be verified (anyone in the network path can read it)")
	asJSON := flag.Bool("json", false, "print the report as JSON")
	flag.Parse()

	cfg, err := loadConfig(*cdkJSON)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if *region == "" {
		// An availability zone is its region plus one letter.
		az := cfg.Network.AvailabilityZone
		*region = az[:len(az)-1]
	}
	ctx := context.Background()
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(*region))
	if err != nil {
		fmt.Fprintln(os.Stderr, "load AWS credentials:", err)
		os.Exit(2)
	}
	checker := &preflight.Checker{
		EC2:             ec2.NewFromConfig(awsCfg),
		Secrets:         secretsmanager.NewFromConfig(awsCfg),
		Glue:            glue.NewFromConfig(awsCfg),
		Region:          awsCfg.Region,
		StackName:       cfg.StackName,
		Repair:          cfg.Preflight.Repair,
		RequiredFreeIPs: cfg.Import.NumberOfWorkers + 1,
		SecretKMSKeyARN: cfg.Source.SecretKMSKeyARN,
	}
	target := preflight.TargetFromConfig(cfg)
	rep, creds := checker.RunConfigured(ctx, target)
	if !*skipHandshake {
		rep.AddCheck(preflight.HandshakeCheckWith(ctx, target, creds, preflight.HandshakeOptions{
			Timeout: *timeout, CABundleFile: *caBundle, AllowUnverifiedTLS: *allowUnverified,
		}))
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(rep)
	} else {
		fmt.Print(rep.String())
	}
	if !rep.Passed {
		os.Exit(1)
	}
}

// loadConfig reads the "lakeforge" context of a cdk.json file.
func loadConfig(path string) (config.Config, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return config.Config{}, fmt.Errorf("read %s: %w (run `make preflight` from the repository root)", path, err)
	}
	var doc struct {
		Context map[string]json.RawMessage `json:"context"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return config.Config{}, fmt.Errorf("%s is not valid JSON: %w", path, err)
	}
	ctxValue, ok := doc.Context[config.ContextKey]
	if !ok {
		return config.Config{}, fmt.Errorf("%s has no context key %q", path, config.ContextKey)
	}
	cfg, err := config.Parse(ctxValue)
	if err != nil {
		return config.Config{}, fmt.Errorf("%w\nFix the %q context in %s.", err, config.ContextKey, path)
	}
	return cfg, nil
}
