package config

import (
	"strings"
	"testing"
)

// source.secretKmsKeyArn is optional; when set it must be a KMS key ARN
// (the IAM grant names the key, and an alias ARN would not match it).
func TestSecretKMSKeyARN(t *testing.T) {
	for value, ok := range map[string]bool{
		"": true,
		"arn:aws:kms:ap-northeast-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab": true,
		"arn:aws:kms:us-east-1:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab":      true,
		"arn:aws:kms:ap-northeast-1:123456789012:alias/lakeforge":                          false,
		"1234abcd-12ab-34cd-56ef-1234567890ab":                                             false,
		"alias/aws/secretsmanager":                                                         false,
	} {
		cfg, err := FromContext(shippedContext(t))
		if err != nil {
			t.Fatal(err)
		}
		cfg.Source.SecretKMSKeyARN = value
		err = cfg.Validate()
		if ok && err != nil && strings.Contains(err.Error(), "source.secretKmsKeyArn") {
			t.Errorf("%q rejected: %v", value, err)
		}
		if !ok && (err == nil || !strings.Contains(err.Error(), "source.secretKmsKeyArn")) {
			t.Errorf("%q accepted (err %v), want an error naming source.secretKmsKeyArn", value, err)
		}
	}
}
