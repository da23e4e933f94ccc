package lakeformation

import (
	"context"

	"github.com/lakeforge/lakeforge/pkg/awsretry"
	"github.com/lakeforge/lakeforge/pkg/stepcontract"
)

// TagOutput assigns the analyst tag to the output database, so analysts see
// the tables the import made (tables inherit database tags). The state
// machine runs it after StartImport, and import-events invokes it when an
// import started outside the state machine ends well; both send an object
// it does not read.
type TagOutput struct {
	LF       ResourceTagsAPI
	Retry    awsretry.Policy
	Database string
	Tag      stepcontract.TagRef
}

func (t *TagOutput) Run(ctx context.Context) ([]string, error) {
	change, err := tagDatabase(ctx, t.LF, t.Retry, t.Database, t.Tag, false)
	if change == "" {
		return nil, err
	}
	return []string{change}, err
}
