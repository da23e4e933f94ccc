package lakeformation

import (
	"context"
	"log/slog"

	"github.com/lakeforge/lakeforge/pkg/awsretry"
	"github.com/lakeforge/lakeforge/pkg/config"
	"github.com/lakeforge/lakeforge/pkg/steperr"
)

// TagOutput assigns the analyst tag to the output database, so analysts see
// the tables the import made (tables inherit database tags).
type TagOutput struct {
	LF       ResourceTagsAPI
	Retry    awsretry.Policy
	Database string
	Tag      config.TagRef
}

func (t *TagOutput) Run(ctx context.Context) ([]string, error) {
	change, err := tagDatabase(ctx, t.LF, t.Retry, t.Database, t.Tag, false)
	if change == "" {
		return nil, err
	}
	return []string{change}, err
}

// TagOutputInput is either the state machine's input (any JSON object; its
// fields are ignored) or an EventBridge "Glue Crawler State Change" event.
// It is taken as an event when it has "source" or "detail-type".
type TagOutputInput struct {
	Source     string        `json:"source,omitempty"`
	DetailType string        `json:"detail-type,omitempty"`
	Detail     *CrawlerState `json:"detail,omitempty"`
}

// CrawlerState is the detail of a Glue Crawler State Change event.
type CrawlerState struct {
	CrawlerName string `json:"crawlerName"`
	State       string `json:"state"`
}

// The event TagOutput accepts.
const (
	GlueEventSource        = "aws.glue"
	CrawlerStateDetailType = "Glue Crawler State Change"
	CrawlerSucceeded       = "Succeeded"
)

// TagOutputHandler is the handler of tag-output. An event must be the
// Succeeded state change of outputCrawler; anything else is rejected with an
// InvalidInputError naming the field, before any call is made.
func TagOutputHandler(t *TagOutput, outputCrawler string, log *slog.Logger) func(context.Context, TagOutputInput) (StepOutput, error) {
	const step = "tag-output"
	return func(ctx context.Context, in TagOutputInput) (StepOutput, error) {
		if err := checkEvent(in, outputCrawler); err != nil {
			log.ErrorContext(ctx, "rejected input", "error", err.Error())
			return StepOutput{Step: step, Changes: []string{}}, err
		}
		return finish(ctx, step, log, t.Run)
	}
}

func checkEvent(in TagOutputInput, outputCrawler string) error {
	if in.Source == "" && in.DetailType == "" {
		return nil // the state machine's input
	}
	switch {
	case in.Source != GlueEventSource:
		return &steperr.InvalidInputError{Field: "source", Fix: "must be " + GlueEventSource + " (got " + quote(in.Source) + "); the EventBridge rule should match only Glue crawler events"}
	case in.DetailType != CrawlerStateDetailType:
		return &steperr.InvalidInputError{Field: "detail-type", Fix: "must be " + CrawlerStateDetailType + " (got " + quote(in.DetailType) + ")"}
	case in.Detail == nil:
		return &steperr.InvalidInputError{Field: "detail", Fix: "a Glue Crawler State Change event has a detail object with crawlerName and state"}
	case in.Detail.CrawlerName != outputCrawler:
		return &steperr.InvalidInputError{Field: "detail.crawlerName", Fix: "must be the output crawler " + outputCrawler + " (got " + quote(in.Detail.CrawlerName) + "); the EventBridge rule should match only that crawler"}
	case in.Detail.State != CrawlerSucceeded:
		return &steperr.InvalidInputError{Field: "detail.state", Fix: "must be " + CrawlerSucceeded + " (got " + quote(in.Detail.State) + "); the EventBridge rule should match only successful runs"}
	}
	return nil
}

func quote(s string) string { return "\"" + s + "\"" }
