package telemetry

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"
)

// TestAppendJSONMatchesMarshal checks the hand-written encoder byte for byte against
// encoding/json on seeded random lines: missing readings, CPU keys whose string order differs
// from their numeric order, and floats in every formatting range.
func TestAppendJSONMatchesMarshal(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 26))
	floats := []float64{0, 1e-7, 2.5e-6, 0.52, 45.312, 1e20, 1e21, 3.4e25, math.MaxFloat64, -1e-9}
	for n := range 500 {
		cpus := r.Perm(12)[:r.IntN(5)]
		keys := make([]string, len(cpus))
		for i, c := range cpus {
			keys[i] = strconv.Itoa(c)
		}
		order := make([]int, len(cpus))
		for i := range order {
			order[i] = i
		}
		// Sorted by key the way New does it.
		for i := range order {
			for j := i + 1; j < len(order); j++ {
				if keys[order[j]] < keys[order[i]] {
					order[i], order[j] = order[j], order[i]
				}
			}
		}
		pick := func() float64 {
			if r.IntN(2) == 0 {
				return floats[r.IntN(len(floats))]
			}
			return r.NormFloat64() * math.Pow(10, float64(r.IntN(30)-10))
		}
		l := line{
			end:      time.Date(2026, 11, 26, 1, 0, n, r.IntN(1e9), time.UTC),
			interval: n, temp: pick(), tempOK: r.IntN(3) > 0,
			freq: make([]int64, len(cpus)), freqOK: make([]bool, len(cpus)), irq: make([]int64, len(cpus)),
			thr: r.Uint32(), thrOK: r.IntN(2) == 0, irqOK: r.IntN(3) > 0,
			vol: r.Int64(), invol: -r.Int64N(5), min: r.Int64N(100), maj: 0,
			load1: pick(), gc: r.Uint32(), rss: r.Int64(),
		}
		for i := range cpus {
			l.freq[i], l.freqOK[i], l.irq[i] = r.Int64N(3e6), r.IntN(4) > 0, r.Int64N(1e5)-10
		}
		want, err := json.Marshal(l.telemetry(keys))
		if err != nil {
			t.Fatal(err)
		}
		got := l.appendJSON(nil, keys, order)
		if !bytes.Equal(got, append(want, '\n')) {
			t.Fatalf("line %d:\n got %s\nwant %s", n, got, want)
		}
	}
}
