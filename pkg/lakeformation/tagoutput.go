package lakeformation

import (
	"context"

	"github.com/lakeforge/lakeforge/pkg/awsretry"
	"github.com/lakeforge/lakeforge/pkg/stepcontract"
)

// TagOutput assigns the analyst tag to the output database, so analysts see
// the tables the import made (tables inherit database tags), and, with
// governance, the sensitivity tag to every column (Columns). The state
// machine runs it after StartImport, and import-events invokes it when an
// import started outside the state machine ends well; both send an object
// it does not read.
type TagOutput struct {
	LF       ResourceTagsAPI
	Retry    awsretry.Policy
	Database string
	Tag      stepcontract.TagRef
	// Columns converges column sensitivity; nil without governance.
	Columns *ColumnTagging
	// Metrics receives the number of unclassified columns (governance);
	// nil publishes nothing.
	Metrics *UnclassifiedMetric
	// Probes records, for VerifyQuery, the columns the analysts must and
	// must not read (governance); nil records nothing.
	Probes *ProbeRecorder
}

func (t *TagOutput) Run(ctx context.Context) ([]string, error) {
	res, err := t.Converge(ctx)
	return res.Changes, err
}
