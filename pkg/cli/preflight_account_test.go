package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/lakeforge/lakeforge/internal/motoserver"
	"github.com/lakeforge/lakeforge/internal/testtier"
	"github.com/lakeforge/lakeforge/pkg/adopt/manualbuild"
	"github.com/lakeforge/lakeforge/pkg/preflight"
)

// blogGroups makes the blog's dl_admins and dl_users (walkthrough steps
// 2-3) on moto, each with its member and a managed policy.
func blogGroups(t *testing.T, f *fixture) {
	t.Helper()
	ctx := seedContext(t)
	c := iam.NewFromConfig(f.moto.Config())
	// moto loads no AWS managed policy by default: a customer managed one
	// stands for the blog's AmazonAthenaFullAccess.
	pol, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("AthenaAccess"), PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"athena:*","Resource":"*"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	for group, user := range map[string]string{"dl_admins": "datalake_admin_user", "dl_users": "datalake_user"} {
		if _, err := c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String(group)}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(user)}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String(group), UserName: aws.String(user)}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String(group), PolicyArn: pol.Policy.Arn}); err != nil {
			t.Fatal(err)
		}
	}
}

func groupsReport(t *testing.T, out string) preflight.Check {
	t.Helper()
	var rep preflight.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("preflight --deploy --output json: %v\n%s", err, out)
	}
	c := rep.Get(CheckGroups)
	if c == nil || len(rep.Checks) != 2 || rep.Get(CheckBlueprint) == nil {
		t.Fatalf("preflight --deploy runs %s and %s, got %+v", CheckGroups, CheckBlueprint, rep.Checks)
	}
	return *c
}

// Issue 17 item 1: in the blog's account the groups exist, and the stack
// would create them again (EntityAlreadyExists at deploy). The deploy
// check finds them in IAM and names the setting that adopts them.
func TestPreflightDeployStopsOnExistingGroupsAndNamesTheSetting(t *testing.T) {
	testtier.External(t, "moto")
	f := newFixture(t, nil)
	blogGroups(t, f)
	out, errOut, code := f.cli("preflight", "--deploy", "--output", "json")
	if code != ExitProblem {
		t.Fatalf("exit %d, want %d (groups exist)\n%s%s", code, ExitProblem, out, errOut)
	}
	c := groupsReport(t, out)
	if c.Status != preflight.Fail {
		t.Fatalf("status %s: %+v", c.Status, c)
	}
	for _, want := range []string{"personas.admins.adoptGroup", "personas.analysts.adoptGroup", "EntityAlreadyExists"} {
		if !strings.Contains(c.Fix+c.Summary, want) {
			t.Errorf("the check does not say %q: %+v", want, c)
		}
	}

	// With both groups adopted the deploy may go on.
	f.writeConfig(func(c map[string]any) {
		p := c["personas"].(map[string]any)
		p["admins"].(map[string]any)["adoptGroup"] = true
		p["analysts"].(map[string]any)["adoptGroup"] = true
	})
	out, errOut, code = f.cli("preflight", "--deploy", "--output", "json")
	if code != ExitOK {
		t.Fatalf("adopted groups: exit %d\n%s%s", code, out, errOut)
	}
	if c := groupsReport(t, out); c.Status != preflight.Pass || !strings.Contains(strings.Join(c.Evidence, "\n"), "dl_users: adopt") {
		t.Fatalf("adopted groups: %+v", c)
	}
}

// A group adoptGroup names must exist: otherwise the stack would attach a
// policy to nothing and the deploy fails.
func TestPreflightDeployStopsWhenTheAdoptedGroupIsMissing(t *testing.T) {
	testtier.External(t, "moto")
	f := newFixture(t, nil)
	f.writeConfig(func(c map[string]any) {
		c["personas"].(map[string]any)["analysts"].(map[string]any)["adoptGroup"] = true
	})
	out, errOut, code := f.cli("preflight", "--deploy", "--output", "json")
	if code != ExitProblem {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	if c := groupsReport(t, out); !strings.Contains(c.Summary, "IAM has no group dl_users") || !strings.Contains(c.Fix, "personas.analysts.adoptGroup to false") {
		t.Fatalf("%+v", c)
	}
}

// A fresh account passes: the stack creates both groups. (A redeploy of a
// stack that created the groups itself: pkg/adopt's
// TestCheckGroupsAcceptsTheStacksOwnGroups.)
func TestPreflightDeployPassesInAFreshAccount(t *testing.T) {
	testtier.External(t, "moto")
	f := newFixture(t, nil)
	out, _, code := f.cli("preflight", "--deploy", "--output", "json")
	if c := groupsReport(t, out); code != ExitOK || c.Status != preflight.Pass || !strings.Contains(strings.Join(c.Evidence, "\n"), "dl_admins: change: does not exist; the stack creates it") {
		t.Fatalf("fresh account: exit %d: %+v", code, c)
	}
}

// Issue 21 item 3: the deploy starts lakeforge's first import, so it stops
// while the blueprint's schedule is on, naming lakeforge adopt --apply;
// once adopt --apply stopped it, the deploy may go on. (--region: preflight
// otherwise takes the region of network.availabilityZone, cdk.json's
// ap-northeast-1a, and Glue is regional.)
func TestPreflightDeployStopsWhileTheBlueprintScheduleIsOn(t *testing.T) {
	testtier.External(t, "moto")
	f := newFixture(t, nil)
	f.writeConfig(func(c map[string]any) {
		p := c["personas"].(map[string]any)
		p["admins"].(map[string]any)["adoptGroup"] = true
		p["analysts"].(map[string]any)["adoptGroup"] = true
	})
	if _, err := manualbuild.Seed(seedContext(t), f.moto.Config(), manualbuild.Options{Account: motoserver.AccountID, Database: "kthr01", Bucket: "blog-lake", Prefix: "kthr01/"}); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := f.cli("preflight", "--deploy", "--output", "json", "--region", motoserver.Region)
	var rep preflight.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != ExitProblem {
		t.Fatalf("exit %d %v\n%s%s", code, err, out, errOut)
	}
	c := rep.Get(CheckBlueprint)
	if c == nil || c.Status != preflight.Fail || !strings.Contains(c.Fix, "lakeforge adopt --apply") || !strings.Contains(strings.Join(c.Evidence, " "), manualbuild.StartTrigger) {
		t.Fatalf("blueprint check: %+v", c)
	}
	if g := rep.Get(CheckGroups); g == nil || g.Status != preflight.Pass {
		t.Fatalf("adopted groups: %+v", g)
	}
	if _, _, code := f.cli("adopt", "--apply"); code != ExitOK {
		t.Fatalf("adopt --apply: exit %d", code)
	}
	out, errOut, code = f.cli("preflight", "--deploy", "--output", "json", "--region", motoserver.Region)
	if code != ExitOK {
		t.Fatalf("after adopt --apply: exit %d\n%s%s", code, out, errOut)
	}
}
