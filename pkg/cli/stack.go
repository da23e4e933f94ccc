package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"

	"github.com/lakeforge/lakeforge/pkg/awsretry"
)

// Stack is the deployed stack as the tool sees it.
type Stack struct {
	Name    string
	Status  string
	Outputs map[string]string
}

// errStackNotFound says DescribeStacks has no such stack.
var errStackNotFound = errors.New("stack not found")

// findStack reads the stack's outputs. A stack that does not exist is
// errStackNotFound (wrapped in a cliError naming the fix).
func findStack(ctx context.Context, api StacksAPI, name, region string) (Stack, error) {
	out, err := api.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(name)})
	if err != nil {
		// DescribeStacks answers a ValidationError "Stack with id X does
		// not exist" for an unknown (or deleted) stack.
		if awsretry.IsCode(err, "ValidationError") && strings.Contains(awsretry.Message(err), "does not exist") {
			return Stack{}, fmt.Errorf("%w: %w", errStackNotFound, &cliError{code: ExitAWS,
				msg: fmt.Sprintf("stack %s does not exist in %s", name, regionName(region)),
				fix: "deploy it with `make deploy`, or name the deployed stack with --stack-name, --region or --profile"})
		}
		return Stack{}, awsError("cloudformation:DescribeStacks", err)
	}
	if len(out.Stacks) == 0 {
		return Stack{}, &cliError{code: ExitAWS, msg: "DescribeStacks returned no stack " + name, fix: "check --stack-name"}
	}
	s := out.Stacks[0]
	st := Stack{Name: aws.ToString(s.StackName), Status: string(s.StackStatus), Outputs: map[string]string{}}
	for _, o := range s.Outputs {
		st.Outputs[aws.ToString(o.OutputKey)] = aws.ToString(o.OutputValue)
	}
	return st, nil
}

// need returns an output or an error naming it.
func (s Stack) need(key string) (string, error) {
	v := s.Outputs[key]
	if v == "" {
		return "", &cliError{code: ExitAWS, msg: fmt.Sprintf("stack %s has no output %s", s.Name, key),
			fix: "redeploy with `make deploy` (this lakeforge version expects that output)"}
	}
	return v, nil
}

func regionName(r string) string {
	if r == "" {
		return "the default region"
	}
	return r
}

// awsError turns an AWS error into a cliError with a fix for the common
// causes: credentials, permissions, throttling.
func awsError(op string, err error) error {
	fix := "check the network and your AWS credentials, then try again"
	if code := awsretry.Code(err); code != "" {
		switch {
		case strings.Contains(code, "AccessDenied") || code == "UnauthorizedOperation":
			fix = "your credentials need " + op + "; use a profile with it (--profile) or ask for the permission"
		case code == "ExpiredToken" || code == "ExpiredTokenException" || code == "InvalidClientTokenId" || code == "UnrecognizedClientException":
			fix = "your credentials are invalid or expired; refresh them (aws sso login --profile NAME) or pick another --profile"
		case awsretry.Classify(err) == awsretry.Throttled:
			fix = "AWS throttled the call; try again in a minute"
		default:
			fix = "see the AWS message above"
		}
	} else if strings.Contains(err.Error(), "failed to retrieve credentials") || strings.Contains(err.Error(), "no EC2 IMDS role found") {
		fix = "configure credentials: aws configure, aws sso login, or --profile NAME"
	}
	return &cliError{code: ExitAWS, msg: op + ": " + err.Error(), fix: fix}
}

// ConfigLoadError is the SDK failing to load its configuration (a bad
// --profile, a broken ~/.aws/config).
func ConfigLoadError(err error) error {
	return &cliError{code: ExitAWS, msg: "load the AWS configuration: " + err.Error(),
		fix: "check --profile / AWS_PROFILE against ~/.aws/config (aws configure list-profiles)"}
}

// NoRegionError is the SDK finding no region anywhere.
func NoRegionError() error {
	return &cliError{code: ExitAWS, msg: "no AWS region is set", fix: "pass --region NAME, set AWS_REGION, or set region in the profile"}
}
