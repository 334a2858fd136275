package baseline

import (
	"fmt"
	"regexp"
	"strings"
)

// nameRE is the shape of every name that becomes a path component in a store: suites, keys and
// run ids. It starts with an alphanumeric, so ".", ".." and hidden files cannot be named, and
// it has no separator, so no name can leave its folder.
var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// ValidateName checks that s may be used as a store path component. what names the kind of
// name ("suite", "key", "run") in the error.
func ValidateName(what, s string) error {
	if !nameRE.MatchString(s) {
		return fmt.Errorf("invalid %s name %q: must match %s", what, s, nameRE)
	}
	if strings.Contains(s, "..") {
		return fmt.Errorf("invalid %s name %q: must not contain \"..\"", what, s)
	}
	return nil
}

// validateNames checks a suite, key and (when not empty) run id, returning every problem.
func validateNames(suite, key, run string) []error {
	var errs []error
	if err := ValidateName("suite", suite); err != nil {
		errs = append(errs, err)
	}
	if err := ValidateName("key", key); err != nil {
		errs = append(errs, err)
	}
	if run != "" {
		if err := ValidateName("run", run); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}
