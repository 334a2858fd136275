package gate

import (
	"cmp"
	"errors"
	"fmt"
	"math"

	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/gate/stats"
)

// ErrDesign is returned (wrapped) when an interleaved A/B result is given where a single run is
// expected, or a single run where the two arms of an A/B result are: mixing the arms of one
// result, or pairing rounds that were never interleaved, would gate something that was not
// measured.
var ErrDesign = errors.New("wrong kind of result")

// NotASingleRun is the error for an interleaved A/B result in dir given where a single run is
// expected (against a baseline, or as one): it wraps ErrDesign.
func NotASingleRun(dir string) error {
	return fmt.Errorf("%w: %s is an interleaved A/B result (arms A and B in one log): gate its arms with `tailgate compare %s` alone, not against another run", ErrDesign, dir, dir)
}

// checkDesign refuses a comparison whose runs do not fit its design: an A/B result's arms only
// compare with each other, and paired (Options.Paired) only compares the two arms of one.
func checkDesign(base, cand *Run, opts Options) error {
	isAB := func(r *Run) bool { return r != nil && r.Meta != nil && r.Meta.IsAB() }
	if !opts.Paired {
		for _, r := range []*Run{base, cand} {
			if isAB(r) {
				return NotASingleRun(r.Dir)
			}
		}
		return nil
	}
	if !isAB(base) || !isAB(cand) || base.Sample.Intervals() != cand.Sample.Intervals() {
		return fmt.Errorf("%w: a paired comparison needs the two arms of one interleaved A/B result, with one interval per round each", ErrDesign)
	}
	return nil
}

// LoadAB reads an interleaved A/B result directory into its two arms, A (the baseline of the
// comparison) and B (the candidate), each a Run of its own rounds in order. Each arm's Meta is
// the result's with the arm's model, summary and counts. It checks the log against meta.json's
// counts, and that each arm has one interval per recorded round; a single run is an error
// wrapping ErrDesign.
func LoadAB(dir string) (a, b *Run, err error) { return LoadABEach(dir, nil) }

// LoadABEach is LoadAB that also hands each log line, as it is read, to each (when not nil)
// with its arm (0 for A, 1 for B), as LoadRunEach does for a single run: the place to compute
// per-round figures without keeping the histograms. An error from each stops the read.
func LoadABEach(dir string, each func(arm int, iv result.IntervalBuckets) error) (a, b *Run, err error) {
	m, f, err := openResult(dir)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	if !m.IsAB() {
		return nil, nil, fmt.Errorf("%w: result %s is a single run, not an interleaved A/B result: give it a baseline (BASE CAND or --store)", ErrDesign, dir)
	}
	var arms [2]*Run
	for i := range arms {
		arms[i] = &Run{Dir: dir, Meta: armMeta(m, i), Sample: &stats.Sample{}}
	}
	err = scanLog(dir, m, f, func(iv result.IntervalBuckets) error {
		for i, name := range result.ArmNames {
			if iv.Tag != name {
				continue
			}
			if err := arms[i].AddBuckets(iv); err != nil || each == nil {
				return err
			}
			return each(i, iv)
		}
		return fmt.Errorf("interval tagged %q: an A/B log holds arms A and B only", iv.Tag)
	})
	if err != nil {
		return nil, nil, err
	}
	for i, r := range arms {
		if n := r.Sample.Intervals(); n != m.AB.Rounds {
			return nil, nil, fmt.Errorf("result %s: %s: arm %s has %d intervals for %d rounds; the rounds cannot be paired",
				dir, result.LatencyFile, result.ArmNames[i], n, m.AB.Rounds)
		}
	}
	return arms[0], arms[1], nil
}

// armMeta is the result's meta as arm i's own: its model and session, summary and counts.
func armMeta(m *result.Meta, i int) *result.Meta {
	am := *m
	arm := m.AB.Arms[i]
	am.Env.ModelSHA256 = arm.ModelSHA256
	// meta.json's env is the process's and arm B's: an arm run by a worker has its own runtime,
	// and an in-process arm beside a worker arm B has none of the worker's.
	am.Env.Backend, am.Env.Runtime, am.Env.RuntimeVersion, am.Env.Device = "ort", "", "", ""
	if arm.Worker != "" {
		am.Env.Backend, am.Env.Runtime, am.Env.RuntimeVersion, am.Env.Device = "exec", arm.Runtime, arm.Version, arm.Device
	}
	am.Workload.Model, am.Workload.Inputs, am.Workload.Threads = arm.Model, arm.Inputs, arm.Threads
	am.Summary = m.Classes[arm.Name]
	am.Classes = nil
	am.Counts = result.Counts{Samples: am.Summary.Count, Intervals: m.AB.Rounds, Warmup: arm.Warmup}
	return &am
}

// CompareAB gates arm B (the candidate) of an interleaved A/B result against arm A (the
// baseline) with rules: absolute rules judge arm B, relative ones the paired ratio B/A
// (stats.ComparePaired), decided as for separate runs but with no between-run term, since both
// arms share the run. The report says it is interleaved and over how many rounds.
func CompareAB(a, b *Run, rules []Rule, opts Options) (*Report, error) {
	opts.Paired = true
	rep, err := Compare(a, b, rules, opts)
	if err != nil {
		return nil, err
	}
	ab := b.Meta.AB
	rep.Design = designInterleaved + ab.Design()
	where := "in one process"
	switch {
	case ab.Sessions >= stats.MinSessions:
		where = fmt.Sprintf("in %d sessions of fresh arms, the session pair the unit of analysis (t on %d df)", ab.Sessions, ab.Sessions-1)
	case ab.Sessions > 1:
		// Too few sessions for an interval over them: the rounds stand in, and understate the
		// variation between sessions, which the note must say.
		where = fmt.Sprintf("in %d sessions of fresh arms, analysed per round (fewer than %d sessions)", ab.Sessions, stats.MinSessions)
	}
	note := fmt.Sprintf("interleaved A/B, %s of %s per arm %s (order seed %d): B %s is the candidate, A %s the baseline; relative rules use the paired rounds and no between-run SD",
		ab.Design(), ab.Round, where, ab.Seed, ArmLabel(ab.Arms[1]), ArmLabel(ab.Arms[0]))
	rep.Notes = append([]string{note}, rep.Notes...)
	// The design goes right after the suite, where a truncated headline still shows it.
	suite := rep.Suite
	rep.Suite = fmt.Sprintf("%s (%s)", suite, rep.Design)
	rep.Headline = headline(rep)
	rep.Suite = suite
	return rep, nil
}

// ArmLabel names an arm by its model and the session settings it was run with, or by its
// worker: "(b.onnx, threads 1, graph optimisation all)".
func ArmLabel(a result.Arm) string {
	if a.Worker != "" {
		return fmt.Sprintf("(worker %q, %s %s on %s)", a.Worker, a.Runtime, a.Version, cmp.Or(a.Device, "an unnamed device"))
	}
	return fmt.Sprintf("(%s, threads %s, graph optimisation %s)", a.Model, a.Session["intra_op_num_threads"], a.Session["graph_optimization"])
}

// comparePaired is compareRatio for the arms of one A/B result: base is arm A, cand arm B. Too
// few units of rounds for an interval is an error that says how many rounds would do.
func comparePaired(base, cand *Run, m Metric, conf float64, seed uint64, _ float64) (stats.Ratio, error) {
	o := statsOptions(seed)
	if ab := cand.Meta.AB; ab != nil && ab.Sessions >= stats.MinSessions {
		o.SessionLen = ab.SessionRounds()
	}
	r, p := stats.ComparePaired(base.Sample, cand.Sample, statOf(m), conf, o)
	if math.IsNaN(r.Point) || math.IsNaN(r.Lo) || math.IsNaN(r.PSlower) {
		return r, fmt.Errorf("no paired ratio for %s: an arm is empty or its %s is zero", m, m)
	}
	if p.TooShort() && p.Sessions {
		return r, fmt.Errorf("%d session pairs: a paired interval over sessions needs at least %d", p.Units, stats.MinSessions)
	}
	if p.TooShort() {
		why := fmt.Sprintf("units of %d rounds", p.Len)
		switch {
		case p.TailLen >= p.AutoLen && p.TailLen > 1:
			why += fmt.Sprintf(" (for %d expected samples beyond %s per arm and unit)", stats.MinExceedances, m)
		case p.AutoLen > 1:
			why += " (the paired differences are autocorrelated)"
		}
		return r, fmt.Errorf("%d rounds make %d %s; a paired interval needs at least %d units: %d rounds, or longer rounds",
			p.Rounds, p.Units, why, stats.MinBlocks, p.NeedRounds())
	}
	return r, nil
}
