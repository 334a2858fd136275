package harness

import (
	"os"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

func TestThreadStatsReaderDoesNotAllocate(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	r, err := openThreadStats(unix.Gettid())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	first, err := r.read()
	if err != nil {
		t.Fatal(err)
	}
	// Touch fresh pages and block briefly: both counters must move, so a stale re-read
	// (procfs not regenerating at offset 0) fails here.
	b := make([]byte, 64<<20)
	for i := 0; i < len(b); i += os.Getpagesize() {
		b[i] = 1
	}
	_ = unix.Nanosleep(&unix.Timespec{Nsec: 2e6}, nil)
	second, err := r.read()
	if err != nil {
		t.Fatal(err)
	}
	if second.VolCtxSw <= first.VolCtxSw || second.MinorFaults <= first.MinorFaults {
		t.Fatalf("counters did not move: %+v then %+v", first, second)
	}
	if allocs := testing.AllocsPerRun(20, func() { _, _ = r.read() }); allocs != 0 {
		t.Errorf("read allocates %.1f times, want 0", allocs)
	}
}
