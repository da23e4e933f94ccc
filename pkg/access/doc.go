// Package access is lakeforge's model of who may read what in the lake:
// the column sensitivity rules of the governance configuration (which
// value each column gets), and the evaluation of Lake Formation LF-tag
// expressions against the tags a column carries, assigned or inherited
// from its table and database.
//
// Nothing here calls AWS. Lake Formation evaluates tag expressions itself
// and no emulator does; this package evaluates them by the rules the Lake
// Formation Developer Guide documents (see docs/aws-behaviour.md, "Lake
// Formation: column-level sensitivity"), for `lakeforge access` and for
// the tests that check what a grant gives. The step Lambdas link it, so it
// must not link pkg/config.
package access
