package stack

// addAccessModel deploys the Lake Formation access-model step Lambdas
// (issue: access model). Not built yet.
func (s *Stack) addAccessModel() {}
