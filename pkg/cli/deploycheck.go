package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/lakeforge/lakeforge/pkg/awsretry"
	"github.com/lakeforge/lakeforge/pkg/config"
)

// deployCheckCommand is the first thing `make deploy` runs, before it
// builds or deploys anything: the AWS credentials and region the CDK CLI
// would deploy with, then the configuration with the deploy-time rules
// (config.CheckDeploy). Every problem is listed at once, credentials and
// region first: without them the configuration's region rules cannot be
// judged, and the CDK CLI would otherwise fall back to us-east-1 and blame
// the configuration.
func deployCheckCommand(ctx context.Context, g *globals, args []string, env Env) int {
	fs := flag.NewFlagSet("deploy-check", flag.ContinueOnError)
	if ok, code := parse(fs, g, args, env); !ok {
		return code
	}
	target, awsProblems := resolveDeployTarget(ctx, g.AWSOptions)
	lc, cfgErr := loadConfig(g, false)
	var cfgProblems []string
	switch {
	case cfgErr != nil:
		cfgProblems = []string{cfgErr.Error()}
	default:
		region := target.Region
		if region == "" {
			// Judge only what needs no region; the region problem is above.
			region = config.RegionOfZone(lc.cfg.Network.AvailabilityZone)
		}
		var probs *config.Problems
		if err := lc.cfg.CheckDeploy(region); errors.As(err, &probs) {
			for _, p := range probs.List {
				cfgProblems = append(cfgProblems, p.String())
			}
		} else if err != nil {
			cfgProblems = append(cfgProblems, err.Error())
		}
	}
	if len(awsProblems) > 0 && lc.present {
		for i, p := range awsProblems {
			if strings.HasPrefix(p, "AWS region:") {
				if zr := config.RegionOfZone(lc.cfg.Network.AvailabilityZone); zr != "" {
					awsProblems[i] = strings.Replace(p, "<region>", zr, -1) + " (" + zr + " is the region of network.availabilityZone)"
				}
			}
		}
	}
	if len(awsProblems) == 0 && len(cfgProblems) == 0 {
		fmt.Fprintf(env.Stdout, "deploying to account %s, region %s (%s)\n", target.Account, target.Region, target.RegionFrom)
		return ExitOK
	}
	fmt.Fprintf(env.Stderr, "lakeforge deploy-check: nothing was built or deployed; %d problem(s):\n", len(awsProblems)+len(cfgProblems))
	for _, p := range awsProblems {
		fmt.Fprintln(env.Stderr, "  "+p)
	}
	for _, p := range cfgProblems {
		fmt.Fprintln(env.Stderr, "  "+p)
	}
	if len(awsProblems) > 0 {
		return ExitAWS
	}
	return ExitUsage
}

// DeployTarget is the account and region a deployment would go to.
type DeployTarget struct {
	Account    string
	Region     string
	RegionFrom string // where the region came from, in the user's words
}

// resolveDeployTarget finds the region and credentials as the SDKs and the
// CDK CLI do (AWS_REGION, AWS_DEFAULT_REGION, the profile's region;
// environment keys, AWS_PROFILE, the default profile, IAM Identity
// Center), and asks STS who the credentials are. Each problem is one line:
// what is missing or wrong, and how to set it.
func resolveDeployTarget(ctx context.Context, opts AWSOptions) (DeployTarget, []string) {
	var t DeployTarget
	profile := opts.Profile
	if profile == "" {
		profile = os.Getenv("AWS_PROFILE")
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts.loadOptions()...)
	if err != nil {
		var missing awsconfig.SharedConfigProfileNotExistError
		if errors.As(err, &missing) {
			return t, []string{fmt.Sprintf("AWS credentials: the profile %q (AWS_PROFILE or --profile) is not in ~/.aws/config or ~/.aws/credentials. Fix: `aws configure list-profiles` lists the profiles there; set AWS_PROFILE to one of them, or create it with `aws configure sso --profile %s` (IAM Identity Center) or `aws configure --profile %s` (access keys)", profile, profile, profile)}
		}
		return t, []string{"AWS configuration: " + err.Error() + ". Fix: correct ~/.aws/config (aws configure list)"}
	}
	var problems []string
	t.Region, t.RegionFrom = cfg.Region, regionSource(opts, profile)
	if t.Region == "" {
		problems = append(problems, "AWS region: none set (no AWS_REGION, no AWS_DEFAULT_REGION, no region in the profile "+profileName(profile)+"); the CDK CLI would deploy to us-east-1. Fix: `export AWS_REGION=<region>`, or `aws configure set region <region>"+profileFlag(profile)+"`")
	}
	cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if _, err := cfg.Credentials.Retrieve(cctx); err != nil {
		return t, append([]string{credentialsProblem(ctx, profile, err)}, problems...)
	}
	if t.Region == "" {
		// STS needs a region to sign for; the global endpoint answers for any.
		cfg.Region = "us-east-1"
	}
	id, err := sts.NewFromConfig(cfg).GetCallerIdentity(cctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		code := awsretry.Code(err)
		if code == "" {
			code = err.Error()
		}
		return t, append([]string{fmt.Sprintf("AWS credentials: AWS did not accept the credentials of %s (%s). Fix: renew them: %s", credentialsFrom(profile), code, renewHint(profile))}, problems...)
	}
	t.Account = aws.ToString(id.Account)
	return t, problems
}

// credentialsProblem says which credentials are missing and how to get them.
func credentialsProblem(ctx context.Context, profile string, err error) string {
	if profile != "" || os.Getenv("AWS_ACCESS_KEY_ID") == "" {
		name := profile
		if name == "" {
			name = "default"
		}
		files := func(o *awsconfig.LoadSharedConfigOptions) {
			if f := os.Getenv("AWS_CONFIG_FILE"); f != "" {
				o.ConfigFiles = []string{f}
			}
			if f := os.Getenv("AWS_SHARED_CREDENTIALS_FILE"); f != "" {
				o.CredentialsFiles = []string{f}
			}
		}
		if sc, serr := awsconfig.LoadSharedConfigProfile(ctx, name, files); serr == nil && (sc.SSOSessionName != "" || sc.SSOStartURL != "") {
			return fmt.Sprintf("AWS credentials: the profile %q signs in with IAM Identity Center and has no valid session. Fix: `aws sso login --profile %s`", name, name)
		}
	}
	if profile == "" && os.Getenv("AWS_ACCESS_KEY_ID") == "" {
		return "AWS credentials: none found (no AWS_PROFILE, no AWS_ACCESS_KEY_ID, no credentials in the default profile of ~/.aws/config or ~/.aws/credentials). Fix: with IAM Identity Center, `aws configure sso` once, then `aws sso login --profile NAME` and `export AWS_PROFILE=NAME`; with access keys, `aws configure`"
	}
	return fmt.Sprintf("AWS credentials: %s gave none (%s). Fix: %s", credentialsFrom(profile), firstLine(err.Error()), renewHint(profile))
}

func credentialsFrom(profile string) string {
	switch {
	case os.Getenv("AWS_ACCESS_KEY_ID") != "":
		return "AWS_ACCESS_KEY_ID"
	case profile != "":
		return "the profile " + profile
	}
	return "the default profile"
}

func renewHint(profile string) string {
	if os.Getenv("AWS_ACCESS_KEY_ID") != "" {
		return "set valid AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary keys), or unset them to use a profile"
	}
	return "`aws sso login" + profileFlag(profile) + "` for IAM Identity Center, or new access keys with `aws configure" + profileFlag(profile) + "`"
}

func regionSource(opts AWSOptions, profile string) string {
	switch {
	case opts.Region != "":
		return "--region"
	case os.Getenv("AWS_REGION") != "":
		return "AWS_REGION"
	case os.Getenv("AWS_DEFAULT_REGION") != "":
		return "AWS_DEFAULT_REGION"
	}
	return "the region of the profile " + profileName(profile)
}

func profileName(profile string) string {
	if profile == "" {
		return "default"
	}
	return profile
}

func profileFlag(profile string) string {
	if profile == "" {
		return ""
	}
	return " --profile " + profile
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}
