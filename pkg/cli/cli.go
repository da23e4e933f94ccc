// Package cli is the logic of the lakeforge command-line tool
// (cmd/lakeforge): run, status, doctor, preflight and adopt. It finds the stack's
// resources from the CloudFormation stack's outputs and talks to AWS only
// through the small interfaces in api.go, so tests can point it at moto and
// at a local Step Functions stand-in.
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/lakeforge/lakeforge/pkg/config"
)

// Exit codes, documented in docs/cli.md ("Exit status").
const (
	// ExitOK: the command did what was asked and found nothing wrong.
	ExitOK = 0
	// ExitProblem: the command ran and found a problem: the run failed,
	// doctor or preflight found something wrong.
	ExitProblem = 1
	// ExitUsage: bad flags or a bad cdk.json configuration.
	ExitUsage = 2
	// ExitAWS: AWS could not be asked: no credentials or region, the stack
	// does not exist, access denied, a service error.
	ExitAWS = 3
)

// AWSOptions are the AWS CLI conventions every command accepts. Empty
// values leave the SDK's default loading (AWS_PROFILE, AWS_REGION, the
// shared config files) in charge.
type AWSOptions struct {
	Profile string
	Region  string
}

// ClientFactory builds the AWS clients for one command.
type ClientFactory func(ctx context.Context, opts AWSOptions) (*Clients, error)

// Env is what the tool needs from its process. main fills it from os.
type Env struct {
	Stdout io.Writer
	Stderr io.Writer
	// Terminal says whether Stdout is a terminal: progress bars then,
	// plain lines when piped.
	Terminal bool
	Clients  ClientFactory
	// Now and Sleep are time, replaceable so follow tests run fast.
	Now          func() time.Time
	PollInterval time.Duration
}

// globals are the flags every command accepts, before or after its name.
type globals struct {
	AWSOptions
	output     string
	stackName  string
	cdkJSON    string
	configFile string
}

func (g *globals) register(fs *flag.FlagSet) {
	fs.StringVar(&g.Profile, "profile", g.Profile, "AWS profile from the shared config files (default: AWS_PROFILE or the default profile)")
	fs.StringVar(&g.Region, "region", g.Region, "AWS region (default: AWS_REGION or the profile's region)")
	fs.StringVar(&g.output, "output", g.output, "output format: text or json")
	fs.StringVar(&g.stackName, "stack-name", g.stackName, "CloudFormation stack name (default: stackName in cdk.json, else lakeforge)")
	fs.StringVar(&g.cdkJSON, "cdk-json", g.cdkJSON, "the CDK app file whose context holds the lakeforge configuration")
	fs.StringVar(&g.configFile, "config", g.configFile, "a file holding the lakeforge configuration object itself (as make deploy CONFIG=FILE); replaces cdk.json's")
}

const usage = `lakeforge: operate the lakeforge data lake pipeline.

Usage: lakeforge [global flags] <command> [flags]

Commands:
  run [--follow]   start an execution of the daily pipeline; --follow shows its progress
  status [-n N]    the last N runs: start, duration, result, rows per table, data freshness
  doctor           check the account-level state a run depends on; exit 1 if anything is wrong
  preflight        check the source connection from this machine (replaces the old preflight binary)
  adopt [--apply]  take over a lake built by hand (the blog's manual build): what lakeforge adopts,
                   changes or leaves, and why; a dry run unless --apply (docs/migration.md)
  access [--principal ARN] [--table T] [--column C]
                   who reads which tables and columns of the lake, and why (grant, tag expression, tags)
  access --plan    what the next run would change in the access model, changing nothing
  deploy-check     what make deploy checks first: AWS credentials and region, then the configuration

Global flags (accepted before or after the command):
  --profile NAME     AWS profile (default: AWS_PROFILE)
  --region NAME      AWS region (default: AWS_REGION or the profile's region)
  --output FORMAT    text (default) or json
  --stack-name NAME  stack to operate (default: stackName in cdk.json, else lakeforge)
  --cdk-json PATH    configuration file (default: cdk.json)
  --config FILE      the lakeforge object alone, as for make deploy CONFIG=FILE

Exit status: 0 nothing wrong, 1 a problem was found (failed run, doctor or preflight
finding), 2 bad usage or configuration, 3 AWS could not be asked (credentials,
region, missing stack, access denied).
`

// Main runs one command line and returns the exit status.
func Main(ctx context.Context, args []string, env Env) int {
	if env.Now == nil {
		env.Now = time.Now
	}
	if env.PollInterval == 0 {
		env.PollInterval = 5 * time.Second
	}
	g := &globals{output: "text", cdkJSON: "cdk.json"}
	top := flag.NewFlagSet("lakeforge", flag.ContinueOnError)
	top.SetOutput(env.Stderr)
	top.Usage = func() { fmt.Fprint(env.Stderr, usage) }
	g.register(top)
	if err := top.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK
		}
		return ExitUsage
	}
	rest := top.Args()
	if len(rest) == 0 {
		fmt.Fprint(env.Stderr, usage)
		return ExitUsage
	}
	name, rest := rest[0], rest[1:]
	var cmd func(context.Context, *globals, []string, Env) int
	switch name {
	case "run":
		cmd = runCommand
	case "status":
		cmd = statusCommand
	case "doctor":
		cmd = doctorCommand
	case "preflight":
		cmd = preflightCommand
	case "adopt":
		cmd = adoptCommand
	case "access":
		cmd = accessCommand
	case "deploy-check":
		cmd = deployCheckCommand
	case "help", "-h", "--help":
		fmt.Fprint(env.Stdout, usage)
		return ExitOK
	default:
		fmt.Fprintf(env.Stderr, "lakeforge: unknown command %q. Fix: use one of run, status, doctor, preflight, adopt, access, deploy-check (lakeforge help)\n", name)
		return ExitUsage
	}
	return cmd(ctx, g, rest, env)
}

// parse reads a command's flags (with the global ones) and checks --output.
func parse(fs *flag.FlagSet, g *globals, args []string, env Env) (ok bool, code int) {
	fs.SetOutput(env.Stderr)
	g.register(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return false, ExitOK
		}
		return false, ExitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(env.Stderr, "lakeforge %s: unexpected argument %q. Fix: flags only (lakeforge %s -h)\n", fs.Name(), fs.Arg(0), fs.Name())
		return false, ExitUsage
	}
	if g.output != "text" && g.output != "json" {
		fmt.Fprintf(env.Stderr, "lakeforge: --output %q: Fix: use --output text or --output json\n", g.output)
		return false, ExitUsage
	}
	return true, ExitOK
}

// cliError is an error with its exit status and the fix to print.
type cliError struct {
	code int
	msg  string
	fix  string
}

func (e *cliError) Error() string {
	if e.fix == "" {
		return e.msg
	}
	return e.msg + ". Fix: " + e.fix
}

// fail prints err on stderr and returns its exit status.
func fail(env Env, cmd string, err error) int {
	var ce *cliError
	if errors.As(err, &ce) {
		fmt.Fprintf(env.Stderr, "lakeforge %s: %s\n", cmd, ce.Error())
		return ce.code
	}
	fmt.Fprintf(env.Stderr, "lakeforge %s: %v\n", cmd, err)
	return ExitAWS
}

// loadedConfig is the cdk.json configuration, or the reason it is absent.
type loadedConfig struct {
	cfg     config.Config
	present bool
}

// loadConfig reads the configuration: --config FILE (the "lakeforge"
// object itself, as `make deploy CONFIG=FILE` takes), else the "lakeforge"
// context of cdk.json, with pkg/config's rules (exact keys, duplicates,
// trailing data). A missing cdk.json is not an error when optional (run and
// status need only the stack name); a present but invalid one always is.
func loadConfig(g *globals, optional bool) (loadedConfig, error) {
	path, load := g.cdkJSON, config.LoadCDKJSON
	if g.configFile != "" {
		path, load = g.configFile, config.LoadFile
	}
	if _, err := os.Stat(path); err != nil {
		if optional && g.configFile == "" && errors.Is(err, os.ErrNotExist) {
			return loadedConfig{}, nil
		}
		return loadedConfig{}, &cliError{code: ExitUsage, msg: fmt.Sprintf("read %s: %v", path, err),
			fix: "run lakeforge from the repository root, or pass --cdk-json PATH or --config FILE"}
	}
	cfg, err := load(path)
	if err != nil {
		return loadedConfig{}, &cliError{code: ExitUsage, msg: strings.TrimSpace(err.Error()),
			fix: fmt.Sprintf("correct the %q configuration in %s", config.ContextKey, path)}
	}
	return loadedConfig{cfg: cfg, present: true}, nil
}

// session is what a command that reads the account starts from: the
// configuration, the AWS clients and the stack's name.
type session struct {
	lc        loadedConfig
	clients   *Clients
	stackName string
}

// openSession loads the configuration (optional: a missing cdk.json is no
// error) and makes the clients; its error is the command's to fail with.
func openSession(ctx context.Context, g *globals, env Env, optional bool) (session, error) {
	lc, err := loadConfig(g, optional)
	if err != nil {
		return session{}, err
	}
	clients, err := env.Clients(ctx, g.AWSOptions)
	if err != nil {
		return session{}, err
	}
	return session{lc: lc, clients: clients, stackName: g.stackNameOf(lc)}, nil
}

// stack reads the deployed stack and its outputs.
func (s session) stack(ctx context.Context) (Stack, error) {
	return findStack(ctx, s.clients.Stacks, s.stackName, s.clients.Region)
}

// stackNameOf is --stack-name, else the configuration's, else the default.
func (g *globals) stackNameOf(lc loadedConfig) string {
	switch {
	case g.stackName != "":
		return g.stackName
	case lc.present:
		return lc.cfg.StackName
	}
	return config.Default().StackName
}

// writeJSON prints v indented, for --output json.
func writeJSON(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
