// Package statemachine embeds the Amazon States Language definition of the
// daily pipeline, so the CDK app passes it inline and tests read the very
// same bytes.
package statemachine

import (
	_ "embed"
	"regexp"
	"slices"
)

// Pipeline is the daily pipeline (JSONPath, Standard workflow) with its
// ${...} placeholders; infra fills them with DefinitionSubstitutions.
//
//go:embed pipeline.asl.json
var Pipeline string

// TopicPlaceholder is the placeholder of the failure topic's ARN.
const TopicPlaceholder = "FailureTopicArn"

var placeholder = regexp.MustCompile(`\$\{([A-Za-z0-9]+)\}`)

// Placeholders returns the distinct ${Name} placeholders of a definition,
// sorted.
func Placeholders(definition string) []string {
	var out []string
	for _, m := range placeholder.FindAllStringSubmatch(definition, -1) {
		out = append(out, m[1])
	}
	slices.Sort(out)
	return slices.Compact(out)
}
