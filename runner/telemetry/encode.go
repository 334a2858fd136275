package telemetry

import (
	"math"
	"strconv"
	"time"
)

// appendJSON appends the line as encoding/json would marshal its result.Telemetry (same field
// order, omitted empty fields, sorted map keys, number formats) and a newline. keys are the
// measured CPUs' map keys and order their indexes sorted by key.
func (l *line) appendJSON(b []byte, keys []string, order []int) []byte {
	b = append(b, `{"time":"`...)
	b = l.end.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","interval":`...)
	b = strconv.AppendInt(b, int64(l.interval), 10)
	if l.tempOK {
		b = append(b, `,"temp_c":`...)
		b = appendFloat(b, l.temp)
	}
	if anyOK(l.freqOK) {
		b = append(b, `,"freq_khz":{`...)
		sep := false
		for _, i := range order {
			if !l.freqOK[i] {
				continue
			}
			b = appendKey(b, sep, keys[i])
			b = strconv.AppendInt(b, l.freq[i], 10)
			sep = true
		}
		b = append(b, '}')
	}
	if l.thrOK {
		b = append(b, `,"throttled":`...)
		b = strconv.AppendUint(b, uint64(l.thr), 10)
	}
	b = append(b, `,"vol_ctxsw":`...)
	b = strconv.AppendInt(b, l.vol, 10)
	b = append(b, `,"invol_ctxsw":`...)
	b = strconv.AppendInt(b, l.invol, 10)
	b = append(b, `,"minor_faults":`...)
	b = strconv.AppendInt(b, l.min, 10)
	b = append(b, `,"major_faults":`...)
	b = strconv.AppendInt(b, l.maj, 10)
	if l.irqOK && len(order) > 0 {
		b = append(b, `,"irqs":{`...)
		for n, i := range order {
			b = appendKey(b, n > 0, keys[i])
			b = strconv.AppendInt(b, l.irq[i], 10)
		}
		b = append(b, '}')
	}
	b = append(b, `,"load1":`...)
	b = appendFloat(b, l.load1)
	b = append(b, `,"gc_cycles":`...)
	b = strconv.AppendUint(b, uint64(l.gc), 10)
	b = append(b, `,"rss_bytes":`...)
	b = strconv.AppendInt(b, l.rss, 10)
	return append(b, "}\n"...)
}

func anyOK(ok []bool) bool {
	for _, v := range ok {
		if v {
			return true
		}
	}
	return false
}

// appendKey appends a map key; CPU keys are decimal digits, so they need no escaping.
func appendKey(b []byte, sep bool, k string) []byte {
	if sep {
		b = append(b, ',')
	}
	b = append(b, '"')
	b = append(b, k...)
	return append(b, `":`...)
}

// appendFloat formats f as encoding/json does: shortest round-trip digits, plain notation
// between 1e-6 and 1e21, exponent notation outside with a single-digit negative exponent
// unpadded. Readings are never NaN or infinite (they are parsed decimals); json.Marshal would
// refuse those, so they are written as 0 rather than as a line no reader accepts.
func appendFloat(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, '0')
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}
