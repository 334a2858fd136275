package prdata

import (
	"sort"
	"strings"

	"github.com/tailgate-ci/tailgate/runner/config"
)

// Plan lists what a trusted configuration takes from a pull request: the model of each named
// suite whose path lies inside the repository, and the extra paths of ci.pr_data (input files,
// a model's external data). notes say which models stay the board's (an absolute path, or one
// outside the repository). Paths are relative to the repository root, where the workflow runs
// tailgate.
func Plan(cfg *config.Config, names []string) (paths, notes []string) {
	seen := map[string]bool{}
	add := func(p string) {
		if !seen[p] {
			seen[p] = true
			paths = append(paths, p)
		}
	}
	for _, n := range names {
		s := cfg.Suites[n]
		if s == nil || s.Model == "" {
			continue
		}
		if _, err := CleanPath(s.Model); err != nil {
			notes = append(notes, "suite "+n+": model "+s.Model+" is not a repository path; the board's file is measured, not the pull request's")
			continue
		}
		add(s.Model)
	}
	for _, p := range cfg.CI.PRData {
		add(p)
	}
	sort.Strings(paths)
	return paths, notes
}

// Apply points the named suites of cfg at the fetched files (Fetch's result): each model, and
// each input filled from a file (fill: file=PATH) listed in ci.pr_data. Doctor's model pins
// then check the pull request's models, and the run measures them.
func Apply(cfg *config.Config, names []string, fetched map[string]string) {
	byClean := map[string]string{}
	for orig, file := range fetched {
		if c, err := CleanPath(orig); err == nil {
			byClean[c] = file
		}
	}
	lookup := func(p string) (string, bool) {
		if f, ok := fetched[p]; ok {
			return f, true
		}
		c, err := CleanPath(p)
		if err != nil {
			return "", false
		}
		f, ok := byClean[c]
		return f, ok
	}
	for _, n := range names {
		s := cfg.Suites[n]
		if s == nil {
			continue
		}
		if f, ok := lookup(s.Model); ok && s.Model != "" {
			s.Model = f
		}
		for k, in := range s.Inputs {
			p, ok := strings.CutPrefix(in.Fill, "file=")
			if !ok {
				continue
			}
			if f, ok := lookup(p); ok {
				in.Fill = "file=" + f
				s.Inputs[k] = in
			}
		}
	}
}
