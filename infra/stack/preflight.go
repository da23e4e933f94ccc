package stack

// addPreflight deploys the test-connection step Lambda (issue: preflight).
// Not built yet.
func (s *Stack) addPreflight() {}
