package cli

import (
	"context"
	"flag"
	"fmt"

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
	checker := &preflight.Checker{
		EC2:             clients.PreflightEC2,
		Secrets:         clients.PreflightSecrets,
		Glue:            clients.PreflightGlue,
		Region:          clients.Region,
		StackName:       g.stackNameOf(lc),
		Repair:          cfg.Preflight.Repair,
		RequiredFreeIPs: cfg.Import.NumberOfWorkers + 1,
	}
	target := preflight.TargetFromConfig(cfg)
	rep, creds := checker.RunConfigured(ctx, target)
	if !*skipHandshake {
		rep.AddCheck(preflight.HandshakeCheck(ctx, target, creds, *timeout))
	}
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
