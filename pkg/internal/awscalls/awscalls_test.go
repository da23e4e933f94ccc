package awscalls

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/lakeformation"

	"github.com/lakeforge/lakeforge/internal/motoserver"
)

func TestMain(m *testing.M) { motoserver.Main(m) }

func TestRecorderNamesRealSDKCallsAsIAMActions(t *testing.T) {
	srv := motoserver.Current(t)
	srv.Reset(t)
	var rec Recorder
	client := lakeformation.NewFromConfig(rec.Attach(srv.Config()))
	ctx := context.Background()
	settings, err := client.GetDataLakeSettings(ctx, &lakeformation.GetDataLakeSettingsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.PutDataLakeSettings(ctx, &lakeformation.PutDataLakeSettingsInput{DataLakeSettings: settings.DataLakeSettings}); err != nil {
		t.Fatal(err)
	}
	_, _ = client.GetDataLakeSettings(ctx, &lakeformation.GetDataLakeSettingsInput{})

	want := []string{"lakeformation:GetDataLakeSettings", "lakeformation:PutDataLakeSettings", "lakeformation:GetDataLakeSettings"}
	if got := rec.Calls(); !slices.Equal(got, want) {
		t.Fatalf("calls = %v, want %v", got, want)
	}
	if got := rec.Actions(); !slices.Equal(got, []string{"lakeformation:GetDataLakeSettings", "lakeformation:PutDataLakeSettings"}) {
		t.Fatalf("actions = %v", got)
	}
	if got := rec.Mutating(); !slices.Equal(got, []string{"lakeformation:PutDataLakeSettings"}) {
		t.Fatalf("mutating = %v", got)
	}
	rec.Reset()
	if len(rec.Calls()) != 0 {
		t.Fatal("Reset kept calls")
	}
}

func TestActionNames(t *testing.T) {
	cases := map[[2]string]string{
		{"LakeFormation", "GrantPermissions"}: "lakeformation:GrantPermissions",
		{"Secrets Manager", "GetSecretValue"}: "secretsmanager:GetSecretValue",
		{"EC2", "DescribeSubnets"}:            "ec2:DescribeSubnets",
		{"S3", "ListObjectsV2"}:               "s3:ListBucket",
		{"CloudWatch", "PutMetricData"}:       "cloudwatch:PutMetricData",
	}
	for in, want := range cases {
		if got := Action(in[0], in[1]); got != want {
			t.Errorf("Action(%q, %q) = %s, want %s", in[0], in[1], got, want)
		}
	}
	for action, mutating := range map[string]bool{"glue:GetConnection": false, "ec2:DescribeVpcs": false, "glue:TestConnection": false, "ec2:CreateVpcEndpoint": true, "lakeformation:AddLFTagsToResource": true} {
		if IsMutating(action) != mutating {
			t.Errorf("IsMutating(%s) = %v", action, !mutating)
		}
	}
}

func TestGoldenFileRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "iam-actions.txt")
	if err := os.WriteFile(path, []byte("# comment\nb:Two\na:One\n\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := ReadGolden(path)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []string{"b:Two", "a:One"}) {
		t.Fatalf("ReadGolden = %v", got)
	}
}
