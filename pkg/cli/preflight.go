package cli

import (
	"context"
	"flag"
	"fmt"

	"github.com/lakeforge/lakeforge/pkg/config"
	"github.com/lakeforge/lakeforge/pkg/preflight"
)

// preflightCommand is `make preflight`: the test-connection checks from
// the operator's machine, against cdk.json (the connection may not be
// deployed yet), plus a direct database handshake when this machine can
// reach the database.
func preflightCommand(ctx context.Context, g *globals, args []string, env Env) int {
	fs := flag.NewFlagSet("preflight", flag.ContinueOnError)
	timeout := fs.Duration("handshake-timeout", preflight.DefaultHandshakeTimeout, "bound on the direct database handshake")
	skipHandshake := fs.Bool("no-handshake", false, "skip the direct database handshake")
	asJSON := fs.Bool("json", false, "same as --output json (kept from the old preflight command)")
	caBundle := fs.String("ca-bundle", "", "PEM file of CAs trusted besides the system roots for the handshake (RDS: "+preflight.RDSCABundleURL+")")
	allowUnverified := fs.Bool("allow-unverified-tls", false, "send the database password even when the server certificate cannot be verified (anyone in the network path can read it)")
	deployOnly := fs.Bool("deploy", false, "only the account checks that stop a deploy (make deploy runs them): the persona groups and a blueprint schedule still on")
	if ok, code := parse(fs, g, args, env); !ok {
		return code
	}
	if *asJSON {
		g.output = "json"
	}
	lc, err := loadConfig(g, false)
	if err != nil {
		return fail(env, "preflight", err)
	}
	cfg := lc.cfg
	opts := g.AWSOptions
	if opts.Region == "" {
		// The connection's region: an availability zone is its region plus
		// one letter.
		az := cfg.Network.AvailabilityZone
		opts.Region = az[:len(az)-1]
	}
	clients, err := env.Clients(ctx, opts)
	if err != nil {
		return fail(env, "preflight", err)
	}
	if *deployOnly {
		rep := &preflight.Report{Connection: cfg.Names().Connection, Target: "the account, before deploy"}
		rep.AddCheck(groupsCheck(ctx, clients, cfg, g.stackNameOf(lc)))
		rep.AddCheck(blueprintCheck(ctx, clients, cfg))
		return printPreflight(env, g, rep)
	}
	checker := &preflight.Checker{
		EC2:             clients.PreflightEC2,
		Secrets:         clients.PreflightSecrets,
		Glue:            clients.PreflightGlue,
		Region:          clients.Region,
		StackName:       g.stackNameOf(lc),
		Repair:          cfg.Preflight.Repair,
		RequiredFreeIPs: cfg.RequiredFreeIPs(),
		SecretKMSKeyARN: cfg.Source.SecretKMSKeyARN,
	}
	target := PreflightTarget(cfg)
	rep, creds := checker.RunConfigured(ctx, target)
	if !*skipHandshake {
		rep.AddCheck(preflight.HandshakeCheckWith(ctx, target, creds, preflight.HandshakeOptions{
			Timeout: *timeout, CABundleFile: *caBundle, AllowUnverifiedTLS: *allowUnverified,
		}))
	}
	if clients.Adopt.IAM != nil {
		rep.AddCheck(groupsCheck(ctx, clients, cfg, g.stackNameOf(lc)))
	}
	return printPreflight(env, g, &rep)
}

func printPreflight(env Env, g *globals, rep *preflight.Report) int {
	if g.output == "json" {
		writeJSON(env.Stdout, rep)
	} else {
		fmt.Fprint(env.Stdout, rep.String())
	}
	if !rep.Passed {
		return ExitProblem
	}
	return ExitOK
}

// PreflightTarget is the connection as the configuration describes it, for
// the operator CLI, which may run before the first deploy. (It lives here,
// not in pkg/preflight, so the test-connection Lambda does not link the
// configuration package.)
func PreflightTarget(cfg config.Config) preflight.Target {
	return preflight.Target{
		ConnectionName:   cfg.Names().Connection,
		Engine:           cfg.Source.Engine,
		Host:             cfg.Source.Host,
		Port:             cfg.Source.Port,
		Database:         cfg.Source.DatabaseName,
		SecretID:         cfg.Source.SecretARN,
		RequireTLS:       cfg.Source.RequireTLS,
		SubnetID:         cfg.Network.SubnetID,
		AvailabilityZone: cfg.Network.AvailabilityZone,
		SecurityGroupIDs: cfg.Network.SecurityGroupIDs,
	}
}
