package lakeformation

import (
	"bytes"
	"context"
	"encoding/json"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/lakeforge/lakeforge/pkg/access"
)

// ObjectsAPI writes objects; *s3.Client satisfies it.
type ObjectsAPI interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

var _ ObjectsAPI = (*s3.Client)(nil)

// ProbeRecorder writes a run's access.ColumnProbes beside the import's
// manifest (access.ProbesKey), where VerifyQuery reads them: the step that
// classifies the columns is the one that knows which ones the analysts
// must not read.
type ProbeRecorder struct {
	S3         ObjectsAPI
	Bucket     string
	RunsPrefix string
	// AnalystValues are the sensitivity values the analysts read; Grant
	// is their table grant, for VerifyQuery's messages.
	AnalystValues []string
	Grant         string
}

func (r *ProbeRecorder) record(ctx context.Context, runID string, cls []access.Classified) error {
	body, err := json.Marshal(access.Probes(runID, r.Grant, cls, r.AnalystValues))
	if err != nil {
		return err
	}
	key := access.ProbesKey(r.RunsPrefix, runID)
	_, err = r.S3.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(r.Bucket), Key: aws.String(key), Body: bytes.NewReader(body), ContentType: aws.String("application/json"),
	})
	return fail("s3:PutObject", "s3://"+r.Bucket+"/"+key, err)
}
