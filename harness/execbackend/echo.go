package execbackend

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"

	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/harness"
	"github.com/tailgate-ci/tailgate/harness/sched"
)

// EchoRuntime is the runtime the echo worker names.
const EchoRuntime = "echo"

// Echo is the echo worker (`tailgate worker echo`): it speaks the protocol on the file
// descriptors in and out and answers every request at once, measuring nothing. Timing it is
// timing the transport. It returns nil when in closes between requests.
func Echo(in, out int) error {
	var line []byte
	var c [1]byte
	for {
		if err := readFull(in, c[:]); err != nil {
			return fmt.Errorf("echo worker: reading the hello: %w", err)
		}
		if c[0] == '\n' {
			break
		}
		if line = append(line, c[0]); len(line) > MaxLine {
			return errors.New("echo worker: hello line too long")
		}
	}
	var h Hello
	if err := json.Unmarshal(line, &h); err != nil || h.Tailgate != ProtocolVersion {
		return fmt.Errorf("echo worker: hello %q is not protocol %d", clip(line), ProtocolVersion)
	}
	ready, _ := json.Marshal(Ready{Worker: ProtocolVersion, Runtime: EchoRuntime, Version: fmt.Sprint(ProtocolVersion), Device: "pipe"})
	if err := writeFull(out, append(ready, '\n')); err != nil {
		return err
	}
	var req [RequestSize]byte
	var rep [ReplySize]byte
	rep[0] = opOK
	for {
		if err := readFull(in, req[:]); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		if req[0] != opRequest {
			return fmt.Errorf("echo worker: garbage request % x", req[:])
		}
		copy(rep[1:8], req[1:8])
		if err := writeFull(out, rep[:]); err != nil {
			return err
		}
	}
}

// Transport is the measured cost of the protocol's round trip.
type Transport struct {
	P50Ns, P99Ns int64
	Samples      int64
}

// CalibrateTransport starts the echo worker echo (its argv) placed as o places a worker, and
// times n round trips to it from a thread pinned to o's first CPU with o's scheduling class:
// what the pipes, the two context switches and the protocol add to every sample of a worker run
// the same way.
func CalibrateTransport(o Options, echo []string, n int) (Transport, error) {
	o.Command = echo
	b, err := Open(o)
	if err != nil {
		return Transport{}, fmt.Errorf("transport calibration: %w", err)
	}
	defer b.Close()
	if r := b.Ready(); r.Runtime != EchoRuntime {
		return Transport{}, fmt.Errorf("transport calibration: %q is not the echo worker (it names runtime %q)", echo[0], r.Runtime)
	}
	h := result.NewHistogram()
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread is pinned and scheduled for good
		var first []int
		if len(o.CPUs) > 0 {
			first = o.CPUs[:1]
		}
		if err := sched.Pin(first); err != nil {
			errc <- err
			return
		}
		if err := sched.Apply(o.Sched); err != nil {
			errc <- err
			return
		}
		for i := 0; i < n; i++ {
			t0 := harness.Now()
			if err := b.Run(0); err != nil {
				errc <- err
				return
			}
			_ = h.RecordValue(max(harness.Now()-t0, 1))
		}
		errc <- nil
	}()
	if err := <-errc; err != nil {
		return Transport{}, fmt.Errorf("transport calibration: %w", err)
	}
	return Transport{P50Ns: h.ValueAtQuantile(50), P99Ns: h.ValueAtQuantile(99), Samples: h.TotalCount()}, b.Close()
}
