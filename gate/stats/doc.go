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
// narrow and a gate built on it cries wolf. Intervals here come from a non-overlapping block
// bootstrap over the interval histograms: consecutive intervals are merged into blocks, blocks
// are drawn with replacement, and the statistic of each resample gives the percentile interval.
// The block length is chosen from the data by Politis and White's rule (2004, corrected 2009)
// applied to the per-interval medians and 99th percentiles, so that it grows with the
// dependence the run shows. The resampling is seeded and deterministic.
//
// Each resample costs O(blocks × log window), not a merge of histograms: for a quantile, every
// block is reduced to cumulative counts at the populated buckets of a window that provably holds
// every resample's quantile (between the smallest and largest per-block quantile, widened by the
// rank rounding), and a resample's quantile is a binary search over that window of weighted sums.
//
// A relative change is the ratio candidate/baseline of the statistic; the two runs are
// bootstrapped independently and the ratio of the paired resamples gives its interval and the
// one-sided p-values for "no slowdown" and "no speed-up".
package stats
