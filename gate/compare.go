package gate

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/gate/stats"
)

// PWCETFunc bounds the candidate's latency at a per-inference exceedance probability. The WCET
// analysis fills it; until then Options.PWCET is nil and pwcet rules are "unavailable".
type PWCETFunc func(cand *Run, prob, confidence float64) (PWCETEstimate, error)

// PWCETEstimate is a pWCET bound, or why there is none.
type PWCETEstimate struct {
	// Valid is false when a validity test (independence, stationarity, fit) failed; Reason says which.
	Valid   bool
	BoundNs float64
	Reason  string
}

// Options tune a comparison.
type Options struct {
	// IgnorePins compares results whose pinned fingerprints differ (A/B runs: CPU vs NPU, fp32
	// vs int8); the report says so.
	IgnorePins bool
	// Inconclusive is the exit-code policy for an inconclusive gate (default DefaultInconclusive).
	Inconclusive InconclusivePolicy
	// DefaultRules marks rules that came from DefaultRules, for the report.
	DefaultRules bool
	// PWCET evaluates pwcet rules; nil reports them unavailable.
	PWCET PWCETFunc
	// Seed makes the bootstrap deterministic; the same inputs and seed give the same report.
	Seed uint64
	// Tool identifies this tailgate in the report.
	Tool Tool
}

// Compare evaluates rules with cand as the candidate and base as the baseline (nil when there
// is none: absolute rules are still evaluated, relative ones are skipped and the gate is
// incomparable). It returns an error only for misuse (no candidate, no rules); every property
// of the data, bad or good, is a verdict in the report.
func Compare(base, cand *Run, rules []Rule, opts Options) (*Report, error) {
	if cand == nil || cand.Meta == nil || cand.Sample == nil {
		return nil, fmt.Errorf("gate: no candidate result")
	}
	if len(rules) == 0 {
		return nil, fmt.Errorf("gate: no rules to evaluate")
	}
	if opts.Inconclusive == "" {
		opts.Inconclusive = DefaultInconclusive
	}
	c := &comparison{opts: opts, rules: rules, cand: newSide(cand), pFaster: make([]float64, len(rules))}
	rep := &Report{
		Schema: ReportSchema, Suite: cand.Meta.Suite, Policy: opts.Inconclusive,
		DefaultRules: opts.DefaultRules, Tool: opts.Tool, Candidate: c.cand.side,
	}
	rep.Pins.CandidateKey = cand.Meta.Env.Key()
	if base != nil {
		c.base = newSide(base)
		rep.Baseline = &c.base.side
		rep.Pins.BaselineKey = base.Meta.Env.Key()
		rep.Pins.Diffs = result.DiffPinned(base.Meta.Env, cand.Meta.Env)
		if base.Meta.Suite != cand.Meta.Suite {
			rep.Notes = append(rep.Notes, fmt.Sprintf("suites differ: baseline %q, candidate %q", base.Meta.Suite, cand.Meta.Suite))
		}
	}
	if len(rep.Pins.Diffs) > 0 {
		if !opts.IgnorePins {
			fields := make([]string, len(rep.Pins.Diffs))
			for i, d := range rep.Pins.Diffs {
				fields[i] = d.Field
			}
			why := "pinned fingerprint differs: " + strings.Join(fields, ", ")
			for _, r := range rules {
				row := newRow(r)
				row.Verdict, row.Reason = RuleSkipped, why
				rep.Rules = append(rep.Rules, row)
			}
			rep.Notes = append(rep.Notes, why+" (use --ignore-pins for an A/B comparison)")
			return c.finish(rep, VerdictIncomparable), nil
		}
		rep.Pins.Ignored = true
		rep.Notes = append(rep.Notes, "pins ignored (--ignore-pins): this is an A/B comparison across environments")
	}
	rep.Rules = c.evaluate()
	verdict := VerdictPass
	for i, row := range rep.Rules {
		if rules[i].Warn {
			continue
		}
		switch row.Verdict {
		case RuleRegression:
			verdict = Worse(verdict, VerdictRegression)
		case RuleInconclusive, RuleUnavailable:
			verdict = Worse(verdict, VerdictInconclusive)
		case RuleSkipped:
			verdict = Worse(verdict, VerdictIncomparable)
		}
	}
	if c.base == nil && verdict == VerdictIncomparable {
		rep.Notes = append(rep.Notes, "no baseline: relative rules were skipped")
	}
	// An unhealthy run can neither pass nor fail: its numbers say more about the board than
	// about the change. Incomparable stays, because it is about the pairing, not the run.
	var sick []string
	if h := cand.Meta.Health; !h.Healthy && !h.Overridden {
		sick = append(sick, "candidate run unhealthy: "+reasons(h))
	}
	if base != nil {
		if h := base.Meta.Health; !h.Healthy && !h.Overridden {
			sick = append(sick, "baseline run unhealthy: "+reasons(h))
		}
	}
	if len(sick) > 0 {
		rep.Notes = append(rep.Notes, sick...)
		if verdict != VerdictIncomparable {
			verdict = VerdictInconclusive
		}
	}
	return c.finish(rep, verdict), nil
}

func reasons(h result.Health) string {
	if len(h.Reasons) == 0 {
		return "no reason recorded"
	}
	return strings.Join(h.Reasons, "; ")
}

// finish sets the verdict, exit code and headline.
func (c *comparison) finish(rep *Report, v Verdict) *Report {
	rep.Verdict = v
	rep.ExitCode = v.ExitCode(rep.Policy)
	rep.Headline = headline(rep)
	return rep
}

// headline summarises the verdict in one line for a commit status.
func headline(rep *Report) string {
	count := map[RuleVerdict]int{}
	var first *RuleResult
	for i := range rep.Rules {
		row := &rep.Rules[i]
		count[row.Verdict]++
		if first == nil && !row.Warn && (row.Verdict == RuleRegression || (rep.Verdict == VerdictInconclusive && (row.Verdict == RuleInconclusive || row.Verdict == RuleUnavailable))) {
			first = row
		}
	}
	var s string
	switch rep.Verdict {
	case VerdictPass:
		s = fmt.Sprintf("pass: %d/%d rules hold", count[RulePass]+count[RuleImproved], len(rep.Rules))
		if n := count[RuleImproved]; n > 0 {
			s += fmt.Sprintf(", %d improved", n)
		}
		if n := count[RuleWarn]; n > 0 {
			s += fmt.Sprintf(", %d warning", n)
		}
	case VerdictRegression:
		s = fmt.Sprintf("regression: %s", first.Rule)
		if first.Ratio != nil {
			s += fmt.Sprintf(" (%+.1f%%)", (*first.Ratio-1)*100)
		} else if first.Candidate != nil {
			s += " (" + FormatValue(*first.Candidate, first.Unit) + ")"
		}
		if n := count[RuleRegression]; n > 1 {
			s += fmt.Sprintf(" and %d more", n-1)
		}
	case VerdictIncomparable:
		s = "incomparable"
		if len(rep.Notes) > 0 {
			s += ": " + rep.Notes[0]
		}
	case VerdictInconclusive:
		s = "inconclusive"
		sick := ""
		for _, n := range rep.Notes {
			if strings.Contains(n, "unhealthy") && sick == "" {
				sick = n
			}
		}
		switch {
		case sick != "":
			// An unhealthy run's rule verdicts do not count, so the headline must not quote one.
			s += ": " + sick
		case first != nil && first.Verdict != RuleRegression:
			s += ": " + first.Rule + ": " + first.Reason
		case len(rep.Notes) > 0:
			s += ": " + rep.Notes[len(rep.Notes)-1]
		}
		if rep.Policy == InconclusivePass {
			s += " (policy: pass)"
		}
	default:
		s = string(rep.Verdict)
	}
	if rep.Suite != "" {
		s = rep.Suite + " " + s
	}
	if len(s) > HeadlineMax {
		s = truncate(s, HeadlineMax)
	}
	return s
}

// truncate cuts s to at most n bytes on a rune boundary, ending in an ellipsis.
func truncate(s string, n int) string {
	const ell = "…"
	cut := n - len(ell)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + ell
}

// Run is one side of a comparison, prepared for evaluation: its meta and its interval
// histograms as a stats.Sample, from which every estimate comes. NewRun builds it from a result
// read into memory, LoadRun streams a result directory; any other caller sets Dir and Meta and
// calls Add per interval.
type Run struct {
	Dir    string
	Meta   *result.Meta
	Sample *stats.Sample
	// Span is the summed length of the intervals, for the sample rate.
	Span time.Duration
	// Maxima holds, per interval in the order added, what extreme-value analysis needs of it (a
	// few dozen bytes instead of a 270 KB histogram).
	Maxima []IntervalMax
	// Tags are the interval tags in the order first seen; IntervalMax.Tag indexes it.
	Tags []string
	// tails holds, per entry of Tags, that tag's intervals merged (see Tail).
	tails []tagTail
}

// tagTail is one tag's intervals merged: streamed intervals as dense counts by bucket index (an
// addition per bucket, where recording into a histogram would add a quarter second to reading a
// 48-hour log), intervals added as histograms merged into one.
type tagTail struct {
	lowest, highest, sigFigs int64
	counts                   []int64
	hist                     *hdrhistogram.Histogram
}

// Tail returns the intervals of tag Tags[i] merged into one new histogram (270 KB, whatever the
// run's length), with the geometry of that tag's first interval: the peaks-over-threshold pWCET
// fits its upper tail.
func (r *Run) Tail(i int) *hdrhistogram.Histogram {
	t := r.tails[i]
	h := hdrhistogram.New(t.lowest, t.highest, int(t.sigFigs))
	if t.hist != nil {
		h.Merge(t.hist)
	}
	b := result.Buckets{Lowest: t.lowest, Highest: t.highest, SigFigs: t.sigFigs}
	for idx, c := range t.counts {
		if c > 0 {
			b.Index, b.Count = append(b.Index, int32(idx)), append(b.Count, c)
		}
	}
	for k, c := range b.Count {
		// Cannot fail: the counts were checked against the geometry as they were added.
		_ = h.RecordValues(b.Value(k), c)
	}
	return h
}

// IntervalMax is one interval reduced to its block maximum: its start, tag, sample count and the
// HdrHistogram bucket its largest value fell in, [MaxLow, Max], with Max as the histogram
// reports it (the top of that bucket). An empty interval has Count 0 and Max 0.
type IntervalMax struct {
	StartMs     int64
	Count       int64
	MaxLow, Max int64
	Tag         int32
}

// NewRun prepares a result read with result.Read.
func NewRun(r *result.Result) (*Run, error) {
	run := &Run{Dir: r.Dir, Meta: r.Meta, Sample: &stats.Sample{}}
	for i, iv := range r.Log.Intervals {
		if err := run.Add(iv); err != nil {
			return nil, fmt.Errorf("result %s: interval %d: %w", r.Dir, i, err)
		}
	}
	return run, nil
}

// LoadRun reads a result directory one interval at a time, keeping only the compact Sample: a
// 48-hour nightly log, gigabytes as dense histograms, fits in tens of megabytes. Each line is
// decoded by result.ScanLogBuckets into reused sparse buckets that go straight into the
// Sample, so no histogram is built per interval (under a second for a 48-hour log). Like
// result.Read it checks the log against meta.json's count.
func LoadRun(dir string) (*Run, error) {
	m, err := result.ReadMeta(dir)
	if err != nil {
		return nil, fmt.Errorf("result %s: %w", dir, err)
	}
	path := filepath.Join(dir, result.LatencyFile)
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("result %s: %w", dir, err)
	}
	defer f.Close()
	run := &Run{Dir: dir, Meta: m, Sample: &stats.Sample{}}
	if _, err := result.ScanLogBuckets(path, f, run.AddBuckets); err != nil {
		return nil, fmt.Errorf("result %s: %w", dir, err)
	}
	if n := run.Sample.Count(); n != m.Counts.Samples {
		return nil, fmt.Errorf("result %s: %s holds %d samples but %s says %d", dir, result.LatencyFile, n, result.MetaFile, m.Counts.Samples)
	}
	return run, nil
}

// Add appends one interval, in time order.
func (r *Run) Add(iv result.Interval) error {
	if err := r.sample().Add(iv.Hist); err != nil {
		return err
	}
	h := iv.Hist
	tag, tail := r.tail(iv.Tag, h.LowestTrackableValue(), h.HighestTrackableValue(), h.SignificantFigures())
	if tail.hist == nil {
		tail.hist = hdrhistogram.New(tail.lowest, tail.highest, int(tail.sigFigs))
	}
	if dropped := tail.hist.Merge(h); dropped != 0 {
		return fmt.Errorf("%d samples above the highest trackable value %d", dropped, tail.highest)
	}
	low, top := MaxBucket(h)
	r.Maxima = append(r.Maxima, IntervalMax{StartMs: iv.Start.UnixMilli(), Count: h.TotalCount(), MaxLow: low, Max: top, Tag: tag})
	r.Span += iv.End.Sub(iv.Start)
	return nil
}

// AddBuckets appends one interval as result.ScanLogBuckets reads it, in time order: the
// streaming path, which never builds a histogram per interval.
func (r *Run) AddBuckets(iv result.IntervalBuckets) error {
	b := iv.Buckets
	if err := r.sample().AddBuckets(b); err != nil {
		return err
	}
	tag, tail := r.tail(iv.Tag, b.Lowest, b.Highest, b.SigFigs)
	if n := len(b.Index); n > 0 && int(b.Index[n-1]) >= len(tail.counts) {
		// The Sample checked the indices against the geometry: this is bounded by it.
		tail.counts = append(tail.counts, make([]int64, int(b.Index[n-1])+1-len(tail.counts))...)
	}
	for i, idx := range b.Index {
		tail.counts[idx] += b.Count[i]
	}
	m := IntervalMax{StartMs: iv.Start.UnixMilli(), Count: b.Total, Max: b.Max(), Tag: tag}
	if n := len(b.Index); n > 0 {
		m.MaxLow = b.Value(n - 1)
	}
	r.Maxima = append(r.Maxima, m)
	r.Span += iv.End.Sub(iv.Start)
	return nil
}

// tail returns the index of tag in r.Tags and its merged intervals, creating both with the given
// geometry (the first interval's of that tag, as a merge of the intervals would have it).
func (r *Run) tail(tag string, lowest, highest, sigFigs int64) (int32, *tagTail) {
	for i, t := range r.Tags {
		if t == tag {
			return int32(i), &r.tails[i]
		}
	}
	r.Tags = append(r.Tags, tag)
	r.tails = append(r.tails, tagTail{lowest: lowest, highest: highest, sigFigs: sigFigs})
	return int32(len(r.Tags) - 1), &r.tails[len(r.tails)-1]
}

// MaxBucket is the value range of the bucket holding h's maximum, as IntervalMax records it.
// Buckets are power-of-two wide and aligned, so the lower end is the maximum with its low bits
// cleared, for the widest alignment HdrHistogram still calls equivalent (the library does not
// export the bucket bounds).
func MaxBucket(h *hdrhistogram.Histogram) (low, top int64) {
	top = h.Max()
	low = top
	for s := int64(2); s > 0 && s <= top; s *= 2 {
		c := top &^ (s - 1)
		if !h.ValuesAreEquivalent(c, top) {
			break
		}
		low = c
	}
	return low, top
}

// sample returns r.Sample, creating it for a Run built field by field.
func (r *Run) sample() *stats.Sample {
	if r.Sample == nil {
		r.Sample = &stats.Sample{}
	}
	return r.Sample
}

// CompareResults prepares two results read into memory and compares them; base may be nil.
func CompareResults(base, cand *result.Result, rules []Rule, opts Options) (*Report, error) {
	var b *Run
	if base != nil {
		var err error
		if b, err = NewRun(base); err != nil {
			return nil, err
		}
	}
	if cand == nil {
		return nil, fmt.Errorf("gate: no candidate result")
	}
	c, err := NewRun(cand)
	if err != nil {
		return nil, err
	}
	return Compare(b, c, rules, opts)
}

// side is one run with its report description.
type side struct {
	run  *Run
	side Side
}

func newSide(r *Run) *side {
	s := &side{run: r}
	m := r.Meta
	rate := 0.0
	if r.Span > 0 {
		rate = float64(r.Sample.Count()) / r.Span.Seconds()
	}
	s.side = Side{
		Dir: r.Dir, Suite: m.Suite, Git: m.Git, Env: m.Env, Start: m.Start, End: m.End,
		Samples: r.Sample.Count(), Intervals: r.Sample.Intervals(), RatePerSec: rate,
		Summary: summarize(r.Sample, m.Summary.StdDev), Calibration: m.Calibration, Health: m.Health, Tool: m.Tool,
	}
	return s
}

// need converts a sample count into a Need with a duration at the side's rate.
func (s *side) need(n int64) *Need {
	nd := &Need{Samples: n}
	if s.side.RatePerSec > 0 {
		nd.Duration = time.Duration(float64(n) / s.side.RatePerSec * float64(time.Second)).Round(time.Second)
	}
	return nd
}

type comparison struct {
	opts       Options
	rules      []Rule
	base, cand *side
	pFaster    []float64 // per rule: one-sided p-value of "not faster" (NaN when not computed)
}

func newRow(r Rule) RuleResult {
	row := RuleResult{
		Rule: r.String(), Source: r.Source.String(), Metric: r.Metric.String(), Unit: "ns",
		Confidence: r.Confidence, Warn: r.Warn, Limit: r.Limit.Text, LimitValue: r.Limit.Value,
	}
	switch r.Limit.Kind {
	case Relative:
		row.LimitKind = "relative"
	case Absolute:
		row.LimitKind = "absolute"
	case Share:
		row.LimitKind, row.Unit = "share", "share"
	}
	return row
}

func ptr(v float64) *float64 { return &v }

// evaluate computes every row. Relative rules are decided after all of them have a p-value,
// because Holm's correction ranks them together.
func (c *comparison) evaluate() []RuleResult {
	rows := make([]RuleResult, len(c.rules))
	hasP := make([]bool, len(c.rules))
	// Rules are independent until Holm: bootstrap them in parallel (Samples and histograms are
	// only read), which halves a nightly gate on the Pi's cores.
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i := range c.rules {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			rows[i], hasP[i] = c.first(i)
		}()
	}
	wg.Wait()
	var family []int // non-warn relative rules with a p-value
	for i, r := range c.rules {
		if hasP[i] && !r.Warn {
			family = append(family, i)
		}
	}
	// Holm across the gate's failing relative rules. Rules may carry different confidences;
	// scaling each p-value by alpha0/alpha_i and running Holm at alpha0 rejects rule i exactly
	// when p_i <= alpha_i/(m-k), the sequentially rejective test at each rule's own level.
	alpha0 := oneSidedAlpha(DefaultConfidence)
	scaled := make([]float64, len(family))
	for k, i := range family {
		scaled[k] = *rows[i].PSlower * alpha0 / oneSidedAlpha(c.rules[i].Confidence)
	}
	sig := holm(scaled, alpha0)
	for k, i := range family {
		rows[i].Significant = sig[k]
	}
	for i, r := range c.rules {
		if r.Limit.Kind == Relative && rows[i].Verdict == "" {
			if r.Warn {
				rows[i].Significant = *rows[i].PSlower <= oneSidedAlpha(r.Confidence)
			}
			c.decideRelative(i, &rows[i])
		}
	}
	return rows
}

// first evaluates rule i as far as it can alone; it reports whether the rule is relative with a
// p-value still to be decided.
func (c *comparison) first(i int) (RuleResult, bool) {
	r := c.rules[i]
	row := newRow(r)
	if c.cand.run.Sample.Count() == 0 {
		row.Verdict, row.Reason = RuleInconclusive, "the candidate has no samples"
		return row, false
	}
	switch {
	case r.Metric.Kind == PWCET:
		c.pwcet(r, &row)
	case r.Limit.Kind == Relative:
		return row, c.relative(i, &row)
	case r.Metric.Kind == Miss:
		c.miss(r, &row)
	case r.Metric.Kind == Max:
		v := float64(c.cand.run.Sample.Max())
		row.Candidate = ptr(v)
		if c.base != nil {
			row.Baseline = ptr(float64(c.base.run.Sample.Max()))
		}
		c.decideAbsolute(r, &row, v, "the observed maximum (one sample; pwcet bounds the worst case)")
	case r.Metric.Kind == Mean:
		c.absoluteMean(r, &row)
	default:
		c.absoluteQuantile(r, &row)
	}
	return row, false
}

// relative fills the estimates of a relative rule and reports whether it has a p-value to be
// decided; otherwise the row's verdict is already set.
func (c *comparison) relative(i int, row *RuleResult) bool {
	r := c.rules[i]
	if c.base == nil {
		row.Verdict, row.Reason = RuleSkipped, "a relative limit needs a baseline"
		return false
	}
	if c.base.run.Sample.Count() == 0 {
		row.Verdict, row.Reason = RuleInconclusive, "the baseline has no samples"
		return false
	}
	if r.Metric.Kind == Quantile {
		row.Baseline = ptr(quantile(c.base.run, r.Metric.Q))
		row.Candidate = ptr(quantile(c.cand.run, r.Metric.Q))
		need := requiredSamples(r.Metric.Q, r.Confidence, 0)
		var short []string
		if n := c.base.side.Samples; n < need {
			short = append(short, fmt.Sprintf("baseline has %d", n))
		}
		if n := c.cand.side.Samples; n < need {
			short = append(short, fmt.Sprintf("candidate has %d", n))
		}
		if len(short) > 0 {
			row.Need = c.cand.need(need)
			row.Verdict = RuleInconclusive
			row.Reason = fmt.Sprintf("need %s samples%s for %s at %g (%s)", GroupDigits(need), approx(row.Need), row.Metric, r.Confidence, strings.Join(short, ", "))
			return false
		}
	} else {
		row.Baseline = ptr(mean(c.base.run))
		row.Candidate = ptr(mean(c.cand.run))
	}
	rt, err := compareRatio(c.base.run, c.cand.run, r.Metric, r.Confidence, c.opts.Seed)
	if err != nil {
		row.Verdict, row.Reason = RuleInconclusive, err.Error()
		return false
	}
	row.Ratio, row.RatioLo, row.RatioHi, row.PSlower = ptr(rt.Point), ptr(rt.Lo), ptr(rt.Hi), ptr(rt.PSlower)
	c.pFaster[i] = rt.PFaster
	return true
}

// decideRelative: a regression must be material (the ratio is beyond the limit) and
// significant (Holm-adjusted one-sided test that the candidate is slower). Material but not
// significant is inconclusive; within the limit is a pass, improved when significantly faster
// by at least the limit.
func (c *comparison) decideRelative(i int, row *RuleResult) {
	r := c.rules[i]
	ratio, limit := *row.Ratio, 1+r.Limit.Value
	change := fmt.Sprintf("%+.1f%% [%+.1f%%, %+.1f%%]", (ratio-1)*100, (*row.RatioLo-1)*100, (*row.RatioHi-1)*100)
	material := r.Op.violates(ratio, limit)
	switch {
	case material && row.Significant:
		row.Verdict = RuleRegression
		if r.Warn {
			row.Verdict = RuleWarn
		}
		row.Reason = fmt.Sprintf("%s is beyond %s and significant (p=%.2g)", change, r.Limit.Text, *row.PSlower)
	case material:
		// Not a regression (it may be noise), but not a pass either: the measured change is
		// beyond the limit, and passing it would ship a slowdown the data could not rule out.
		row.Verdict = RuleInconclusive
		row.Reason = fmt.Sprintf("%s is beyond %s but not significant at %g (p=%.2g): too noisy or too short to tell", change, r.Limit.Text, r.Confidence, *row.PSlower)
	case ratio <= 1-r.Limit.Value && c.pFaster[i] <= oneSidedAlpha(r.Confidence):
		// Improvements are material by the same yardstick as regressions: a significant -0.1 %
		// on a 48-hour run is real but not news.
		row.Verdict = RuleImproved
		row.Reason = fmt.Sprintf("%s: significantly faster", change)
	case row.Significant:
		row.Verdict = RulePass
		row.Reason = fmt.Sprintf("%s: slower but within %s", change, r.Limit.Text)
	default:
		row.Verdict = RulePass
		row.Reason = fmt.Sprintf("%s: within %s", change, r.Limit.Text)
	}
}

// decideAbsolute handles limits the point value alone decides (max, pwcet bounds).
func (c *comparison) decideAbsolute(r Rule, row *RuleResult, v float64, what string) {
	if r.Op.violates(v, r.Limit.Value) {
		row.Verdict = RuleRegression
		if r.Warn {
			row.Verdict = RuleWarn
		}
		row.Reason = fmt.Sprintf("%s %s is not %s %s", what, FormatNs(v), r.Op, r.Limit.Text)
		return
	}
	row.Verdict = RulePass
	row.Reason = fmt.Sprintf("%s %s %s %s", what, FormatNs(v), r.Op, r.Limit.Text)
}

// absoluteQuantile certifies "p_q op L" the MLPerf way: with t samples beyond L among n, the
// claim holds at confidence c when n reaches the early-stopping count for (q, c, t).
func (c *comparison) absoluteQuantile(r Rule, row *RuleResult) {
	v := quantile(c.cand.run, r.Metric.Q)
	row.Candidate = ptr(v)
	if c.base != nil && c.base.run.Sample.Count() > 0 {
		row.Baseline = ptr(quantile(c.base.run, r.Metric.Q))
	}
	c.certify(r, row, v, r.Metric.Q, r.Op == Less)
}

// certify decides a claim that at most a share 1-q of samples lie beyond the rule's limit, where
// v is the candidate's value in the row's unit.
func (c *comparison) certify(r Rule, row *RuleResult, v, q float64, inclusive bool) {
	limit := r.Limit.Value
	bound := limit
	if r.Metric.Kind == Miss {
		bound = float64(r.Metric.Deadline)
	}
	show := func(x float64) string { return FormatValue(x, row.Unit) }
	if r.Op.violates(v, limit) {
		row.Verdict = RuleRegression
		if r.Warn {
			row.Verdict = RuleWarn
		}
		row.Reason = fmt.Sprintf("%s is %s, not %s %s", row.Metric, show(v), r.Op, r.Limit.Text)
		return
	}
	t := countAbove(c.cand.run, bound, inclusive)
	need := requiredSamples(q, r.Confidence, t)
	if need < 0 {
		row.Verdict = RuleInconclusive
		row.Reason = fmt.Sprintf("no number of samples certifies %s %s %s", row.Metric, r.Op, r.Limit.Text)
		return
	}
	if n := c.cand.side.Samples; n < need {
		row.Need = c.cand.need(need)
		row.Verdict = RuleInconclusive
		row.Reason = fmt.Sprintf("%s is %s but %d samples with %d beyond %s cannot certify it at %g: need %s samples%s",
			row.Metric, show(v), n, t, FormatNs(bound), r.Confidence, GroupDigits(need), approx(row.Need))
		return
	}
	row.Verdict = RulePass
	row.Reason = fmt.Sprintf("%s is %s, certified %s %s at %g", row.Metric, show(v), r.Op, r.Limit.Text, r.Confidence)
}

// miss is the share of candidate samples beyond the deadline, certified like a quantile: a miss
// share below L is the (1-L)-quantile below the deadline.
func (c *comparison) miss(r Rule, row *RuleResult) {
	d := float64(r.Metric.Deadline)
	n := c.cand.side.Samples
	share := float64(countAbove(c.cand.run, d, false)) / float64(n)
	row.Candidate = ptr(share)
	if c.base != nil && c.base.side.Samples > 0 {
		row.Baseline = ptr(float64(countAbove(c.base.run, d, false)) / float64(c.base.side.Samples))
	}
	if r.Limit.Value == 0 {
		// "miss(d) < 0%" can never hold; "<= 0%" is the same claim as "max <= d".
		if r.Op == Less || share > 0 {
			row.Verdict, row.Reason = RuleRegression, fmt.Sprintf("miss share is %s, limit %s %s", FormatShare(share), r.Op, r.Limit.Text)
			if r.Warn {
				row.Verdict = RuleWarn
			}
			return
		}
	}
	c.certify(r, row, share, 1-r.Limit.Value, false)
}

// absoluteMean compares the candidate's mean with its bootstrap interval to the limit: it passes
// when the whole interval is inside, fails when the point estimate is not, and is inconclusive
// in between.
func (c *comparison) absoluteMean(r Rule, row *RuleResult) {
	v := mean(c.cand.run)
	row.Candidate = ptr(v)
	if c.base != nil && c.base.run.Sample.Count() > 0 {
		row.Baseline = ptr(mean(c.base.run))
	}
	if r.Op.violates(v, r.Limit.Value) {
		c.decideAbsolute(r, row, v, "mean")
		return
	}
	lo, hi, err := meanInterval(c.cand.run, r.Confidence, c.opts.Seed)
	if err != nil {
		row.Verdict, row.Reason = RuleInconclusive, err.Error()
		return
	}
	row.CandidateLo, row.CandidateHi = ptr(lo), ptr(hi)
	if r.Op.violates(hi, r.Limit.Value) {
		row.Verdict = RuleInconclusive
		row.Reason = fmt.Sprintf("mean %s but its %g interval reaches %s", FormatNs(v), r.Confidence, FormatNs(hi))
		return
	}
	row.Verdict = RulePass
	row.Reason = fmt.Sprintf("mean %s, interval [%s, %s] %s %s", FormatNs(v), FormatNs(lo), FormatNs(hi), r.Op, r.Limit.Text)
}

func (c *comparison) pwcet(r Rule, row *RuleResult) {
	if c.opts.PWCET == nil {
		row.Verdict, row.Reason = RuleUnavailable, "pWCET analysis is not available in this build"
		return
	}
	est, err := c.opts.PWCET(c.cand.run, r.Metric.Prob, r.Confidence)
	switch {
	case err != nil:
		row.Verdict, row.Reason = RuleInconclusive, "pWCET: "+err.Error()
	case !est.Valid:
		row.Verdict, row.Reason = RuleInconclusive, "no pWCET bound: "+est.Reason
	default:
		row.Candidate = ptr(est.BoundNs)
		c.decideAbsolute(r, row, est.BoundNs, "pWCET bound")
	}
}

// approx renders " (≈ 46s at the observed rate)" or nothing when the rate is unknown.
func approx(n *Need) string {
	if n == nil || n.Duration <= 0 {
		return ""
	}
	return " (≈ " + FormatDuration(n.Duration) + " at the observed rate)"
}

// GroupDigits renders n with thousands separators, as sample counts are read: 46050 as
// "46,050".
func GroupDigits(n int64) string {
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	if n < 0 {
		b.WriteByte('-')
		s = s[1:]
	}
	for i, ch := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(ch)
	}
	return b.String()
}
