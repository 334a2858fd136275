package baseline

import (
	"errors"
	"fmt"
	"strings"

	"github.com/tailgate-ci/tailgate/baseline/result"
)

// Promotion rules, recorded with each promotion.
const (
	// RulePass: a passing, healthy run from the default branch, not a pull request.
	RulePass = "pass-on-default-branch"
	// RuleBootstrap: the first baseline of a suite and key, from a healthy default-branch run
	// that had nothing to be compared against.
	RuleBootstrap = "bootstrap"
	// RuleForce: the policy was overridden with a reason.
	RuleForce = "force"
)

// CheckPolicy decides whether the run described by m may become the baseline, and by which
// rule. hasBaseline says whether the suite and key already have one. Every reason for refusal
// is reported at once; with p.Force the refusal is overridden but a reason is required.
func CheckPolicy(m *result.Meta, hasBaseline bool, p Promotion) (string, error) {
	def := p.DefaultBranch
	if def == "" {
		def = DefaultBranch
	}
	var why []string
	ref := strings.TrimPrefix(m.Git.Ref, "refs/heads/")
	switch {
	case m.Git.Ref == "":
		why = append(why, "the run records no git ref, so it is not known to come from the default branch")
	case ref != def:
		why = append(why, fmt.Sprintf("the run is from %q, not the default branch %q", m.Git.Ref, def))
	}
	if m.Git.PR != 0 {
		why = append(why, fmt.Sprintf("the run is from pull request #%d", m.Git.PR))
	}
	if !m.Health.Healthy && !m.Health.Overridden {
		why = append(why, "the run was unhealthy: "+strings.Join(m.Health.Reasons, "; "))
	}
	rule := RulePass
	switch {
	case p.Verdict == "pass":
	case p.Verdict == "" && !hasBaseline:
		rule = RuleBootstrap
	case p.Verdict == "":
		why = append(why, "no verdict was given and the suite already has a baseline (compare first, or --verdict pass)")
	default:
		why = append(why, fmt.Sprintf("its verdict is %q, not pass", p.Verdict))
	}
	if p.Force {
		if strings.TrimSpace(p.Reason) == "" {
			return "", fmt.Errorf("%w: --force needs a --reason, recorded in the history", ErrPolicy)
		}
		return RuleForce, nil
	}
	if len(why) > 0 {
		return "", fmt.Errorf("%w: run %s: %s (use --force with --reason to override)", ErrPolicy, p.Run, strings.Join(why, "; "))
	}
	return rule, nil
}

// Nearest is the closest baseline of a suite to an environment that has none.
type Nearest struct {
	Key     string
	Pointer *Pointer
	// Diffs lists the pinned fields that differ; A is the wanted environment, B the baseline's.
	Diffs []result.FieldDiff
}

// FindNearest looks for the baseline of suite measured on the environment closest to fp: the
// one with the fewest differing pinned fields (ties go to the most recent promotion, then to the
// key). It returns ErrNoBaseline when the suite has no baseline at all.
func FindNearest(st Store, suite string, fp result.Fingerprint) (*Nearest, error) {
	keys, err := st.Keys(suite)
	if err != nil {
		return nil, err
	}
	var best *Nearest
	var errs []error
	for _, k := range keys {
		ptr, err := st.Pointer(suite, k)
		if errors.Is(err, ErrNoBaseline) {
			continue
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		// Runs verifies each run's meta.json against its manifest without decoding its log.
		runs, err := st.Runs(suite, k)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		var env *result.Fingerprint
		for i := range runs {
			if runs[i].ID == ptr.Run {
				env = &runs[i].Env
			}
		}
		if env == nil {
			errs = append(errs, fmt.Errorf("%w: baseline of %s/%s is run %s, which is not in the store", ErrIntegrity, suite, k, ptr.Run))
			continue
		}
		n := &Nearest{Key: k, Pointer: ptr, Diffs: result.DiffPinned(fp, *env)}
		if best == nil || len(n.Diffs) < len(best.Diffs) ||
			(len(n.Diffs) == len(best.Diffs) && n.Pointer.PromotedAt.After(best.Pointer.PromotedAt)) {
			best = n
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if best == nil {
		return nil, fmt.Errorf("suite %s: %w for any environment", suite, ErrNoBaseline)
	}
	return best, nil
}

// Describe renders n for an "incomparable" message.
func (n *Nearest) Describe() string {
	var b strings.Builder
	fmt.Fprintf(&b, "nearest baseline is %s/%s run %s (promoted %s); pinned fields that differ:",
		n.Pointer.Suite, n.Key, n.Pointer.Run, n.Pointer.PromotedAt.Format("2006-01-02"))
	for _, d := range n.Diffs {
		fmt.Fprintf(&b, " %s (this run %s, baseline %s);", d.Field, d.A, d.B)
	}
	return strings.TrimSuffix(b.String(), ";")
}
