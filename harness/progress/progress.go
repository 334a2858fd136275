// Package progress shows a run's progress: a live line redrawn in place on a terminal, one
// plain line per interval otherwise (CI logs), or nothing. It owns only the rendering; the
// numbers come from the harness's per-interval statistics, on the writer goroutine.
package progress

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/tailgate-ci/tailgate/harness"
)

// Mode selects the rendering.
type Mode int

// Renderings.
const (
	Quiet Mode = iota // nothing
	Plain             // one line per interval
	Live              // one line redrawn in place (a terminal)
)

// Printer renders interval statistics. Its methods are called from one goroutine at a time.
type Printer struct {
	w          io.Writer
	mode       Mode
	duration   time.Duration // planned length, 0 if bounded by iterations
	iterations int64         // planned samples, 0 if bounded by time
	drawn      bool
}

// New returns a printer for a run planned to last duration or iterations (whichever is set;
// both zero means open-ended, so no ETA is shown).
func New(w io.Writer, mode Mode, duration time.Duration, iterations int64) *Printer {
	return &Printer{w: w, mode: mode, duration: duration, iterations: iterations}
}

// Interval renders one finished interval.
func (p *Printer) Interval(st harness.IntervalStats) {
	if p.mode == Quiet {
		return
	}
	line := Format(st, p.eta(st))
	if p.mode == Live {
		fmt.Fprintf(p.w, "\r\x1b[K%s", line)
		p.drawn = true
		return
	}
	fmt.Fprintln(p.w, line)
}

// Done ends the live line so later output starts on a fresh line.
func (p *Printer) Done() {
	if p.mode == Live && p.drawn {
		fmt.Fprintln(p.w)
		p.drawn = false
	}
}

// eta estimates the time left from the plan and the rate so far; -1 when unknown.
func (p *Printer) eta(st harness.IntervalStats) time.Duration {
	var left time.Duration = -1
	if p.duration > 0 {
		left = max(p.duration-st.Elapsed, 0)
	}
	if p.iterations > 0 && st.Total > 0 && st.Elapsed > 0 {
		perSample := float64(st.Elapsed) / float64(st.Total)
		byCount := time.Duration(perSample * float64(max(p.iterations-st.Total, 0)))
		if left < 0 || byCount < left {
			left = byCount
		}
	}
	return left
}

// Format renders the statistics of one interval as a single line.
func Format(st harness.IntervalStats, eta time.Duration) string {
	var b strings.Builder
	fmt.Fprintf(&b, "interval %d  elapsed %s", st.Index+1, round(st.Elapsed))
	if eta >= 0 {
		fmt.Fprintf(&b, "  eta %s", round(eta))
	}
	fmt.Fprintf(&b, "  samples %d (+%d)", st.Total, st.Samples)
	if st.Samples > 0 {
		fmt.Fprintf(&b, "  p50 %s  p99 %s  max %s", Ns(st.P50), Ns(st.P99), Ns(st.Max))
	}
	if st.GCCycles > 0 {
		fmt.Fprintf(&b, "  GC %d!", st.GCCycles)
	}
	return b.String()
}

func round(d time.Duration) time.Duration {
	if d > time.Minute {
		return d.Round(time.Second)
	}
	return d.Round(100 * time.Millisecond)
}

// Ns renders a latency in nanoseconds with three significant digits and a unit.
func Ns(v int64) string {
	f := float64(v)
	switch {
	case f >= 1e9:
		return fmt.Sprintf("%.3gs", f/1e9)
	case f >= 1e6:
		return fmt.Sprintf("%.3gms", f/1e6)
	case f >= 1e3:
		return fmt.Sprintf("%.3gµs", f/1e3)
	}
	return fmt.Sprintf("%dns", v)
}
