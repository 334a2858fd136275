package harness

import (
	_ "unsafe" // for go:linkname

	"golang.org/x/sys/unix"
)

// nanotime is the runtime's monotonic clock (vDSO clock_gettime(CLOCK_MONOTONIC)). It is used
// instead of time.Now because it reads one clock, not two, and builds no time.Time: the loop
// pays for it twice per sample. The runtime keeps this linkname available on purpose.
//
//go:linkname nanotime runtime.nanotime
func nanotime() int64

// Now returns the monotonic clock the loop uses, in nanoseconds. Backends that spin (the
// synthetic backend) use it so their durations are on the same clock as the samples.
func Now() int64 { return nanotime() }

// ClockReadNs measures the cost of one clock read, in nanoseconds, over n back-to-back reads.
func ClockReadNs(n int) float64 {
	if n <= 0 {
		n = 1
	}
	var sink int64
	t0 := nanotime()
	for i := 0; i < n; i++ {
		sink += nanotime()
	}
	t1 := nanotime()
	_ = sink
	return float64(t1-t0) / float64(n)
}

// TimerResolutionNs is the monotonic clock's resolution as the kernel reports it
// (clock_getres), or, when that call fails, the smallest non-zero step seen between
// consecutive reads (an upper bound that includes the read cost).
func TimerResolutionNs() float64 {
	var ts unix.Timespec
	if err := unix.ClockGetres(unix.CLOCK_MONOTONIC, &ts); err == nil && ts.Nano() > 0 {
		return float64(ts.Nano())
	}
	smallest := int64(1 << 62)
	for i := 0; i < 10000; i++ {
		a := nanotime()
		b := nanotime()
		for b == a {
			b = nanotime()
		}
		if d := b - a; d < smallest {
			smallest = d
		}
	}
	return float64(smallest)
}
