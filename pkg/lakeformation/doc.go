// Package lakeformation is the access model of the lake: six steps that
// converge an account to the Lake Formation settings, LF-tags, location,
// database, grants and output tag that lakeforge needs.
//
// Every step reads first and writes only what is missing, so a run on an
// account that has not drifted makes no mutating call, and a run after
// someone changed the account repairs it. Each step returns the list of
// changes it made (empty when none).
//
// Errors: calls go through an awsretry.Policy (eventual-consistency
// conditions, then steperr.TransientError); every other failure becomes a
// steperr.PermanentError whose Fix says what to change (see fail).
package lakeformation
