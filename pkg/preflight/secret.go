package preflight

// Check 1: the connection's secret and the KMS key that encrypts it.

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/lakeforge/lakeforge/pkg/awsretry"
)

// 1. The secret exists, is readable and has username and password.
func (c *Checker) checkSecret(ctx context.Context, t Target, net *network) Check {
	ch := Check{Name: CheckSecret}
	out, err := c.Secrets.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(t.SecretID)})
	if err != nil {
		ch.Status = Fail
		switch awsretry.Code(err) {
		case "ResourceNotFoundException":
			ch.Summary = "secret " + t.SecretID + " does not exist"
			ch.Fix = `create it with the database credentials (aws secretsmanager create-secret --name <name> --secret-string '{"username":"...","password":"..."}') or set source.secretArn in cdk.json to an existing secret's ARN, then redeploy`
		case "AccessDeniedException":
			ch.Summary = "secret " + t.SecretID + " exists but cannot be read: " + err.Error()
			ch.Fix = "the reader needs secretsmanager:GetSecretValue on this secret (the stack grants it on source.secretArn only: if the connection names another secret, redeploy) and, when the secret is encrypted with a customer managed KMS key, kms:Decrypt on that key through Secrets Manager in the key policy"
		case "DecryptionFailure":
			ch.Summary = "secret " + t.SecretID + " cannot be decrypted: " + err.Error()
			ch.Fix = "allow kms:Decrypt on the secret's KMS key (key policy) for the reader, or re-encrypt the secret with a key the reader may use"
		case "InvalidRequestException":
			ch.Summary = "secret " + t.SecretID + " cannot be read now: " + err.Error()
			ch.Fix = "if it is scheduled for deletion, restore it (aws secretsmanager restore-secret --secret-id " + t.SecretID + ")"
		default:
			return apiFailure(ch, "secretsmanager:GetSecretValue", err, "check the secret's ARN (source.secretArn) and the reader's permissions")
		}
		return ch
	}
	ch.Evidence = append(ch.Evidence, "secret "+aws.ToString(out.ARN)+" version "+aws.ToString(out.VersionId))
	if out.SecretString == nil {
		ch.Status = Fail
		ch.Summary = "secret holds binary data, not the JSON Glue reads"
		ch.Fix = `store the credentials as a JSON string: aws secretsmanager put-secret-value --secret-id ` + t.SecretID + ` --secret-string '{"username":"...","password":"..."}'`
		return ch
	}
	var fields map[string]any
	if err := json.Unmarshal([]byte(*out.SecretString), &fields); err != nil {
		ch.Status = Fail
		ch.Summary = "secret value is not a JSON object (Glue reads the username and password keys of one)"
		ch.Fix = `store it as JSON: aws secretsmanager put-secret-value --secret-id ` + t.SecretID + ` --secret-string '{"username":"...","password":"..."}'`
		return ch
	}
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	ch.Evidence = append(ch.Evidence, "keys present (values not shown): "+strings.Join(keys, ", "))
	var missing []string
	creds := Credentials{}
	for _, k := range []string{"username", "password"} {
		s, ok := fields[k].(string)
		if !ok || s == "" {
			missing = append(missing, k)
			continue
		}
		if k == "username" {
			creds.Username = s
		} else {
			creds.Password = s
		}
	}
	// host, port and dbname are optional: Glue takes them from the JDBC URL.
	// A difference is worth knowing because the secret is often shared.
	if h, ok := fields["host"].(string); ok && h != "" && !strings.EqualFold(h, t.Host) {
		ch.Evidence = append(ch.Evidence, fmt.Sprintf("the secret's host %q differs from the connection's %q; Glue uses the connection's", h, t.Host))
	}
	if p, ok := fields["port"]; ok && fmt.Sprint(p) != strconv.Itoa(t.Port) {
		ch.Evidence = append(ch.Evidence, fmt.Sprintf("the secret's port %v differs from the connection's %d; Glue uses the connection's", p, t.Port))
	}
	if d, ok := fields["dbname"].(string); ok && d != "" && d != t.Database {
		ch.Evidence = append(ch.Evidence, fmt.Sprintf("the secret's dbname %q differs from the connection's %q; Glue uses the connection's", d, t.Database))
	}
	if len(missing) > 0 {
		ch.Status = Fail
		ch.Summary = "secret lacks non-empty string field(s) " + strings.Join(missing, ", ")
		ch.Fix = `add them: aws secretsmanager put-secret-value --secret-id ` + t.SecretID + ` --secret-string '{"username":"...","password":"..."}' (keep any other keys)`
		return ch
	}
	if problem, fix := c.checkSecretKey(ctx, t, &ch); problem != "" {
		ch.Status = Fail
		ch.Summary = problem
		ch.Fix = fix
		return ch
	}
	net.creds = &creds
	ch.Status = Pass
	ch.Summary = "secret is readable and has username and password"
	return ch
}

// checkSecretKey compares the secret's KMS key (DescribeSecret: omitted for
// aws/secretsmanager) with source.secretKmsKeyArn. This reader may decrypt
// through a key policy while the import job's role, which gets kms:Decrypt
// only from that setting, may not.
func (c *Checker) checkSecretKey(ctx context.Context, t Target, ch *Check) (problem, fix string) {
	out, err := c.Secrets.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(t.SecretID)})
	if err != nil {
		ch.Evidence = append(ch.Evidence, "cannot tell the secret's KMS key (secretsmanager:DescribeSecret: "+err.Error()+")")
		return "", ""
	}
	key := aws.ToString(out.KmsKeyId)
	if key == "" || key == "alias/aws/secretsmanager" {
		ch.Evidence = append(ch.Evidence, "encrypted with the AWS managed key aws/secretsmanager")
		if c.SecretKMSKeyARN != "" {
			ch.Evidence = append(ch.Evidence, "source.secretKmsKeyArn "+c.SecretKMSKeyARN+" is set but not used by the secret")
		}
		return "", ""
	}
	ch.Evidence = append(ch.Evidence, "encrypted with customer managed KMS key "+key)
	setFix := "set source.secretKmsKeyArn in cdk.json to the key's ARN (aws kms describe-key --key-id " + key + " --query KeyMetadata.Arn) and redeploy, so the import job's role may decrypt the secret"
	switch {
	case c.SecretKMSKeyARN == "":
		return "the secret is encrypted with customer managed KMS key " + key + ", and source.secretKmsKeyArn is not set: the import job's role has no kms:Decrypt on it", setFix
	case key == c.SecretKMSKeyARN || strings.HasSuffix(c.SecretKMSKeyARN, ":key/"+key):
		return "", ""
	case strings.Contains(key, "alias/"):
		ch.Evidence = append(ch.Evidence, "the secret names its key by alias, so it cannot be compared with source.secretKmsKeyArn "+c.SecretKMSKeyARN+" here")
		return "", ""
	}
	return "the secret is encrypted with KMS key " + key + ", not with source.secretKmsKeyArn " + c.SecretKMSKeyARN, setFix
}
