// Package progress shows a run's progress: a live line redrawn in place on a terminal, one
// plain line per interval otherwise (CI logs), or nothing. It owns only the rendering; the
// numbers come from the harness's per-interval statistics, on the writer goroutine.
package progress

import (
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/tailgate-ci/tailgate/baseline/result"
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
	buf        []byte // the line being written, reused
}

// New returns a printer for a run planned to last duration or iterations (whichever is set;
// both zero means open-ended, so no ETA is shown).
func New(w io.Writer, mode Mode, duration time.Duration, iterations int64) *Printer {
	return &Printer{w: w, mode: mode, duration: duration, iterations: iterations}
}

// Interval renders one finished interval. It runs on the harness's writer goroutine while the
// GC is off, so it formats into the printer's own buffer and allocates nothing once that
// buffer has grown to a line's length (a 48-hour run at 100 ms intervals prints 1.7 million
// lines: a few hundred bytes of garbage each would be hundreds of megabytes resident).
func (p *Printer) Interval(st harness.IntervalStats) {
	if p.mode == Quiet {
		return
	}
	p.buf = p.buf[:0]
	if p.mode == Live {
		p.buf = append(p.buf, "\r\x1b[K"...)
	}
	p.buf = AppendLine(p.buf, st, p.eta(st))
	if p.mode == Live {
		p.drawn = true
	} else {
		p.buf = append(p.buf, '\n')
	}
	_, _ = p.w.Write(p.buf)
}

// Schedule is an interleaved A/B run's plan, for its progress: Sessions of Rounds rounds, each
// running both arms for Round.
type Schedule struct {
	Sessions, Rounds int
	Round            time.Duration
}

// Round renders one finished round of session s (from 0) of an interleaved A/B run planned as
// sc: its place in the schedule, the order the arms ran in, each arm's p50 and samples, and the
// time left at two arms of sc.Round per round still to run.
func (p *Printer) Round(sc Schedule, s int, st harness.RoundStats) {
	if p.mode == Quiet {
		return
	}
	p.buf = p.buf[:0]
	if p.mode == Live {
		p.buf = append(p.buf, "\r\x1b[K"...)
	}
	if sc.Sessions > 1 {
		p.buf = append(p.buf, "session "...)
		p.buf = strconv.AppendInt(p.buf, int64(s)+1, 10)
		p.buf = append(p.buf, '/')
		p.buf = strconv.AppendInt(p.buf, int64(sc.Sessions), 10)
		p.buf = append(p.buf, "  "...)
	}
	p.buf = append(p.buf, "round "...)
	p.buf = strconv.AppendInt(p.buf, int64(st.Index)+1, 10)
	p.buf = append(p.buf, '/')
	p.buf = strconv.AppendInt(p.buf, int64(sc.Rounds), 10)
	p.buf = append(p.buf, ' ')
	p.buf = append(p.buf, st.Order...)
	p.buf = append(p.buf, "  eta "...)
	left := (sc.Sessions-s)*sc.Rounds - st.Index - 1
	p.buf = appendDuration(p.buf, round(time.Duration(2*left)*sc.Round))
	for i, arm := range result.ArmNames {
		p.buf = append(p.buf, "  "...)
		p.buf = append(p.buf, arm...)
		p.buf = append(p.buf, " p50 "...)
		p.buf = AppendNs(p.buf, st.P50[i])
		p.buf = append(p.buf, " ("...)
		p.buf = strconv.AppendInt(p.buf, st.Samples[i], 10)
		p.buf = append(p.buf, ')')
	}
	if p.mode == Live {
		p.drawn = true
	} else {
		p.buf = append(p.buf, '\n')
	}
	_, _ = p.w.Write(p.buf)
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
	return string(AppendLine(nil, st, eta))
}

// AppendLine appends Format's line to b without allocating beyond b's growth.
func AppendLine(b []byte, st harness.IntervalStats, eta time.Duration) []byte {
	b = append(b, "interval "...)
	b = strconv.AppendInt(b, int64(st.Index)+1, 10)
	b = append(b, "  elapsed "...)
	b = appendDuration(b, round(st.Elapsed))
	if eta >= 0 {
		b = append(b, "  eta "...)
		b = appendDuration(b, round(eta))
	}
	b = append(b, "  samples "...)
	b = strconv.AppendInt(b, st.Total, 10)
	b = append(b, " (+"...)
	b = strconv.AppendInt(b, st.Samples, 10)
	b = append(b, ')')
	if st.Samples > 0 {
		b = append(b, "  p50 "...)
		b = AppendNs(b, st.P50)
		b = append(b, "  p99 "...)
		b = AppendNs(b, st.P99)
		b = append(b, "  max "...)
		b = AppendNs(b, st.Max)
	}
	if st.GCCycles > 0 {
		b = append(b, "  GC "...)
		b = strconv.AppendUint(b, st.GCCycles, 10)
		b = append(b, '!')
	}
	return b
}

func round(d time.Duration) time.Duration {
	if d > time.Minute {
		return d.Round(time.Second)
	}
	return d.Round(100 * time.Millisecond)
}

// Ns renders a latency in nanoseconds with three significant digits and a unit.
func Ns(v int64) string { return string(AppendNs(nil, v)) }

// AppendNs appends Ns(v) to b.
func AppendNs(b []byte, v int64) []byte {
	f := float64(v)
	switch {
	case f >= 1e9:
		return append(strconv.AppendFloat(b, f/1e9, 'g', 3, 64), 's')
	case f >= 1e6:
		return append(strconv.AppendFloat(b, f/1e6, 'g', 3, 64), "ms"...)
	case f >= 1e3:
		return append(strconv.AppendFloat(b, f/1e3, 'g', 3, 64), "µs"...)
	}
	return append(strconv.AppendInt(b, v, 10), "ns"...)
}

// appendDuration appends d as time.Duration.String formats it (which allocates its result).
func appendDuration(b []byte, d time.Duration) []byte {
	// The algorithm of time.Duration.String, writing into a stack buffer.
	var buf [32]byte
	w := len(buf)
	u := uint64(d)
	neg := d < 0
	if neg {
		u = -u
	}
	if u < uint64(time.Second) {
		var prec int
		w--
		buf[w] = 's'
		w--
		switch {
		case u == 0:
			return append(b, "0s"...)
		case u < uint64(time.Microsecond):
			prec = 0
			buf[w] = 'n'
		case u < uint64(time.Millisecond):
			prec = 3
			w--
			copy(buf[w:], "µ")
		default:
			prec = 6
			buf[w] = 'm'
		}
		w, u = fmtFrac(buf[:w], u, prec)
		w = fmtInt(buf[:w], u)
	} else {
		w--
		buf[w] = 's'
		w, u = fmtFrac(buf[:w], u, 9)
		w = fmtInt(buf[:w], u%60)
		u /= 60
		if u > 0 {
			w--
			buf[w] = 'm'
			w = fmtInt(buf[:w], u%60)
			u /= 60
			if u > 0 {
				w--
				buf[w] = 'h'
				w = fmtInt(buf[:w], u)
			}
		}
	}
	if neg {
		w--
		buf[w] = '-'
	}
	return append(b, buf[w:]...)
}

// fmtFrac and fmtInt are time's own helpers for Duration.String.
func fmtFrac(buf []byte, v uint64, prec int) (nw int, nv uint64) {
	w := len(buf)
	print := false
	for i := 0; i < prec; i++ {
		digit := v % 10
		print = print || digit != 0
		if print {
			w--
			buf[w] = byte(digit) + '0'
		}
		v /= 10
	}
	if print {
		w--
		buf[w] = '.'
	}
	return w, v
}

func fmtInt(buf []byte, v uint64) int {
	w := len(buf)
	if v == 0 {
		w--
		buf[w] = '0'
	} else {
		for v > 0 {
			w--
			buf[w] = byte(v%10) + '0'
			v /= 10
		}
	}
	return w
}
