package awsarn

import "testing"

// The expected strings are AWS's documented forms ("Identify AWS resources
// with Amazon Resource Names", IAM User Guide; the S3 ARN has no region and
// no account; Glue's LocationUri and Lake Formation's RegisterResource take
// the s3:// URI and the S3 ARN of the prefix).
func TestARN(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{ARN("aws", "glue", "eu-west-1", "123456789012", "database/sales"), "arn:aws:glue:eu-west-1:123456789012:database/sales"},
		{ARN("aws-cn", "iam", "", "123456789012", "role/x"), "arn:aws-cn:iam::123456789012:role/x"},
		{S3("aws", "lake-bucket", ""), "arn:aws:s3:::lake-bucket"},
		{S3("aws-us-gov", "lake-bucket", "lake/*"), "arn:aws-us-gov:s3:::lake-bucket/lake/*"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %s, want %s", tc.got, tc.want)
		}
	}
}

func TestLake(t *testing.T) {
	for _, prefix := range []string{"lake/", "lake"} {
		l := Lake{Bucket: "lake-bucket", Prefix: prefix}
		if got := l.URI(); got != "s3://lake-bucket/lake" {
			t.Errorf("%q: URI %s", prefix, got)
		}
		if got := l.Dir(); got != "s3://lake-bucket/lake/" {
			t.Errorf("%q: Dir %s", prefix, got)
		}
		if got := l.ARN("aws"); got != "arn:aws:s3:::lake-bucket/lake" {
			t.Errorf("%q: ARN %s", prefix, got)
		}
	}
	nested := Lake{Bucket: "b", Prefix: "data/lake/"}
	if got := nested.ARN("aws-cn"); got != "arn:aws-cn:s3:::b/data/lake" {
		t.Errorf("nested ARN %s", got)
	}
}

func TestPartition(t *testing.T) {
	for arn, want := range map[string]string{
		"arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf":         "aws",
		"arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:db-AbCdEf":     "aws-cn",
		"arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:x-AbCd": "aws-us-gov",
		"": "aws", "not-an-arn": "aws",
	} {
		if got := Partition(arn); got != want {
			t.Errorf("Partition(%q) = %s, want %s", arn, got, want)
		}
	}
}
