package importer

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/tailgate-ci/tailgate/baseline/result"
)

// Unit is the unit of an input's latency values.
type Unit string

// The units an input's values may be in.
const (
	Nanoseconds  Unit = "ns"
	Microseconds Unit = "us"
	Milliseconds Unit = "ms"
	Seconds      Unit = "s"
)

// ParseUnit reads a unit name; "µs" is accepted for us. The empty string is the empty Unit
// (none given).
func ParseUnit(s string) (Unit, error) {
	switch s {
	case "":
		return "", nil
	case "ns", "us", "ms", "s":
		return Unit(s), nil
	case "µs", "μs":
		return Microseconds, nil
	}
	return "", fmt.Errorf("unknown unit %q (want ns, us, ms or s)", s)
}

// nanos returns how many nanoseconds one u is.
func (u Unit) nanos() int64 {
	switch u {
	case Microseconds:
		return 1e3
	case Milliseconds:
		return 1e6
	case Seconds:
		return 1e9
	}
	return 1
}

// errRange is wrapped by the errors of values beyond the histogram's range.
var errRange = fmt.Errorf("beyond tailgate's histogram range of %v", time.Duration(result.HighestNs))

// toNanos converts v (≥ 0, finite) in unit u to whole nanoseconds, refusing values past the
// histogram's range.
func toNanos(v float64, u Unit) (int64, error) {
	ns := math.Round(v * float64(u.nanos()))
	if ns > float64(result.HighestNs) {
		return 0, fmt.Errorf("%s %s is %w", strconv.FormatFloat(v, 'g', -1, 64), u, errRange)
	}
	return int64(ns), nil
}

// splitValue splits a latency value into its number and unit suffix ("12.5ms" → 12.5, "ms").
// The number is a plain decimal (digits, an optional fraction, an optional exponent): signs
// other than a leading minus, hexadecimal, NaN, Inf and digit separators are refused, as is a
// negative value.
func splitValue(s string) (float64, string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, "", errors.New("empty value")
	}
	if s[0] == '-' {
		return 0, "", fmt.Errorf("negative value %q", s)
	}
	n := numberLen(s)
	if n == 0 {
		return 0, "", fmt.Errorf("%q is not a number", s)
	}
	v, err := strconv.ParseFloat(s[:n], 64)
	if err != nil || math.IsInf(v, 0) {
		return 0, "", fmt.Errorf("%q is not a finite number", s[:n])
	}
	suffix := strings.TrimSpace(s[n:])
	if suffix != "" {
		u, err := ParseUnit(suffix)
		if err != nil {
			return 0, "", fmt.Errorf("value %q: %w", s, err)
		}
		suffix = string(u)
	}
	return v, suffix, nil
}

// numberLen returns the length of the decimal number s starts with, 0 when it starts with
// none: digits with an optional fraction, then an optional exponent.
func numberLen(s string) int {
	i, digits := 0, 0
	for i < len(s) && isDigit(s[i]) {
		i, digits = i+1, digits+1
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && isDigit(s[i]) {
			i, digits = i+1, digits+1
		}
	}
	if digits == 0 {
		return 0
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		k := j
		for k < len(s) && isDigit(s[k]) {
			k++
		}
		if k > j {
			i = k
		}
	}
	return i
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// units checks that every value of one input is in one unit: all carry the same suffix, or
// none does and the flag gives it. It remembers the first value's line for its errors.
type units struct {
	flag      Unit   // --unit, "" when not given
	suffix    string // the first value's suffix
	firstLine int    // 0 until a value was seen
}

// unit returns the unit of a value with suffix at line, or why it cannot be trusted.
func (u *units) unit(suffix string, line int) (Unit, error) {
	if u.firstLine == 0 {
		u.firstLine, u.suffix = line, suffix
	}
	switch {
	case suffix != u.suffix:
		return "", fmt.Errorf("mixed units: this value is in %s, the one on line %d in %s", unitName(suffix), u.firstLine, unitName(u.suffix))
	case suffix == "" && u.flag == "":
		return "", errors.New("the value has no unit suffix and --unit is not given (tailgate does not guess: ns, us, ms or s)")
	case suffix != "" && u.flag != "" && Unit(suffix) != u.flag:
		return "", fmt.Errorf("the value's unit %s disagrees with --unit %s", suffix, u.flag)
	case suffix != "":
		return Unit(suffix), nil
	}
	return u.flag, nil
}

// used returns the unit the values were in, once one was seen.
func (u *units) used() Unit {
	if u.suffix != "" {
		return Unit(u.suffix)
	}
	return u.flag
}

func unitName(suffix string) string {
	if suffix == "" {
		return "no unit"
	}
	return suffix
}

// parseLatency reads one latency value (a number with an optional unit suffix) into
// nanoseconds.
func (u *units) parseLatency(s string, line int) (int64, error) {
	v, suffix, err := splitValue(s)
	if err != nil {
		return 0, err
	}
	unit, err := u.unit(suffix, line)
	if err != nil {
		return 0, err
	}
	return toNanos(v, unit)
}
