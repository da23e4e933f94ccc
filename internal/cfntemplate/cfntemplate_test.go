package cfntemplate

import (
	"strings"
	"testing"
)

// The forms CloudFormation gives each value in us-east-1 of account
// 123456789012 (the ARN formats of the IAM, S3, SNS, Lambda, DynamoDB,
// Step Functions and KMS references; a generated name from the logical id).
func TestResolveRendersAsCloudFormation(t *testing.T) {
	tpl := New(map[string]any{
		"Resources": map[string]any{
			"Bucket1":  map[string]any{"Type": "AWS::S3::Bucket"},
			"Named":    map[string]any{"Type": "AWS::S3::Bucket", "Properties": map[string]any{"BucketName": "kept-lake"}},
			"Role1":    map[string]any{"Type": "AWS::IAM::Role"},
			"Topic1":   map[string]any{"Type": "AWS::SNS::Topic"},
			"Machine1": map[string]any{"Type": "AWS::StepFunctions::StateMachine", "Properties": map[string]any{"StateMachineName": "lakeforge-pipeline"}},
		},
		"Outputs": map[string]any{"LakeBucketName": map[string]any{"Value": map[string]any{"Ref": "Named"}}},
	}, "123456789012", "us-east-1")
	for _, c := range []struct {
		value any
		want  string
	}{
		{map[string]any{"Ref": "Bucket1"}, "bucket1"},
		{map[string]any{"Ref": "Named"}, "kept-lake"},
		{map[string]any{"Fn::GetAtt": []any{"Role1", "Arn"}}, "arn:aws:iam::123456789012:role/role1"},
		{map[string]any{"Ref": "Topic1"}, "arn:aws:sns:us-east-1:123456789012:topic1"},
		{map[string]any{"Ref": "Machine1"}, "arn:aws:states:us-east-1:123456789012:stateMachine:lakeforge-pipeline"},
		{map[string]any{"Fn::Sub": "cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}"}, "cdk-hnb659fds-assets-123456789012-us-east-1"},
		{map[string]any{"Fn::Join": []any{"", []any{"arn:", map[string]any{"Ref": "AWS::Partition"}, ":s3:::", map[string]any{"Ref": "Named"}, "/lake"}}}, "arn:aws:s3:::kept-lake/lake"},
	} {
		if got, err := tpl.Resolve(c.value); err != nil || got != c.want {
			t.Errorf("Resolve(%v) = %q, %v; want %q", c.value, got, err, c.want)
		}
	}
	if got, err := tpl.Output("LakeBucketName"); err != nil || got != "kept-lake" {
		t.Errorf("Output = %q, %v", got, err)
	}
	tpl.Names["Bucket1"] = "stand-in"
	if got, _ := tpl.Resolve(map[string]any{"Ref": "Bucket1"}); got != "stand-in" {
		t.Errorf("a stand-in name is not used: %s", got)
	}
	for _, v := range []any{
		map[string]any{"Ref": "Missing"},
		map[string]any{"Ref": "AWS::StackName"},
		map[string]any{"Fn::Sub": "${Bucket1}"},
		map[string]any{"Fn::GetAtt": []any{"Bucket1", "DomainName"}},
	} {
		if _, err := tpl.Resolve(v); err == nil || !strings.Contains(err.Error(), "") {
			t.Errorf("Resolve(%v) rendered something", v)
		}
	}
}
