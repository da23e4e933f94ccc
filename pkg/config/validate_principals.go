package config

import (
	"fmt"
	"strings"
)

// validatePrincipalsOnce refuses the same principal twice: within one
// persona's principalArns, or in both personas. A data lake administrator
// already holds every permission an analyst grant gives, and the stack
// would grant and trust the same principal twice.
func (c Config) validatePrincipalsOnce(v *validator) {
	first := map[string]string{} // ARN -> the path where it first appears
	for _, p := range []struct {
		name string
		arns []string
	}{{"admins", c.Personas.Admins.PrincipalARNs}, {"analysts", c.Personas.Analysts.PrincipalARNs}} {
		for i, arn := range p.arns {
			path := fmt.Sprintf("personas.%s.principalArns[%d]", p.name, i)
			prev, seen := first[arn]
			switch {
			case !seen:
				first[arn] = path
			case strings.HasPrefix(prev, "personas."+p.name+"."):
				v.add(path, arn, "each principal once: it is already "+ContextKey+"."+prev+"; remove this entry")
			default:
				v.add(path, arn, "a principal in one persona only: it is already an administrator ("+ContextKey+"."+prev+"), which holds every permission an analyst has; remove it from one of the two lists")
			}
		}
	}
}

// CheckAccount refuses configured administrators of another account than
// account (the account the stack deploys to). The CDK CLI passes that
// account to the app as CDK_DEFAULT_ACCOUNT whenever its credentials
// resolve, so every `make deploy` checks it; a synth without credentials
// cannot, and then ConfigureLakeFormation would add such a principal to
// this account's administrators, where it can administer nothing: Lake
// Formation administrators act on their own account's Data Catalog.
func (c Config) CheckAccount(account string) error {
	if account == "" {
		return nil
	}
	v := &validator{}
	for i, arn := range c.Personas.Admins.PrincipalARNs {
		if a := arnAccount(arn); a != "" && a != account {
			v.add(fmt.Sprintf("personas.admins.principalArns[%d]", i), arn,
				"an IAM user or role of the account the stack deploys to ("+account+", CDK_DEFAULT_ACCOUNT; this one is in "+a+"): Lake Formation administrators administer their own account's Data Catalog; give another account's principals access with grants (personas.analysts.principalArns) instead")
		}
	}
	if len(v.list) == 0 {
		return nil
	}
	return &Problems{List: v.list}
}
