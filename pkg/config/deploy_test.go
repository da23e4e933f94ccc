package config

import (
	"errors"
	"strings"
	"testing"
)

// realContext is the shipped configuration with every example value
// replaced, as a user's would be.
func realContext(t *testing.T) map[string]any {
	t.Helper()
	ctx := shippedContext(t)
	set("network", "vpcId", "vpc-0a1b2c3d4e5f67890")(ctx)
	set("network", "subnetId", "subnet-0a1b2c3d4e5f67890")(ctx)
	set("network", "securityGroupIds", []any{"sg-0a1b2c3d4e5f67890"})(ctx)
	set("source", "secretArn", "arn:aws:secretsmanager:ap-northeast-1:210987654321:secret:prod/kthr01-Xy12Zq")(ctx)
	set("source", "host", "kthr01.cluster-c9akciq32.ap-northeast-1.rds.amazonaws.com")(ctx)
	return ctx
}

func checkDeploy(t *testing.T, ctx map[string]any, region string) error {
	t.Helper()
	cfg, err := FromContext(ctx)
	if err != nil {
		t.Fatalf("the configuration itself is invalid: %v", err)
	}
	return cfg.CheckDeploy(region)
}

// The shipped example passes Validate (synth, tests and demo use it) but
// `make deploy` refuses it, one line per example value.
func TestDeployRefusesTheShippedExampleValues(t *testing.T) {
	err := checkDeploy(t, shippedContext(t), "ap-northeast-1")
	var probs *Problems
	if !errors.As(err, &probs) {
		t.Fatalf("want *Problems, got %v", err)
	}
	want := []string{
		"lakeforge.network.vpcId",
		"lakeforge.network.subnetId",
		"lakeforge.network.securityGroupIds[0]",
		"lakeforge.source.secretArn",
		"lakeforge.source.host",
	}
	if got := strings.Join(probs.Paths(), " "); got != strings.Join(want, " ") {
		t.Fatalf("paths = %s\nwant    %s", got, strings.Join(want, " "))
	}
	for _, value := range []string{"vpc-0123456789abcdef0", "subnet-0123456789abcdef0", "sg-0123456789abcdef0", "123456789012:secret:lakeforge/kthr01-AbCdEf", "kthr01.cluster-example.ap-northeast-1.rds.amazonaws.com"} {
		if !strings.Contains(err.Error(), value) {
			t.Errorf("message does not name the example value %s:\n%v", value, err)
		}
	}
	if n := strings.Count(err.Error(), "example value shipped in cdk.json"); n != len(want) {
		t.Errorf("%d lines say which example value to replace, want %d", n, len(want))
	}
}

func TestDeployRefusesEveryKindOfExampleValue(t *testing.T) {
	cases := []struct {
		name string
		edit func(map[string]any)
		path string
	}{
		{"example account in the secret", set("source", "secretArn", "arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:mine-Ab12Cd"), "lakeforge.source.secretArn"},
		{"example account in an analyst", set("personas", "analysts", map[string]any{"createRole": true, "groupName": "dl_users", "principalArns": []any{"arn:aws:iam::123456789012:role/analyst"}}), "lakeforge.personas.analysts.principalArns[0]"},
		{"example account in an admin", set("personas", "admins", map[string]any{"createRole": true, "groupName": "dl_admins", "principalArns": []any{"arn:aws:iam::123456789012:user/admin"}}), "lakeforge.personas.admins.principalArns[0]"},
		{"an example.com host", set("source", "host", "kthr01.cluster-abc.example.com"), "lakeforge.source.host"},
		{"example route table", func(c map[string]any) {
			set("network", "manage", true)(c)
			set("network", "routeTableIds", []any{"rtb-0123456789abcdef0"})(c)
		}, "lakeforge.network.routeTableIds[0]"},
		{"example e-mail", set("notifications", "emails", []any{"data-team@example.com"}), "lakeforge.notifications.emails[0]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := realContext(t)
			tc.edit(ctx)
			expectOne(t, checkDeploy(t, ctx, "ap-northeast-1"), tc.path, "example value shipped in cdk.json")
		})
	}
}

// The stack deploys to the CLI's default region (CDK_DEFAULT_REGION); the
// zone and the secret must be there.
func TestDeployChecksTheRegion(t *testing.T) {
	if err := checkDeploy(t, realContext(t), "ap-northeast-1"); err != nil {
		t.Fatalf("a real configuration in its own region was refused: %v", err)
	}
	err := checkDeploy(t, realContext(t), "eu-west-1")
	var probs *Problems
	if !errors.As(err, &probs) {
		t.Fatalf("want *Problems, got %v", err)
	}
	if got := strings.Join(probs.Paths(), " "); got != "lakeforge.network.availabilityZone lakeforge.source.secretArn" {
		t.Fatalf("paths = %s", got)
	}
	for _, h := range []string{"eu-west-1", "ap-northeast-1", "CDK_DEFAULT_REGION"} {
		if !strings.Contains(err.Error(), h) {
			t.Errorf("message lacks %q:\n%v", h, err)
		}
	}
	expectOne(t, checkDeploy(t, realContext(t), ""), "CDK_DEFAULT_REGION", "aws configure set region")
}
