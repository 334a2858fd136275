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
	// Pilot is the claim's plan in a pilot run's conditions (ScaleByPilot): MLPerf's count
	// scaled by the variance inflation of the pilot's tail, and the intervals its
	// autocorrelation needs; nil without a pilot. PilotNote says why a pilot did not scale it.
	Pilot     *stats.Plan
	PilotNote string
	pilotRate float64 // samples per second of the pilot
	pilotIv   float64 // seconds per interval of the pilot
}

// ScaleByPilot reads the pilot result in dir and scales the plan to its conditions. A pilot
// whose log cannot be read leaves the plan unscaled with a note: the rate from its meta.json
// still holds.
func (p *Plan) ScaleByPilot(dir string) {
	run, err := gate.LoadRun(dir)
	if err != nil {
		p.PilotNote = err.Error()
		return
	}
	sp, ok := stats.PlanFromPilot(run.Sample, p.Percentile/100, p.Confidence, p.Exceedances)
	if !ok {
		p.PilotNote = "the pilot has no samples"
		return
	}
	p.Pilot = &sp
	if iv := run.Sample.Intervals(); run.Span > 0 && iv > 0 && run.Sample.Count() > 0 {
		p.pilotRate = float64(run.Sample.Count()) / run.Span.Seconds()
		p.pilotIv = run.Span.Seconds() / float64(iv)
	}
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
	p.writePilot(&b)
	_, err := io.WriteString(w, b.String())
	return err
}

// writePilot writes the plan in the pilot's conditions, if there was a pilot.
func (p Plan) writePilot(b *strings.Builder) {
	if p.PilotNote != "" {
		fmt.Fprintf(b, "pilot       not scaled for autocorrelation: %s\n", p.PilotNote)
	}
	sp := p.Pilot
	if sp == nil {
		return
	}
	fmt.Fprintf(b, "inflation   %.3g (variance of the share beyond the pilot's p%s over the binomial, from %d exceedances)\n",
		sp.VIF, strconv.FormatFloat(p.Percentile, 'f', -1, 64), sp.Exceedances)
	fmt.Fprintf(b, "samples     %s in the pilot's conditions\n", gate.GroupDigits(sp.Samples))
	fmt.Fprintf(b, "intervals   ≥ %s (%d blocks of %d for its autocorrelation)\n", gate.GroupDigits(int64(sp.Intervals)), stats.MinBlocks, sp.BlockLen)
	if p.pilotRate > 0 {
		secs := max(float64(sp.Samples)/p.pilotRate, float64(sp.Intervals)*p.pilotIv)
		fmt.Fprintf(b, "duration    %s of measurement, after warm-up, in the pilot's conditions\n", FormatSeconds(secs))
	}
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
