// Package execbackend times inference that runs in another process: a long-lived worker
// (HailoRT on an NPU, ONNX Runtime in Node.js or C, a team's own pipeline) that tailgate starts,
// pins, and drives over pipes with the protocol of docs/worker-protocol.md. It owns the
// protocol (the handshake, the binary request and reply), the worker's process (start,
// placement, watchdog, shutdown, stderr tail) and the echo worker that calibrates the
// transport. It does not choose the worker's environment (the caller scrubs it: runner/childenv)
// or write results.
package execbackend

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/tailgate-ci/tailgate/baseline/result"
)

// ProtocolVersion is the version of docs/worker-protocol.md this package speaks.
const ProtocolVersion = 1

// Sizes and bytes of the binary frames (little-endian; docs/worker-protocol.md).
const (
	RequestSize = 8
	ReplySize   = 16
	// MaxErrorLen bounds the message an error reply carries.
	MaxErrorLen = 4096
	// MaxLine bounds the handshake lines.
	MaxLine = 64 << 10
	// MaxClasses bounds a worker's input classes (the class index is one byte).
	MaxClasses = 255

	opRequest = 'R'
	opOK      = 'A'
	opError   = 'E'
)

// Hello is tailgate's handshake line to the worker.
type Hello struct {
	Tailgate int   `json:"tailgate"`
	Seed     int64 `json:"seed"`
}

// Ready is the worker's handshake line: what it runs, on what, and its input classes. A worker
// that cannot start (a missing model, no device) sends Error instead.
type Ready struct {
	Worker  int      `json:"worker"`
	Runtime string   `json:"runtime,omitempty"`
	Version string   `json:"version,omitempty"`
	Device  string   `json:"device,omitempty"`
	Classes []string `json:"classes,omitempty"`
	Error   string   `json:"error,omitempty"`
}

// runtimeName is what a pin can name: `pins: { hailort: "4.20.*" }`.
var runtimeName = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,63}$`)

// ValidRuntime reports whether name can be a worker's runtime (and so a pin's key).
func ValidRuntime(name string) bool { return runtimeName.MatchString(name) }

// ParseReady decodes and checks the worker's ready line strictly: unknown fields, a missing
// runtime, version or device, or a bad class are errors; no classes means one, "default".
func ParseReady(line []byte) (Ready, error) {
	var r Ready
	dec := json.NewDecoder(strings.NewReader(string(line)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return r, fmt.Errorf("ready line %q is not the protocol's JSON object: %w", clip(line), err)
	}
	if dec.More() {
		return r, fmt.Errorf("ready line %q: trailing data after the JSON object", clip(line))
	}
	if r.Worker != ProtocolVersion {
		return r, fmt.Errorf("ready line: worker protocol %d, this tailgate speaks %d", r.Worker, ProtocolVersion)
	}
	if r.Error != "" {
		return r, fmt.Errorf("the worker could not start: %s", r.Error)
	}
	var errs []error
	if !ValidRuntime(r.Runtime) {
		errs = append(errs, fmt.Errorf("runtime %q: want a lower-case name such as hailort or onnxruntime-node", r.Runtime))
	}
	for _, f := range []struct{ name, v string }{{"version", r.Version}, {"device", r.Device}} {
		if f.v == "" || len(f.v) > 128 || strings.ContainsFunc(f.v, func(c rune) bool { return c < ' ' || c == 0x7f }) {
			errs = append(errs, fmt.Errorf("%s %q: want 1 to 128 printable characters", f.name, f.v))
		}
	}
	if len(r.Classes) == 0 {
		r.Classes = []string{"default"}
	}
	if len(r.Classes) > MaxClasses {
		errs = append(errs, fmt.Errorf("%d classes: at most %d", len(r.Classes), MaxClasses))
	}
	seen := map[string]bool{}
	for _, c := range r.Classes {
		switch {
		case c == "" || result.CheckTag(c) != nil:
			errs = append(errs, fmt.Errorf("class %q: want a non-empty name without commas or spaces", c))
		case result.IsDeviceTag(c):
			errs = append(errs, fmt.Errorf("class %q: device is reserved for the device-side histograms", c))
		case seen[c]:
			errs = append(errs, fmt.Errorf("class %q named twice", c))
		}
		seen[c] = true
	}
	if err := errors.Join(errs...); err != nil {
		return r, fmt.Errorf("ready line: %w", err)
	}
	return r, nil
}

// putRequest writes a request frame for class and seq into b.
func putRequest(b *[RequestSize]byte, class int, seq uint32) {
	b[0], b[1] = opRequest, byte(class)
	binary.LittleEndian.PutUint32(b[4:], seq)
}

// reply is a decoded reply frame.
type reply struct {
	op       byte
	class    int
	seq      uint32
	deviceNs int64 // opOK: device-side ns (0: not measured); opError: the message's length
}

func parseReply(b *[ReplySize]byte) reply {
	return reply{op: b[0], class: int(b[1]), seq: binary.LittleEndian.Uint32(b[4:]), deviceNs: int64(binary.LittleEndian.Uint64(b[8:]))}
}

// check reports what is wrong with a reply to request seq of class; cold path.
func (r reply) check(class int, seq uint32, raw *[ReplySize]byte) error {
	switch {
	case r.op != opOK && r.op != opError:
		return fmt.Errorf("garbage reply % x: first byte %q, want 'A' or 'E'", raw[:], r.op)
	case r.class != class || r.seq != seq:
		return fmt.Errorf("garbage reply % x: class %d seq %d, want class %d seq %d", raw[:], r.class, r.seq, class, seq)
	case r.op == opOK && r.deviceNs < 0:
		return fmt.Errorf("garbage reply % x: negative device time %d", raw[:], r.deviceNs)
	case r.op == opError && (r.deviceNs <= 0 || r.deviceNs > MaxErrorLen):
		return fmt.Errorf("garbage reply % x: error message length %d, want 1 to %d", raw[:], r.deviceNs, MaxErrorLen)
	}
	return nil
}

// clip shortens a line for an error message.
func clip(b []byte) string {
	if len(b) > 200 {
		return string(b[:200]) + "…"
	}
	return string(b)
}
