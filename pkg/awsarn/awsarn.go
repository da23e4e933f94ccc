// Package awsarn writes the ARNs and S3 locations that the stack, the steps
// and the CLI must spell alike: one ARN builder, and one type for the lake
// location in its three spellings. Every argument may be a CDK token.
package awsarn

import "strings"

// ARN is "arn:<partition>:<service>:<region>:<account>:<resource>". Global
// services leave region empty (IAM: "arn:aws:iam::123456789012:role/x"), S3
// leaves region and account empty ("arn:aws:s3:::bucket/key").
func ARN(partition, service, region, account, resource string) string {
	return "arn:" + partition + ":" + service + ":" + region + ":" + account + ":" + resource
}

// S3 is the ARN of a bucket, or of a key or prefix in it when key is not
// empty.
func S3(partition, bucket, key string) string {
	if key != "" {
		bucket += "/" + key
	}
	return ARN(partition, "s3", "", "", bucket)
}

// Lake is the lake location: a bucket and the key prefix under which the
// imported data lives (lake.prefix, "lake/": relative, ending in "/").
type Lake struct {
	Bucket string
	Prefix string
}

// key is the prefix without its trailing "/": Lake Formation registers and
// Glue stores a location without one.
func (l Lake) key() string { return strings.TrimRight(l.Prefix, "/") }

// URI is "s3://bucket/prefix", without a trailing "/": the Glue database's
// LocationUri.
func (l Lake) URI() string { return "s3://" + l.Bucket + "/" + l.key() }

// Dir is "s3://bucket/prefix/", with the trailing "/": the Spark warehouse
// and the import job's --lake_path, under which table folders are appended.
func (l Lake) Dir() string { return l.URI() + "/" }

// ARN is "arn:<partition>:s3:::bucket/prefix": the resource Lake Formation
// registers and grants DATA_LOCATION_ACCESS on.
func (l Lake) ARN(partition string) string { return S3(partition, l.Bucket, l.key()) }

// Partition is the partition of an ARN ("aws", "aws-cn", "aws-us-gov"), or
// "aws" when arn is no ARN.
func Partition(arn string) string {
	parts := strings.SplitN(arn, ":", 3)
	if len(parts) < 3 || parts[0] != "arn" || parts[1] == "" {
		return "aws"
	}
	return parts[1]
}
