package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lakeforge/lakeforge/internal/motoserver"
	"github.com/lakeforge/lakeforge/internal/testtier"
	"github.com/lakeforge/lakeforge/pkg/internal/localsfn"
)

// noAWS leaves the process with no AWS credentials, region or profile
// anywhere the SDKs look: empty shared files and no environment. It
// returns the directory of the shared files.
func noAWS(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
		"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "CDK_DEFAULT_REGION", "CDK_DEFAULT_ACCOUNT"} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true") // no instance role on a laptop
	return dir
}

func deployCheck(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Main(context.Background(), append(args, "deploy-check"), Env{Stdout: &out, Stderr: &errOut, Clients: DefaultClients})
	return code, out.String(), errOut.String()
}

// inOrder fails unless each of wants appears in text after the one before.
func inOrder(t *testing.T, text string, wants ...string) {
	t.Helper()
	at := 0
	for _, w := range wants {
		i := strings.Index(text[at:], w)
		if i < 0 {
			t.Errorf("no %q after offset %d in:\n%s", w, at, text)
			return
		}
		at += i + len(w)
	}
}

// With no credentials and no region, deploy-check names both first, with
// how to set them, and only then the configuration's problems; it exits 3
// (AWS could not be asked), never blaming the region of a profile that does
// not exist.
func TestDeployCheckNamesMissingCredentialsAndRegionBeforeTheConfiguration(t *testing.T) {
	noAWS(t)
	code, _, stderr := deployCheck(t, "--cdk-json", filepath.Join(localsfn.RepoRoot(), "cdk.json"))
	if code != ExitAWS {
		t.Errorf("exit %d, want %d (AWS could not be asked):\n%s", code, ExitAWS, stderr)
	}
	inOrder(t, stderr,
		"nothing was built or deployed",
		"AWS credentials: none found", "aws sso login --profile NAME", "export AWS_PROFILE=NAME", "aws configure",
		"AWS region: none set", "the CDK CLI would deploy to us-east-1", "export AWS_REGION=ap-northeast-1",
		"lakeforge.network.vpcId", "lakeforge.source.secretArn")
	if strings.Contains(stderr, "default region of your AWS profile") {
		t.Errorf("the message blames a profile's region:\n%s", stderr)
	}
}

// A profile that signs in with IAM Identity Center and has no session gets
// the one command that fixes it; a profile that does not exist is named as
// such.
func TestDeployCheckNamesTheProfileProblem(t *testing.T) {
	dir := noAWS(t)
	conf := "[profile dev]\nsso_session = corp\nsso_account_id = 111122223333\nsso_role_name = Admin\nregion = eu-west-1\n\n" +
		"[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = eu-west-1\n"
	if err := os.WriteFile(filepath.Join(dir, "config"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HOME", dir) // no SSO token cache
	t.Setenv("AWS_PROFILE", "dev")
	code, _, stderr := deployCheck(t, "--cdk-json", filepath.Join(localsfn.RepoRoot(), "cdk.json"))
	if code != ExitAWS || !strings.Contains(stderr, `the profile "dev" signs in with IAM Identity Center and has no valid session. Fix: `+"`aws sso login --profile dev`") {
		t.Errorf("exit %d:\n%s", code, stderr)
	}
	if strings.Contains(stderr, "AWS region") {
		t.Errorf("the profile's region eu-west-1 was not found:\n%s", stderr)
	}

	t.Setenv("AWS_PROFILE", "nope")
	code, _, stderr = deployCheck(t, "--cdk-json", filepath.Join(localsfn.RepoRoot(), "cdk.json"))
	if code != ExitAWS || !strings.Contains(stderr, `the profile "nope" (AWS_PROFILE or --profile) is not in ~/.aws/config`) {
		t.Errorf("exit %d:\n%s", code, stderr)
	}
}

// With credentials STS accepts and a region, only the configuration is
// left: the shipped example values exit 2; a real configuration in the
// region passes and says where the stack goes.
func TestDeployCheckWithCredentialsJudgesTheConfiguration(t *testing.T) {
	srv := motoserver.Current(t)
	noAWS(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "testing")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	t.Setenv("AWS_ENDPOINT_URL", srv.URL) // STS GetCallerIdentity on moto
	t.Setenv("AWS_REGION", "ap-northeast-1")
	shipped := filepath.Join(localsfn.RepoRoot(), "cdk.json")
	code, _, stderr := deployCheck(t, "--cdk-json", shipped)
	if code != ExitUsage || strings.Contains(stderr, "AWS credentials") || strings.Contains(stderr, "AWS region") || !strings.Contains(stderr, "lakeforge.network.vpcId") {
		t.Errorf("exit %d, want %d with only the configuration's problems:\n%s", code, ExitUsage, stderr)
	}

	raw, err := os.ReadFile(shipped)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	lf := doc["context"].(map[string]any)["lakeforge"].(map[string]any)
	src, net := lf["source"].(map[string]any), lf["network"].(map[string]any)
	src["host"] = "shop.cluster-abc.ap-northeast-1.rds.amazonaws.com"
	src["secretArn"] = "arn:aws:secretsmanager:ap-northeast-1:111122223333:secret:shop-AbCdEf"
	net["vpcId"], net["subnetId"], net["securityGroupIds"] = "vpc-0a1b2c3d4e5f60718", "subnet-0a1b2c3d4e5f60718", []string{"sg-0a1b2c3d4e5f60718"}
	b, _ := json.Marshal(lf)
	file := filepath.Join(t.TempDir(), "lakeforge.json")
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := deployCheck(t, "--config", file)
	if code != ExitOK || stdout != "deploying to account "+motoserver.AccountID+", region ap-northeast-1 (AWS_REGION)\n" {
		t.Errorf("exit %d:\n%s%s", code, stdout, stderr)
	}
}

// `make deploy` runs deploy-check before it builds anything: with no
// credentials it stops at once, credentials and region first, and make's
// last line carries the CLI's exit status 3 (make itself exits 2 on any
// failure).
func TestMakeDeployChecksCredentialsFirstAndBuildsNothing(t *testing.T) {
	testtier.External(t, "make, which links cmd/lakeforge")
	dir := noAWS(t)
	env := os.Environ()
	// A new HOME must not mean a cold Go cache.
	for _, k := range []string{"GOCACHE", "GOMODCACHE", "GOPATH"} {
		v, err := exec.Command("go", "env", k).Output()
		if err != nil {
			t.Fatal(err)
		}
		env = append(env, k+"="+strings.TrimSpace(string(v)))
	}
	cmd := exec.Command("make", "-C", localsfn.RepoRoot(), "deploy")
	cmd.Env = append(env, "HOME="+dir)
	out, err := cmd.CombinedOutput()
	text := string(out)
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 {
		t.Fatalf("make deploy: %v, want make's failure (2):\n%s", err, text)
	}
	inOrder(t, text, "AWS credentials: none found", "AWS region: none set", "lakeforge.network.vpcId", "deploy-check] Error 3")
	for _, never := range []string{"build start-import", "npm ci", "cdk --no-notices deploy"} {
		if strings.Contains(text, never) {
			t.Errorf("make deploy went on to %q although the check failed:\n%s", never, text)
		}
	}
}
