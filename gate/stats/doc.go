// Package stats owns the statistics behind tailgate's verdicts: point estimates of latency
// quantiles and means from interval histograms, confidence intervals that hold for
// autocorrelated latency series, the ratio of a candidate run to a baseline with its interval
// and one-sided p-values, Holm's correction across a gate's rules, the share of samples above a
// deadline, and MLPerf LoadGen's early-stopping sample sufficiency.
//
// It does not parse thresholds, decide verdicts or render anything (package gate does), read
// result directories (baseline/result), or estimate worst cases by extreme-value theory.
//
// # Method
//
// Point estimates come from the merged histogram exactly as HdrHistogram reports them:
// quantiles are the top of the bucket the quantile falls in (ValueAtQuantile, which takes
// 0–100; Stat.Q here is 0–1), means weigh each bucket by its middle.
//
// Latency samples are not independent: thermal drift, frequency steps and bursts make
// neighbouring intervals alike, so an order-statistic interval that assumes independence is too
// narrow and a gate built on it cries wolf. Everything here rests on blocks of consecutive
// interval histograms, treated as independent of each other, chosen per statistic (ChooseBlocks,
// BlocksFor): Politis and White's automatic length (2004, corrected 2009) for the tested
// statistic's own per-interval series (the share of each interval at or below the quantile, or
// beyond the deadline; the interval's mean), 1 when that series shows no positive dependence and
// at most min(3√n, n/3); doubled once when the block variance at twice the length exceeds 1.5
// times the variance at the length (the stability check); and, when the run cannot hold
// MinBlocks blocks of the result, no interval at all but BlockChoice.NeedIntervals ("run too
// short for its autocorrelation"). Where the run allows, the length is then raised: for an
// absolute bound to ⌈n^(2/3)⌉ (at most n/MinBlocks), because drift that hides in per-interval
// noise still dominates a whole run's variance; for a comparison (RatioBlockLen) only as far as
// RatioBlocks (30) blocks remain, so that a 2-minute run keeps t on 29 degrees of freedom rather
// than 7, and drift slower than the run is left to the between-run SD. AutoBlockLen, the older
// choice from the per-interval medians and 99th percentiles, is what Interval uses when
// Options.BlockLen is 0.
//
// A quantile's interval is Woodruff's: the share of samples at or below the point estimate is
// a ratio of block sums, its standard error se_F comes from the spread of those sums, and the
// interval is the merged histogram's quantiles at q ∓ t·se_F, with Student's t on blocks−1
// degrees of freedom. The block bootstrap of the quantile itself (Method Bootstrap: blocks drawn
// with replacement, the quantile of each resample) is kept for comparison: its spread rests on
// the few order statistics next to the quantile, so its standard error is noisy, while
// Woodruff's rests on the 2·t·se_F·n order statistics between its bounds, needs no resampling
// and is deterministic. Means and miss rates use the block bootstrap (2,000 resamples by default), seeded and
// deterministic.
//
// A bootstrap resample of a quantile costs O(blocks × log window), not a merge of histograms:
// every block is reduced to cumulative counts at the populated buckets of a window that holds
// every resample's quantile (between the smallest and largest per-block quantile, widened by the
// rank rounding), and a resample's quantile is a binary search over weighted sums.
//
// A relative change is the ratio candidate/baseline of the statistic. The runs are treated
// independently and their one-sided limits (Woodruff's for quantiles, each with its own t on
// blocks−1 degrees of freedom, its blocks chosen for the statistic by RatioBlockLen) combine on
// the log scale by MOVER (Zou & Donner 2008), which keeps
// the tail's skew that a symmetric standard error from ln(hi/lo)/(2t) loses; each limit is at
// least one histogram bucket from its point. A between-run SD (Options.BetweenRunSD, estimated
// from a history by BetweenRunSD) adds the variation no within-run interval sees. Ratio gives
// the two-sided interval and one-sided p-values for "no slowdown" and "no speed-up", found by
// inverting the interval so that they always agree with it; Holm controls the family-wise error
// over a gate's rules.
//
// Sample sufficiency follows MLPerf LoadGen's early stopping (RequiredSamples, Sufficient,
// EarlyStopBound): a claim the data cannot carry is reported with the samples it would need.
// MLPerf's count assumes independent samples; NeedSamples scales it by the variance inflation
// a run shows (block variance over binomial variance of the tail share).
//
// Absolute tail claims (QuantileBound, MissBound) use one-sided bounds over blocks chosen per
// statistic (ChooseBlocks, BlocksFor): Politis and White on the statistic's own per-interval
// series, a stability check (variance at 2L against L), and, instead of a silently short
// block, BlockChoice.NeedIntervals when the run cannot hold MinBlocks blocks of the length its
// autocorrelation needs.
package stats
