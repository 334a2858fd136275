package gate

import (
	"fmt"
	"math"
	"runtime"
	"strings"
	"sync"

	"github.com/tailgate-ci/tailgate/gate/stats"
)

// comparison is one Compare call in progress: the rules, both sides and the per-rule state
// that Holm's correction needs once every rule has its p-value.
type comparison struct {
	opts       Options
	rules      []Rule
	base, cand *side
	ratios     []stats.Ratio // per relative rule with a ratio: its interval and p-values
	// short notes, per relative rule, a run shorter than its statistic's autocorrelation needs.
	short []string
}

func newRow(r Rule) RuleResult {
	row := RuleResult{
		Rule: r.String(), Source: r.Source.String(), Metric: r.Metric.String(), Unit: "ns",
		Confidence: r.Confidence, Warn: r.Warn, Limit: r.Limit.Text, LimitValue: r.Limit.Value,
		Strict: r.Strict,
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
			if c.short[i] != "" {
				rows[i].Reason += " (" + c.short[i] + ")"
			}
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
	sd, ok := c.opts.BetweenRun[row.Metric]
	if !ok {
		sd = DefaultBetweenRunSD
	}
	row.BetweenRunSD = max(sd, 0)
	ratio := compareRatio
	if c.opts.Paired {
		ratio, row.BetweenRunSD = comparePaired, 0
	}
	rt, err := ratio(c.base.run, c.cand.run, r.Metric, r.Confidence, c.opts.Seed, row.BetweenRunSD)
	if !math.IsNaN(rt.Point) {
		// A run shorter than its statistic's autocorrelation needs is measured on MinBlocks
		// blocks of n/MinBlocks intervals: dependence longer than that is drift slower than the
		// run can resolve, which the between-run SD covers (as it covers drift between runs).
		// The row says so, and what a run long enough would need.
		for _, sd := range []struct {
			name string
			e    stats.Estimate
			s    *side
		}{{"candidate", rt.Cand, c.cand}, {"baseline", rt.Base, c.base}} {
			if sd.e.Choice.TooShort() {
				c.short[i] = fmt.Sprintf("the %s %s; its blocks are capped at a %d-th of it and the between-run SD covers slower drift",
					sd.name, sd.e.Choice.Reason(sd.e.Intervals), stats.MinBlocks)
				break
			}
		}
	}
	if err != nil {
		row.Verdict, row.Reason = RuleInconclusive, err.Error()
		return false
	}
	row.Ratio, row.RatioLo, row.RatioHi, row.PSlower = ptr(rt.Point), ptr(rt.Lo), ptr(rt.Hi), ptr(rt.PSlower)
	c.ratios[i] = rt
	return true
}

// decideRelative sets the verdict of relative rule i once Holm has set row.Significant.
func (c *comparison) decideRelative(i int, row *RuleResult) {
	r, rt := c.rules[i], c.ratios[i]
	d := decideRatio(r, rt, row.Significant)
	row.Verdict, row.Reason = d.verdict, d.reason
	if d.verdict == RuleInconclusive {
		switch {
		case math.IsNaN(d.scale):
			return
		case math.IsInf(d.scale, 1) && row.BetweenRunSD > 0:
			row.Reason += ": the baseline's interval and the between-run variance alone are too wide for any candidate length; record a longer baseline, or compare interleaved A/B runs, where pairing removes the between-run variance"
			return
		case math.IsInf(d.scale, 1):
			row.Reason += ": the baseline's interval alone is too wide for any candidate length; record a longer baseline"
			return
		}
		n := int64(math.Ceil(d.scale * float64(c.cand.side.Samples)))
		row.Need = c.cand.need(n)
		row.Reason += fmt.Sprintf(": need ≈ %s candidate samples%s, scaled from the observed width", GroupDigits(n), approx(row.Need))
	}
}

// ratioDecision is a relative rule's outcome: its verdict and reason and, when inconclusive,
// by how much the candidate's samples must grow (+Inf when the baseline and between-run parts
// alone are too wide, NaN when no width would do: a strict rule whose R̂ is at the limit).
type ratioDecision struct {
	verdict RuleVerdict
	reason  string
	scale   float64
}

// decideRatio decides a relative rule from its ratio and whether the slowdown is significant
// after Holm; the hypotheses are in the package comment ("How a relative rule decides"):
// regression when significant and material; pass when the interval's upper end is under the
// limit; otherwise inconclusive when the interval is too wide to resolve the limit (or the rule
// is strict), and a pass saying how it stands when it is not.
func decideRatio(r Rule, rt stats.Ratio, significant bool) ratioDecision {
	L := r.Limit.Value
	ratio, lo, hi := rt.Point, rt.Lo, rt.Hi
	change := fmt.Sprintf("%+.1f%% [%+.1f%%, %+.1f%%]", (ratio-1)*100, (lo-1)*100, (hi-1)*100)
	// Material: the point estimate is beyond the limit and the interval excludes a change of
	// half the limit (at the rule's own confidence), so a change of at most L/2 is called a
	// regression at most (1−c)/2 of the time, whatever the point estimate does.
	material := r.Op.violates(ratio, 1+L) && lo > 1+L/2
	switch {
	case material && significant:
		v := RuleRegression
		if r.Warn {
			v = RuleWarn
		}
		return ratioDecision{verdict: v, reason: fmt.Sprintf("%s is beyond %s and significant (p=%.2g)", change, r.Limit.Text, rt.PSlower)}
	case ratio <= 1-L && rt.PFaster <= oneSidedAlpha(r.Confidence):
		// Improvements are material by the same yardstick as regressions: a significant -0.1 %
		// on a 48-hour run is real but not news.
		return ratioDecision{verdict: RuleImproved, reason: fmt.Sprintf("%s: significantly faster", change)}
	case !r.Op.violates(hi, 1+L):
		how := "within " + r.Limit.Text
		switch {
		case significant:
			how = "slower but within " + r.Limit.Text
		case ratio > 1:
			how = "slower, not significant, within " + r.Limit.Text
		}
		return ratioDecision{verdict: RulePass, reason: fmt.Sprintf("%s: %s; the interval rules out %s at %g", change, how, r.Limit.Text, r.Confidence)}
	}
	// The upper end reaches the limit. Widths are on the log scale, where the interval is built.
	width := math.Log(hi / lo)
	theta, reach := math.Log(ratio), math.Log1p(2*L)
	if r.Strict {
		// Equivalence needs hi under 1+L: an upper distance of at most ln(1+L) − θ̂, about half
		// of a width of 2·(ln(1+L) − θ̂).
		scale := math.NaN() // at or beyond the limit: no number of samples shows it under
		if t := 2 * (math.Log1p(L) - theta); t > 0 {
			scale = rt.CandidateScale(t)
		}
		return ratioDecision{verdict: RuleInconclusive, scale: scale,
			reason: fmt.Sprintf("%s: strict, and the interval reaches %s, so it does not show the change is under %s at %g", change, FormatRatio(hi), r.Limit.Text, r.Confidence)}
	}
	// Too wide to resolve the limit: the interval does not rule out twice the limit, or it is
	// wider than the span from 1/(1+2L) to 1+2L, so that it could not have ruled out 2L
	// wherever it sat.
	if wide := 2 * reach; hi >= 1+2*L || width > wide {
		target := wide
		if t := 2 * (reach - theta); theta > 0 && t > 0 && t < target {
			target = t // the upper end, not the width, is what must come in
		}
		why := fmt.Sprintf("it does not rule out %s, twice the limit", FormatRatio(1+2*L))
		if hi < 1+2*L {
			why = fmt.Sprintf("hi/lo is %.3f, more than (1+2×%s)² = %.3f", hi/lo, r.Limit.Text, (1+2*L)*(1+2*L))
		}
		return ratioDecision{verdict: RuleInconclusive, scale: rt.CandidateScale(target),
			reason: fmt.Sprintf("%s is too wide to resolve %s at %g (%s)", change, r.Limit.Text, r.Confidence, why)}
	}
	how := "no slowdown beyond " + r.Limit.Text + " detected"
	switch {
	case significant && r.Op.violates(ratio, 1+L):
		how = fmt.Sprintf("slower, but not shown beyond %s, half the limit (not material)", FormatRatio(1+L/2))
	case significant:
		how = "slower but within " + r.Limit.Text + " (not material)"
	case ratio > 1:
		how = fmt.Sprintf("slower, not significant (p=%.2g)", rt.PSlower)
	}
	return ratioDecision{verdict: RulePass, reason: fmt.Sprintf("%s: %s; the interval is narrow enough to resolve %s", change, how, r.Limit.Text)}
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

// absoluteQuantile decides "p_q op L" from the candidate's q-quantile and its one-sided block
// (Woodruff) bounds at the rule's confidence; see certify.
func (c *comparison) absoluteQuantile(r Rule, row *RuleResult) {
	b := quantileBound(c.cand.run, r.Metric.Q, r.Confidence)
	row.Candidate = ptr(b.Point)
	if c.base != nil && c.base.run.Sample.Count() > 0 {
		row.Baseline = ptr(quantile(c.base.run, r.Metric.Q))
	}
	t := countAbove(c.cand.run, r.Limit.Value, r.Op == Less)
	c.certify(r, row, b, r.Metric.Q, t)
}

// certify decides an absolute claim about the tail of the candidate, "the q-quantile op L" or
// "the share beyond the deadline op L", from b, the statistic with one-sided block bounds at
// the rule's confidence c, and t, the samples beyond the limit (MLPerf's exceedances). The
// hypotheses (docs/comparison.md):
//
//   - pass: the upper bound is within the limit (the claim holds at confidence c, as far as the
//     blocks can tell) and the run reaches MLPerf's early-stopping count for (q, c, t) scaled by
//     the variance inflation the run shows (stats.NeedSamples);
//   - regression: the lower bound is beyond the limit (the claim is false at confidence c);
//   - inconclusive otherwise: the bounds straddle the limit, the run is too short for its
//     autocorrelation (fewer than stats.MinBlocks blocks of the length it needs), or it has
//     fewer samples than the scaled count. Each says what would resolve it.
func (c *comparison) certify(r Rule, row *RuleResult, b stats.TailBound, q float64, t int64) {
	limit := r.Limit.Value
	show := func(x float64) string { return FormatValue(x, row.Unit) }
	what := fmt.Sprintf("%s is %s", row.Metric, show(b.Point))
	if r.Op.violates(b.Point, limit) {
		what += fmt.Sprintf(", not %s %s", r.Op, r.Limit.Text)
	}
	if b.Blocks.TooShort() {
		// Too few blocks to estimate the variance inflation either: the samples needed are at
		// least MLPerf's count for independent samples.
		row.Need = c.cand.needIntervals(b.Blocks.NeedIntervals)
		more := ""
		if mlperf := requiredSamples(q, r.Confidence, t); mlperf > c.cand.side.Samples {
			nd := c.cand.need(mlperf)
			row.Need.Samples, row.Need.Duration = mlperf, max(row.Need.Duration, nd.Duration)
			more = fmt.Sprintf(", and at least %s samples (MLPerf's count for independent samples)", GroupDigits(mlperf))
		}
		row.Verdict = RuleInconclusive
		row.Reason = fmt.Sprintf("%s, but the %s%s: no bound at %g%s", what, b.Blocks.Reason(b.Intervals), more, r.Confidence, approx(row.Need))
		return
	}
	row.CandidateLo, row.CandidateHi = ptr(b.Lo), ptr(b.Hi)
	bounds := fmt.Sprintf("one-sided %g bounds [%s, %s] on %d blocks of %d intervals", r.Confidence, show(b.Lo), show(b.Hi), b.Blocks.Blocks, b.Blocks.Len)
	switch {
	case r.Op.violates(b.Lo, limit):
		row.Verdict = RuleRegression
		if r.Warn {
			row.Verdict = RuleWarn
		}
		row.Reason = fmt.Sprintf("%s (%s): beyond %s at %g", what, bounds, r.Limit.Text, r.Confidence)
		return
	case r.Op.violates(b.Point, limit):
		// Beyond the limit, but not by more than the run's noise: more samples would settle it
		// either way, and how many depends on how far the truth is from the limit.
		row.Verdict = RuleInconclusive
		row.Reason = fmt.Sprintf("%s (%s): the bounds straddle %s, cannot tell at %g", what, bounds, r.Limit.Text, r.Confidence)
		return
	}
	mlperf := requiredSamples(q, r.Confidence, t)
	need := stats.NeedSamples(q, r.Confidence, t, b.VIF)
	if mlperf < 0 || need < 0 {
		row.Verdict = RuleInconclusive
		row.Reason = fmt.Sprintf("no number of samples certifies %s %s %s", row.Metric, r.Op, r.Limit.Text)
		return
	}
	n := c.cand.side.Samples
	if r.Op.violates(b.Hi, limit) && n >= need {
		// MLPerf's count is met but the bound is not: the half-width shrinks as 1/√n, so the
		// samples that bring it inside the limit scale with the square of the ratio.
		need = max(need, int64(math.Ceil(float64(n)*math.Pow((b.Hi-b.Point)/(limit-b.Point), 2))))
	}
	if n < need {
		row.Need = c.cand.need(need)
		if b.VIF > 1 {
			row.Need.VIF = b.VIF
		}
		row.Verdict = RuleInconclusive
		row.Reason = fmt.Sprintf("%s (%s) but %d samples with %d beyond %s cannot certify %s %s at %g: need %s samples%s%s",
			what, bounds, n, t, FormatValue(c.limitNs(r), "ns"), r.Op, r.Limit.Text, r.Confidence, GroupDigits(need), inflation(mlperf, b.VIF), approx(row.Need))
		return
	}
	row.Verdict = RulePass
	row.Reason = fmt.Sprintf("%s (%s), certified %s %s at %g", what, bounds, r.Op, r.Limit.Text, r.Confidence)
}

// limitNs is the value in ns the rule's exceedances are counted beyond: the limit of a quantile
// rule, the deadline of a miss rule.
func (c *comparison) limitNs(r Rule) float64 {
	if r.Metric.Kind == Miss {
		return float64(r.Metric.Deadline)
	}
	return r.Limit.Value
}

// inflation notes the variance inflation a sample count was scaled by, when above 1.
func inflation(mlperf int64, vif float64) string {
	if !(vif > 1) {
		return ""
	}
	return fmt.Sprintf(" (MLPerf's count is %s for independent samples; these show variance inflation %.2g)", GroupDigits(mlperf), vif)
}

// miss is the share of candidate samples beyond the deadline, certified like a quantile: a miss
// share below L is the (1-L)-quantile below the deadline.
func (c *comparison) miss(r Rule, row *RuleResult) {
	d := float64(r.Metric.Deadline)
	b := missBound(c.cand.run, d, r.Confidence)
	share := b.Point
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
	c.certify(r, row, b, 1-r.Limit.Value, countAbove(c.cand.run, d, false))
}

// absoluteMean compares the candidate's mean with its one-sided block-bootstrap bounds at the
// rule's confidence (the two-sided interval at 2c−1) to the limit: pass when the upper bound is
// within it, regression when the lower bound is beyond it, inconclusive in between.
func (c *comparison) absoluteMean(r Rule, row *RuleResult) {
	v := mean(c.cand.run)
	row.Candidate = ptr(v)
	if c.base != nil && c.base.run.Sample.Count() > 0 {
		row.Baseline = ptr(mean(c.base.run))
	}
	lo, hi, err := meanInterval(c.cand.run, 2*r.Confidence-1, c.opts.Seed)
	if err != nil {
		row.Verdict, row.Reason = RuleInconclusive, fmt.Sprintf("mean %s: %v", FormatNs(v), err)
		return
	}
	row.CandidateLo, row.CandidateHi = ptr(lo), ptr(hi)
	bounds := fmt.Sprintf("one-sided %g bounds [%s, %s]", r.Confidence, FormatNs(lo), FormatNs(hi))
	switch {
	case r.Op.violates(lo, r.Limit.Value):
		row.Verdict = RuleRegression
		if r.Warn {
			row.Verdict = RuleWarn
		}
		row.Reason = fmt.Sprintf("mean %s (%s): beyond %s at %g", FormatNs(v), bounds, r.Limit.Text, r.Confidence)
	case r.Op.violates(hi, r.Limit.Value):
		row.Verdict = RuleInconclusive
		row.Reason = fmt.Sprintf("mean %s (%s): cannot tell whether it is %s %s at %g", FormatNs(v), bounds, r.Op, r.Limit.Text, r.Confidence)
	default:
		row.Verdict = RulePass
		row.Reason = fmt.Sprintf("mean %s (%s) %s %s", FormatNs(v), bounds, r.Op, r.Limit.Text)
	}
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
