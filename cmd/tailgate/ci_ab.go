package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/tailgate-ci/tailgate/baseline"
)

// ciMergeBase is the commit a pr job measures changed models against, interleaved: --merge-base
// when given ("none": no A/B), else in a pull request (GITHUB_BASE_REF set) the merge base of
// HEAD and origin/BASE_REF, found with the hardened git. Under --pr-data the checkout is the base
// branch already and the models come from the pull request, so there is none. Without one every
// suite is compared with its stored baseline, and the log says why.
func ciMergeBase(e *env, f ciFlags) string {
	switch {
	case f.profile != "pr" || f.mergeBase == "none" || f.prData != "":
		return ""
	case f.mergeBase != "":
		return f.mergeBase
	}
	ref := e.getenv("GITHUB_BASE_REF")
	if ref == "" {
		return ""
	}
	out, err := baseline.GitCommand(context.Background(), "", nil, "merge-base", "HEAD", "origin/"+ref).Output()
	if err != nil {
		fmt.Fprintf(e.stderr, "tailgate ci: no merge base with origin/%s (%v): changed models are compared with the stored baseline, not interleaved\n", ref, err)
		return ""
	}
	return strings.TrimSpace(string(out))
}
