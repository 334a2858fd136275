// Package plan sizes a run: the samples a quantile claim needs at a confidence (MLPerf
// LoadGen's early-stopping rule, gate/stats.RequiredSamples) and, from an inference rate, how
// long a run takes to collect them.
package plan

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/gate"
	"github.com/tailgate-ci/tailgate/gate/stats"
)

// Plan is a claim, the samples it needs and, with a rate, how long they take.
type Plan struct {
	Percentile  float64 // of the claim, 0 < P < 100 (99.9 is p99.9)
	Confidence  float64 // 0 < C < 1
	Exceedances int64   // samples allowed above the claimed value
	Samples     int64   // the fewest that certify the claim
	Rate        float64 // samples per second; 0 when not known
	RateFrom    string  // where Rate came from, for the reader
}

// New plans a claim about the percentile-th percentile at confidence with exceedances samples
// above the claimed value; it fails when no sample size certifies it.
func New(percentile, confidence float64, exceedances int64) (Plan, error) {
	p := Plan{Percentile: percentile, Confidence: confidence, Exceedances: exceedances}
	p.Samples = stats.RequiredSamples(percentile/100, confidence, exceedances)
	if p.Samples < 0 {
		return p, fmt.Errorf("no sample size certifies p%v at %v with %d exceedances", percentile, confidence, exceedances)
	}
	return p, nil
}

// Seconds is how long collecting the samples takes at the rate (0 without one).
func (p Plan) Seconds() float64 {
	if !(p.Rate > 0) {
		return 0
	}
	return float64(p.Samples) / p.Rate
}

// WriteText writes the claim, the samples it needs and, with a rate, how long they take.
func (p Plan) WriteText(w io.Writer) error {
	var b strings.Builder
	claim := "p" + strconv.FormatFloat(p.Percentile, 'f', -1, 64)
	fmt.Fprintf(&b, "claim       %s ≤ bound, at confidence %v (MLPerf LoadGen early stopping)\n", claim, p.Confidence)
	if p.Exceedances == 0 {
		fmt.Fprintln(&b, "exceedances 0 (the bound is the run's maximum)")
	} else {
		fmt.Fprintf(&b, "exceedances %d (the bound is the %s-largest sample)\n", p.Exceedances, Ordinal(p.Exceedances+1))
	}
	fmt.Fprintf(&b, "samples     %s\n", gate.GroupDigits(p.Samples))
	if p.Rate > 0 {
		fmt.Fprintf(&b, "rate        %s/s (%s)\n", strconv.FormatFloat(p.Rate, 'f', -1, 64), p.RateFrom)
		fmt.Fprintf(&b, "duration    %s of measurement, after warm-up\n", FormatSeconds(p.Seconds()))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// PilotRate is the sample rate of the pilot result in dir and where it came from. meta.json
// carries the count and the span; the log is not read (a 48-hour pilot's log is large).
func PilotRate(dir string) (rate float64, from string, err error) {
	m, err := result.ReadMeta(dir)
	if err != nil {
		return 0, "", err
	}
	span := m.End.Sub(m.Start)
	if m.Counts.Samples <= 0 || span <= 0 {
		return 0, "", fmt.Errorf("%s: %s has %d samples over %s: no rate to plan with", dir, result.MetaFile, m.Counts.Samples, span)
	}
	return float64(m.Counts.Samples) / span.Seconds(), fmt.Sprintf("pilot %s: %d samples over %s", dir, m.Counts.Samples, span.Round(time.Millisecond)), nil
}

// FormatSeconds renders a duration for a person: "9.2s", "3m4s", "1h17m", "3.17e+04 years".
func FormatSeconds(secs float64) string {
	if secs >= float64(math.MaxInt64)/1e9 {
		return fmt.Sprintf("%.3g years", secs/(365.25*24*3600))
	}
	d := time.Duration(secs * float64(time.Second))
	switch {
	case d < time.Minute:
		return d.Round(100 * time.Millisecond).String()
	case d < time.Hour:
		return d.Round(time.Second).String()
	default:
		return strings.TrimSuffix(d.Round(time.Minute).String(), "0s")
	}
}

// Ordinal writes 1st, 2nd, 3rd, 11th, 21st, 1,001st.
func Ordinal(n int64) string {
	suffix := "th"
	if n%100 < 11 || n%100 > 13 {
		switch n % 10 {
		case 1:
			suffix = "st"
		case 2:
			suffix = "nd"
		case 3:
			suffix = "rd"
		}
	}
	return gate.GroupDigits(n) + suffix
}
