// Package ortbackend is the ONNX Runtime workload of the harness: it opens a model with
// onnxruntime_go, resolves its inputs against the --input specs, sets the session options that
// matter for timing (intra-op threads and their affinities, spinning, graph optimisation,
// sequential execution, one inter-op thread), binds pre-allocated input and output tensors and
// prepares rotating input sets per class, so that Run copies, runs and reads without a Go
// allocation. It does not load the runtime library (harness/ortlib), generate input data
// (harness/inputs), time anything (harness) or pin the calling thread (harness).
package ortbackend

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"syscall"

	"github.com/tailgate-ci/tailgate/harness/inputs"
	"github.com/tailgate-ci/tailgate/harness/ortlib"
	ort "github.com/yalue/onnxruntime_go"
)

// Backend is an opened model, ready to be timed. It implements harness.Backend.
type Backend struct {
	session *ort.AdvancedSession
	classes []string
	ins     []bound
	outs    []bound
	// next is the rotation counter of each class.
	next []int
	sink byte
	// mapped is the tensor memory to unmap on Close, after the tensors that point into it.
	mapped [][]byte

	opts    Options
	model   []IOInfo
	outputs []IOInfo
	fed     []Fed
	sha     string
}

// bound is one pre-allocated tensor bound to the session. mem is the tensor's own memory,
// which ONNX Runtime reads (inputs) or writes (outputs) in place.
type bound struct {
	name  string
	value ort.Value
	mem   []byte
	// sets[class] are the rotating sets an input copies into mem; nil for outputs.
	sets [][][]byte
}

// Open loads a model and prepares it for timing. ONNX Runtime must already be initialised
// (ortlib.Load). Problems with the inputs come back together as an *InputError that lists the
// model's inputs.
func Open(o Options) (*Backend, error) {
	if probs := o.validate(); len(probs) > 0 {
		return nil, fmt.Errorf("onnx runtime backend: %s", strings.Join(probs, "; "))
	}
	sha, err := ortlib.FileSHA256(o.Model)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", o.Model, err)
	}
	so, err := o.sessionOptions()
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", o.Model, err)
	}
	defer so.Destroy()
	ins, outs, err := describe(o.Model, so)
	if err != nil {
		return nil, err
	}
	plan, err := resolve(o, ins)
	if err != nil {
		return nil, err
	}
	b := &Backend{opts: o, model: ins, outputs: outs, sha: sha}
	ok := false
	defer func() {
		if !ok {
			b.Close()
		}
	}()
	if err := b.prepareInputs(plan); err != nil {
		return nil, fmt.Errorf("model %s: %w", o.Model, err)
	}
	outShapes, err := b.outputShapes(so)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", o.Model, err)
	}
	for i, info := range outs {
		v, mem, err := b.newTensor(info.Type, outShapes[i])
		if err != nil {
			return nil, fmt.Errorf("model %s: output %q: %w", o.Model, info.Name, err)
		}
		b.outs = append(b.outs, bound{name: info.Name, value: v, mem: mem})
	}
	b.session, err = ort.NewAdvancedSession(o.Model, names(b.ins), names(b.outs), values(b.ins), values(b.outs), so)
	if err != nil {
		return nil, fmt.Errorf("model %s: creating the session: %w", o.Model, err)
	}
	// One run per class before timing, so bad data (a token id past the vocabulary, say)
	// fails here with its class rather than in the middle of a soak.
	for c, name := range b.classes {
		if err := b.Run(c); err != nil {
			return nil, fmt.Errorf("model %s: trial run of input class %s: %w", o.Model, name, err)
		}
	}
	clear(b.next)
	ok = true
	return b, nil
}

// Classes returns the input class names: "default", or the adversarial classes.
func (b *Backend) Classes() []string { return b.classes }

// Run copies the next prepared set of the class into every input tensor, runs the session and
// reads the outputs. It allocates nothing on the Go heap: the session's C arrays of names and
// values were built once by NewAdvancedSession.
func (b *Backend) Run(class int) error {
	i := b.next[class]
	b.next[class] = i + 1
	for k := range b.ins {
		sets := b.ins[k].sets[class]
		copy(b.ins[k].mem, sets[i%len(sets)])
	}
	if err := b.session.Run(); err != nil {
		return err
	}
	// Reading a byte of each output is the "consume the result" step of an application; the
	// sink keeps it from being optimised away.
	for k := range b.outs {
		b.sink ^= b.outs[k].mem[0]
	}
	return nil
}

// Close destroys the session and the tensors. It is safe on a partly opened backend.
func (b *Backend) Close() error {
	var errs []error
	if b.session != nil {
		errs = append(errs, b.session.Destroy())
		b.session = nil
	}
	for _, t := range slices.Concat(b.ins, b.outs) {
		if t.value != nil {
			errs = append(errs, t.value.Destroy())
		}
	}
	b.ins, b.outs = nil, nil
	for _, m := range b.mapped {
		errs = append(errs, syscall.Munmap(m))
	}
	b.mapped = nil
	return errors.Join(errs...)
}

// Inputs returns what is fed to each model input, in the model's order, for meta.json.
func (b *Backend) Inputs() []Fed { return b.fed }

// Fed records one model input as it is fed: the caller copies it into its result's metadata
// (the harness does not depend on the result format).
type Fed struct {
	Name  string
	Type  string
	Shape []int64
	Fill  string
}

// ModelSHA256 returns the hex SHA-256 of the model file.
func (b *Backend) ModelSHA256() string { return b.sha }

// ModelInputs returns the model's declared inputs; ModelOutputs its outputs.
func (b *Backend) ModelInputs() []IOInfo { return b.model }

// ModelOutputs returns the model's declared outputs.
func (b *Backend) ModelOutputs() []IOInfo { return b.outputs }

// Settings returns the session settings that were applied.
func (b *Backend) Settings() map[string]string { return b.opts.Settings() }

// Output returns the bytes of the named output tensor as the last Run left them (little-endian,
// row-major), or nil for an unknown name. The slice is the tensor's memory: copy it to keep it.
func (b *Backend) Output(name string) []byte {
	for _, o := range b.outs {
		if o.name == name {
			return o.mem
		}
	}
	return nil
}

// Input returns the bytes of the named input tensor as the last Run fed them, or nil.
func (b *Backend) Input(name string) []byte {
	for _, in := range b.ins {
		if in.name == name {
			return in.mem
		}
	}
	return nil
}

// prepareInputs generates every input's classes, merges the class names and binds one input
// tensor per model input.
func (b *Backend) prepareInputs(plan []planned) error {
	perInput := make([][]inputs.Class, len(plan))
	var errs []error
	for i, p := range plan {
		cs, err := inputs.Prepare(p.info.Name, p.fill, p.info.Type, p.shape, inputs.PrepareOptions{Seed: b.opts.Seed, Sets: b.opts.Sets})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		perInput[i] = cs
		for _, c := range cs {
			if c.Name != inputs.ClassDefault && !slices.Contains(b.classes, c.Name) {
				b.classes = append(b.classes, c.Name)
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if len(b.classes) == 0 {
		b.classes = []string{inputs.ClassDefault}
	}
	b.next = make([]int, len(b.classes))
	for i, p := range plan {
		v, mem, err := b.newTensor(p.info.Type, p.shape)
		if err != nil {
			return fmt.Errorf("input %q: %w", p.info.Name, err)
		}
		in := bound{name: p.info.Name, value: v, mem: mem}
		for _, c := range b.classes {
			in.sets = append(in.sets, pickClass(perInput[i], c))
		}
		b.ins = append(b.ins, in)
		fill := p.fill.String()
		if p.fill.Kind == inputs.FillRandom || p.fill.Kind == inputs.FillAdversarial {
			fill += fmt.Sprintf(" seed=%d", b.opts.Seed)
		}
		b.fed = append(b.fed, Fed{Name: p.info.Name, Type: p.info.Type.String(), Shape: p.shape, Fill: fill})
	}
	return nil
}

// pickClass returns an input's sets for a class of the backend. An input without that class
// (a float input has no "max", an int input no "subnormal", a non-adversarial input only
// "default") feeds its random sets, or its only class.
func pickClass(cs []inputs.Class, name string) [][]byte {
	for _, want := range []string{name, inputs.ClassRandom} {
		for _, c := range cs {
			if c.Name == want {
				return c.Sets
			}
		}
	}
	return cs[0].Sets
}

// outputShapes resolves every output's shape. Fixed shapes come from the model; dynamic ones
// from a dry run of each class on a DynamicAdvancedSession with the prepared inputs, which
// must agree, since outputs are bound once.
func (b *Backend) outputShapes(so *ort.SessionOptions) ([][]int64, error) {
	shapes := make([][]int64, len(b.outputs))
	dynamic := false
	for i, o := range b.outputs {
		shapes[i] = o.Dims
		if slices.ContainsFunc(o.Dims, func(d int64) bool { return d < 0 }) {
			dynamic = true
		}
	}
	if !dynamic {
		return shapes, nil
	}
	ds, err := ort.NewDynamicAdvancedSession(b.opts.Model, names(b.ins), ioNames(b.outputs), so)
	if err != nil {
		return nil, fmt.Errorf("dry-run session for dynamic output shapes: %w", err)
	}
	defer ds.Destroy()
	for c, class := range b.classes {
		for k := range b.ins {
			copy(b.ins[k].mem, b.ins[k].sets[c][0])
		}
		outs := make([]ort.Value, len(b.outputs))
		if err := ds.Run(values(b.ins), outs); err != nil {
			return nil, fmt.Errorf("dry run of input class %s for dynamic output shapes: %w", class, err)
		}
		for i, v := range outs {
			got := []int64(v.GetShape())
			v.Destroy()
			if c == 0 {
				if len(shapes[i]) > 0 && !matches(shapes[i], got) {
					return nil, fmt.Errorf("output %q came out %s; the model declares %s", b.outputs[i].Name, inputs.FormatDims(got), inputs.FormatDims(shapes[i]))
				}
				shapes[i] = got
			} else if !slices.Equal(got, shapes[i]) {
				return nil, fmt.Errorf("output %q is %s for input class %s but %s for %s: its shape depends on the data, and tailgate binds outputs once",
					b.outputs[i].Name, inputs.FormatDims(got), class, inputs.FormatDims(shapes[i]), b.classes[0])
			}
		}
	}
	return shapes, nil
}

// matches reports whether a concrete shape fits a declared one, whose dynamic dims are negative
// (an equal shape matches).
func matches(declared, got []int64) bool {
	if len(declared) != len(got) {
		return false
	}
	for i, d := range declared {
		if d >= 0 && d != got[i] {
			return false
		}
	}
	return true
}

// collect maps a slice; it builds the name and value lists the session constructors take.
func collect[T, U any](xs []T, f func(T) U) []U {
	out := make([]U, len(xs))
	for i, x := range xs {
		out[i] = f(x)
	}
	return out
}

func names(bs []bound) []string       { return collect(bs, func(b bound) string { return b.name }) }
func values(bs []bound) []ort.Value   { return collect(bs, func(b bound) ort.Value { return b.value }) }
func ioNames(infos []IOInfo) []string { return collect(infos, func(i IOInfo) string { return i.Name }) }

// tensorMemory maps n zero bytes outside the Go heap for a tensor. ONNX Runtime keeps the
// pointer between calls, which cgo's rules forbid for Go memory; mapped memory is also
// page-aligned (what vectorised kernels like), never scanned by the garbage collector, and
// locked along with the rest of the process by mlockall. Close unmaps it.
func tensorMemory(n int) ([]byte, error) {
	mem, err := syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return nil, fmt.Errorf("mapping %d bytes of tensor memory: %w", n, err)
	}
	return mem, nil
}

// newTensor creates a tensor of a resolved shape over tailgate-owned memory. Rank-0 tensors
// are onnxruntime_go Scalars, whose memory is reached through scalarBytes.
func (b *Backend) newTensor(t inputs.ElemType, shape []int64) (ort.Value, []byte, error) {
	if !t.Supported() {
		return nil, nil, fmt.Errorf("element type %s is not supported", t)
	}
	if len(shape) == 0 {
		return newScalar(t)
	}
	n, err := inputs.Elements(shape)
	if err != nil {
		return nil, nil, err
	}
	if n == 0 {
		return nil, nil, fmt.Errorf("shape %v has no elements; tailgate cannot bind an empty tensor", shape)
	}
	mem, err := tensorMemory(n * t.Size())
	if err != nil {
		return nil, nil, err
	}
	b.mapped = append(b.mapped, mem)
	v, err := ort.NewCustomDataTensor(ort.NewShape(slices.Clone(shape)...), mem, ort.TensorElementDataType(t))
	if err != nil {
		return nil, nil, err
	}
	return v, mem, nil
}
