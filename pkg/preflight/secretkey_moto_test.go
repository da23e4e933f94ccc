package preflight

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/lakeforge/lakeforge/internal/motoserver"
)

// A secret encrypted with a customer managed key needs kms:Decrypt for the
// import job's role, which the stack grants only on source.secretKmsKeyArn.
// Preflight reads the key from DescribeSecret (KmsKeyId, omitted for
// aws/secretsmanager) and says when the setting is missing or different.
func TestSecretCustomerManagedKey(t *testing.T) {
	const keyARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	e := newEnv(t)
	e.addSelfReferencingRule()
	e.addS3Endpoint()
	e.addInterfaceEndpoints()

	// The default key: nothing to set.
	r := e.run()
	wantStatuses(t, r, map[string]Status{CheckSecret: Pass})
	wantText(t, r.Get(CheckSecret), "aws/secretsmanager")

	sm := secretsmanager.NewFromConfig(motoserver.Current(t).Config())
	out, err := sm.CreateSecret(motoserver.Context(t), &secretsmanager.CreateSecretInput{
		Name: aws.String("lakeforge/source-cmk"), KmsKeyId: aws.String(keyARN),
		SecretString: aws.String(`{"username":"importer","password":"testing"}`),
	})
	must(t, err)
	tg := Target{ConnectionName: "lakeforge-not-yet", Engine: "postgresql", Host: "db.internal", Port: 5432, Database: "kthr01",
		SecretID: aws.ToString(out.ARN), SubnetID: e.subnet, AvailabilityZone: "us-east-1a", SecurityGroupIDs: []string{e.sg}}

	r, creds := e.checker.RunConfigured(motoserver.Context(t), tg)
	wantStatuses(t, r, map[string]Status{CheckSecret: Fail})
	wantText(t, r.Get(CheckSecret), "customer managed KMS key "+keyARN, "source.secretKmsKeyArn is not set", "set source.secretKmsKeyArn")
	if creds != nil {
		t.Error("credentials handed to the handshake although the secret check failed")
	}

	e.checker.SecretKMSKeyARN = "arn:aws:kms:us-east-1:123456789012:key/99999999-12ab-34cd-56ef-1234567890ab"
	r, _ = e.checker.RunConfigured(motoserver.Context(t), tg)
	wantStatuses(t, r, map[string]Status{CheckSecret: Fail})
	wantText(t, r.Get(CheckSecret), "not with source.secretKmsKeyArn "+e.checker.SecretKMSKeyARN)

	e.checker.SecretKMSKeyARN = keyARN
	r, _ = e.checker.RunConfigured(motoserver.Context(t), tg)
	wantStatuses(t, r, map[string]Status{CheckSecret: Pass})
}
