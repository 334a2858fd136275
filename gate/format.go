package gate

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// FormatNs renders a latency in nanoseconds with three significant figures and the unit that
// keeps the number below 1000: "812ns", "81.2µs", "1.23ms", "2.50s".
func FormatNs(ns float64) string {
	if math.IsNaN(ns) || math.IsInf(ns, 0) {
		return "–"
	}
	if ns < 0 {
		return "-" + FormatNs(-ns)
	}
	v := roundSig(ns, 3)
	units := []struct {
		name  string
		scale float64
	}{{"ns", 1}, {"µs", 1e3}, {"ms", 1e6}, {"s", 1e9}}
	u := units[0]
	for _, cand := range units[1:] {
		if v >= cand.scale {
			u = cand
		}
	}
	if u.name == "ns" {
		return strconv.FormatFloat(v, 'f', 0, 64) + "ns"
	}
	return sig3(v/u.scale) + u.name
}

// sig3 formats x (1 <= x < 1000, already rounded) with three significant figures.
func sig3(x float64) string {
	dec := 0
	switch {
	case x < 10:
		dec = 2
	case x < 100:
		dec = 1
	}
	return strconv.FormatFloat(x, 'f', dec, 64)
}

func roundSig(x float64, n int) float64 {
	if x == 0 {
		return 0
	}
	p := math.Pow(10, float64(n)-math.Ceil(math.Log10(math.Abs(x))))
	return math.Round(x*p) / p
}

// FormatShare renders a fraction as a percentage with up to three significant figures:
// 0.001 → "0.1%", 0.01234 → "1.23%".
func FormatShare(f float64) string {
	if math.IsNaN(f) {
		return "–"
	}
	if f == 0 {
		return "0%"
	}
	return strconv.FormatFloat(roundSig(f*100, 3), 'g', -1, 64) + "%"
}

// FormatRatio renders a ratio as a signed change: 1.052 → "+5.2%", 0.97 → "-3.0%".
func FormatRatio(r float64) string {
	if math.IsNaN(r) || math.IsInf(r, 0) {
		return "–"
	}
	s := strconv.FormatFloat((r-1)*100, 'f', 1, 64)
	if !strings.HasPrefix(s, "-") {
		s = "+" + s
	}
	return s + "%"
}

// FormatValue renders a row value in its unit ("ns" or "share").
func FormatValue(v float64, unit string) string {
	if unit == "share" {
		return FormatShare(v)
	}
	return FormatNs(v)
}

// FormatDuration renders a run length without zero tails: "46s", "12m30s", "6h".
func FormatDuration(d time.Duration) string {
	if d >= time.Minute {
		d = d.Round(time.Second)
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
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
