// Package harness runs a workload and times it without becoming the noise: the Backend
// contract every workload implements, the timed loop (double-buffered interval histograms, GC
// off, a locked and pinned timing thread), the writer that appends intervals to latency.hlog,
// and the harness's calibration of its own cost. It does not load models (harness/ortbackend),
// prepare inputs (harness/inputs), fingerprint the host (runner/host) or judge results (gate).
package harness

// Backend is one prepared workload. Everything it needs (session, bound input and output
// tensors, rotating input sets per class) is prepared before timing starts; the timed loop then
// calls Run back to back on the timing goroutine, which is locked to its OS thread and pinned.
//
// Contract for implementers (e.g. harness/ortbackend):
//   - Classes returns the names of the prepared input classes, at least one (e.g. ["default"],
//     or ["zeros", "random", "large", "subnormal"] for adversarial inputs). The loop cycles
//     through class indexes 0..len-1 and records each class into its own tagged histogram when
//     there are several. The slice must not change after the backend is opened.
//   - Run(class) performs one end-to-end inference on the next prepared input set of that class:
//     copy the set into the bound input tensors, run the model, read (touch) the outputs. The
//     whole call is the measured latency. It MUST NOT allocate on the Go heap, take locks,
//     send on channels or do I/O: the harness proves zero allocations with
//     testing.AllocsPerRun. It is only ever called from one goroutine.
//   - Run returns an error only when the inference failed; the loop stops at the first error
//     and reports it (wrapped with the class name).
//   - Close releases everything; it is called once, after the last Run, from any goroutine.
type Backend interface {
	Classes() []string
	Run(class int) error
	Close() error
}

// DeviceTimer is a Backend that also knows how long each inference took on the device by its
// own clock (an out-of-process worker's runtime-side duration). The loop reads DeviceNs after
// every Run, on the timing goroutine and under the same rules as Run (no allocation, no
// locks), and records it into a second histogram per class, written beside the end-to-end one
// with the tag result.DeviceTag(class); 0 means the last inference was not measured.
type DeviceTimer interface {
	DeviceNs() int64
}

// Nop is a backend that does nothing: the loop's own cost (clock reads, record, bookkeeping)
// is what a run over it measures. Calibration and the Go benchmarks use it.
type Nop struct{}

// Classes returns a single "default" class.
func (Nop) Classes() []string { return nopClasses }

// Run does nothing.
func (Nop) Run(int) error { return nil }

// Close does nothing.
func (Nop) Close() error { return nil }

var nopClasses = []string{"default"}
