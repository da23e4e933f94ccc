package access

import (
	"fmt"
	"regexp"
	"strings"
)

// Pattern names columns: "table.column" or "column", where each part is a
// name of lower-case letters, digits and '_', and '%' stands for any run of
// characters (as in the include paths of source.includePaths). Unlike SQL
// LIKE, '_' is a literal: column names are full of it.
type Pattern struct {
	raw   string
	table string // "" when the pattern names columns of any table
	col   string
	tre   *regexp.Regexp
	cre   *regexp.Regexp
}

var patternPart = regexp.MustCompile(`^[a-z0-9_%]+$`)

// ParsePattern reads a column pattern, or says why it is not one.
func ParsePattern(s string) (Pattern, error) {
	p := Pattern{raw: s}
	parts := strings.Split(s, ".")
	switch len(parts) {
	case 1:
		p.col = parts[0]
	case 2:
		p.table, p.col = parts[0], parts[1]
	default:
		return Pattern{}, fmt.Errorf("at most one '.' (between the table and the column)")
	}
	for _, part := range parts {
		if !patternPart.MatchString(part) {
			return Pattern{}, fmt.Errorf("lower-case letters, digits, '_' and the wildcard '%%' on both sides of the '.'; Glue stores table and column names in lower case")
		}
	}
	if p.table != "" {
		p.tre = likeRegexp(p.table)
	}
	p.cre = likeRegexp(p.col)
	return p, nil
}

// MustPattern is ParsePattern for patterns known to be valid.
func MustPattern(s string) Pattern {
	p, err := ParsePattern(s)
	if err != nil {
		panic(fmt.Sprintf("pattern %q: %v", s, err))
	}
	return p
}

func likeRegexp(part string) *regexp.Regexp {
	pieces := strings.Split(part, "%")
	for i, piece := range pieces {
		pieces[i] = regexp.QuoteMeta(piece)
	}
	return regexp.MustCompile("^" + strings.Join(pieces, ".*") + "$")
}

// Exact says whether the pattern names one column of one table.
func (p Pattern) Exact() bool {
	return p.table != "" && !strings.Contains(p.raw, "%")
}

// Match says whether the pattern names column col of table (names as Glue
// stores them; compared in lower case).
func (p Pattern) Match(table, col string) bool {
	table, col = strings.ToLower(table), strings.ToLower(col)
	if p.tre != nil && !p.tre.MatchString(table) {
		return false
	}
	return p.cre.MatchString(col)
}

func (p Pattern) String() string { return p.raw }
