package harness

import (
	"math"
	"sync/atomic"
	"testing"

	"github.com/tailgate-ci/tailgate/baseline/result"
)

// deviceBackend is a countBackend that reports a device time per run, none on every tenth run
// (all of them class b, the even runs).
type deviceBackend struct{ countBackend }

func (b *deviceBackend) DeviceNs() int64 {
	if b.total%10 == 0 {
		return 0
	}
	return 1000 + b.total%7
}

// TestDeviceTimes: a DeviceTimer's durations go to a second histogram per class, written beside
// the end-to-end one with its device tag, and recording them allocates nothing.
func TestDeviceTimes(t *testing.T) {
	b := &deviceBackend{countBackend{classes: []string{"a", "b"}, runs: make([]int64, 2)}}
	sink := &memSink{}
	rep, err := Run(b, Options{Iterations: 2000, Calibration: -1, Sink: sink})
	if err != nil {
		t.Fatal(err)
	}
	tags := map[string]int64{}
	for _, iv := range sink.ivs {
		tags[iv.Tag] += iv.Hist.TotalCount()
	}
	want := map[string]int64{"a": 1000, "b": 1000, result.DeviceTag("a"): 1000, result.DeviceTag("b"): 800}
	for tag, n := range want {
		if tags[tag] != n {
			t.Errorf("tag %q holds %d samples, want %d (all: %v)", tag, tags[tag], n, tags)
		}
	}
	if rep.Device == nil || rep.Device[1].TotalCount() != 800 || rep.Totals[0].TotalCount() != 1000 {
		t.Errorf("report device totals %v", rep.Device)
	}

	l := &loop{b: b, dev: b, nclass: 2, stop: new(atomic.Bool), highest: result.HighestNs, intervalNs: math.MaxInt64,
		nextSwap: math.MaxInt64, breakAt: math.MaxInt64}
	l.cur = l.newBuffer()
	if a := testing.AllocsPerRun(100, func() { _ = l.run(1000, math.MaxInt64) }); a != 0 {
		t.Fatalf("the loop with device times allocated %.1f times per 1000 samples", a)
	}
}
