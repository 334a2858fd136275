package ortbackend

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"github.com/tailgate-ci/tailgate/harness"
	"github.com/tailgate-ci/tailgate/harness/inputs"
	"github.com/tailgate-ci/tailgate/harness/ortlib/ortlibtest"
)

var _ harness.Backend = (*Backend)(nil)

// model returns the path of a fixture model and makes sure ONNX Runtime is loaded.
func model(t testing.TB, name string) string {
	t.Helper()
	ortlibtest.Load(t)
	return filepath.Join(ortlibtest.RepoRoot(t), "fixtures", "models", name+".onnx")
}

func specs(t testing.TB, values ...string) []inputs.Spec {
	t.Helper()
	s, err := inputs.ParseSpecs(values)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func open(t testing.TB, o Options) *Backend {
	t.Helper()
	b, err := Open(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Error(err)
		}
	})
	return b
}

// TestAllTypes feeds every numeric element type through alltypes.onnx (Identity per type) with
// adversarial classes and checks each output is byte for byte what was fed, so every type's
// bytes, including subnormals and integer extremes, reach the model unchanged.
func TestAllTypes(t *testing.T) {
	path := model(t, "alltypes")
	ins, _, err := Describe(path)
	if err != nil {
		t.Fatal(err)
	}
	var vals []string
	for _, in := range ins {
		vals = append(vals, in.Name+"=2x3:adversarial")
	}
	b := open(t, Options{Model: path, Inputs: specs(t, vals...), Seed: 7, Sets: 2})
	if want := []string{"zeros", "random", "large", "subnormal", "min", "max"}; !slices.Equal(b.Classes(), want) {
		t.Fatalf("classes %v, want %v", b.Classes(), want)
	}
	seenTypes := map[string]bool{}
	for _, fed := range b.Inputs() {
		seenTypes[fed.Type] = true
		if !slices.Equal(fed.Shape, []int64{2, 3}) || fed.Fill != "adversarial seed=7" {
			t.Errorf("input spec %+v", fed)
		}
	}
	if len(seenTypes) != len(inputs.ElemTypes) {
		t.Errorf("fed types %v, want all %d numeric types", seenTypes, len(inputs.ElemTypes))
	}
	for c, class := range b.Classes() {
		for rep := 0; rep < 3; rep++ {
			if err := b.Run(c); err != nil {
				t.Fatalf("class %s: %v", class, err)
			}
			for _, in := range ins {
				out := "out_" + strings.TrimPrefix(in.Name, "in_")
				if !bytes.Equal(b.Output(out), b.Input(in.Name)) {
					t.Fatalf("class %s run %d: %s = % x, fed % x", class, rep, out, b.Output(out), b.Input(in.Name))
				}
			}
		}
	}
	// The float32 input of the subnormal class really holds subnormals.
	if err := b.Run(slices.Index(b.Classes(), "subnormal")); err != nil {
		t.Fatal(err)
	}
	for _, v := range float32s(b.Input("in_float32")) {
		if v == 0 || math.Abs(float64(v)) >= 0x1p-126 {
			t.Fatalf("subnormal class fed %g", v)
		}
	}
}

func float32s(b []byte) []float32 {
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

// TestDynamic runs dynamic.onnx: x [batch, 16] with the batch from --input, an int64 scalar k,
// and outputs whose batch dimension is resolved by a dry run.
func TestDynamic(t *testing.T) {
	path := model(t, "dynamic")
	b := open(t, Options{Model: path, Inputs: specs(t, "x=3x16:const=0.5", "k=scalar:const=3")})
	if err := b.Run(0); err != nil {
		t.Fatal(err)
	}
	if got := float32s(b.Output("sum")); !slices.Equal(got, []float32{24, 24, 24}) {
		t.Errorf("sum = %v, want 3 × 16·0.5·3 = 24", got)
	}
	scaled := float32s(b.Output("scaled"))
	if len(scaled) != 48 || slices.ContainsFunc(scaled, func(v float32) bool { return v != 1.5 }) {
		t.Errorf("scaled = %v, want 48 × 1.5", scaled)
	}
	fed := b.Inputs()
	if len(fed) != 2 || fed[1].Name != "k" || fed[1].Type != "int64" || len(fed[1].Shape) != 0 || fed[1].Fill != "const=3" {
		t.Errorf("inputs %+v", fed)
	}

	// Random x and k rotate through their sets; the outputs follow what was fed each time.
	b2 := open(t, Options{Model: path, Inputs: specs(t, "x=2x16", "k=scalar:random=1..1000"), Seed: 5, Sets: 3})
	var ks []int64
	for range 3 {
		if err := b2.Run(0); err != nil {
			t.Fatal(err)
		}
		k := int64(binary.LittleEndian.Uint64(b2.Input("k")))
		ks = append(ks, k)
		x := float32s(b2.Input("x"))
		for row := range 2 {
			var want float32
			for _, v := range x[16*row : 16*row+16] {
				want += v * float32(k)
			}
			if got := float32s(b2.Output("sum"))[row]; math.Abs(float64(got-want)) > 1e-3*math.Abs(float64(want))+1e-3 {
				t.Fatalf("k=%d row %d: sum %g, want %g", k, row, got, want)
			}
		}
	}
	if ks[0] == ks[1] && ks[1] == ks[2] {
		t.Errorf("scalar k did not rotate: %v", ks)
	}
}

func TestInputErrorsListTheModel(t *testing.T) {
	path := model(t, "dynamic")
	tests := []struct {
		name   string
		inputs []string
		want   []string
	}{
		{"none given", nil, []string{`input "x" has dynamic dimensions (?x16): give them with --input x=DIMS`}},
		{"unknown", []string{"x=1x16", "k=scalar", "nope=1x2"}, []string{`input nope=1x2:random: the model has no input "nope"`}},
		{"fixed dim", []string{"x=3x15", "k=scalar"}, []string{`dimension 2 is 15 where the model fixes 16 (the model's "x" is ?x16)`}},
		{"rank", []string{"x=3", "k=1"}, []string{`3 has rank 1, but the model's "x" is ?x16 (rank 2)`, `1 has rank 1, but the model's "k" is scalar (rank 0)`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Open(Options{Model: path, Inputs: specs(t, tt.inputs...)})
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("err = %v, want an *InputError", err)
			}
			msg := err.Error()
			for _, w := range append(tt.want, "model "+path, "x  float32  ?x16", "k  int64    scalar", "--input NAME=DIMS[:FILL]") {
				if !strings.Contains(msg, w) {
					t.Errorf("error lacks %q:\n%s", w, msg)
				}
			}
		})
	}
}

func TestBadFillDataIsNamed(t *testing.T) {
	path := model(t, "tinylm")
	// Token ids past the vocabulary fail in the trial run, named by class, before any timing.
	_, err := Open(Options{Model: path, Inputs: specs(t, "tokens=1x64:const=100000")})
	if err == nil || !strings.Contains(err.Error(), "trial run of input class default") {
		t.Fatalf("err = %v", err)
	}
	_, err = Open(Options{Model: path, Inputs: specs(t, "tokens=1x64:const=1.5")})
	if err == nil || !strings.Contains(err.Error(), `input "tokens": const=1.5`) {
		t.Fatalf("err = %v", err)
	}
}

func TestOptionErrorsCollected(t *testing.T) {
	_, err := Open(Options{Threads: 3, WorkerCPUs: []int{1}, GraphOpt: "max",
		ConfigEntries: map[string]string{"session.intra_op.allow_spinning": "1"}})
	if err == nil {
		t.Fatal("no error")
	}
	for _, w := range []string{"no model given", "1 worker CPUs [1] for 3 intra-op threads", `graph optimisation level "max"`, `"session.intra_op.allow_spinning" is set by tailgate`} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error lacks %q: %v", w, err)
		}
	}
}

func TestSessionSettings(t *testing.T) {
	path := model(t, "vision-fp32")
	o := Options{Model: path, Threads: 2, WorkerCPUs: []int{1}, Spinning: true, GraphOpt: GraphOptBasic, DenormalAsZero: true}
	b := open(t, o)
	if err := b.Run(0); err != nil {
		t.Fatal(err)
	}
	s := b.Settings()
	for k, v := range map[string]string{"session.intra_op_thread_affinities": "2", "session.intra_op.allow_spinning": "1",
		"intra_op_num_threads": "2", "graph_optimization": "basic", "session.set_denormal_as_zero": "1", "execution_mode": "sequential"} {
		if s[k] != v {
			t.Errorf("setting %s = %q, want %q", k, s[k], v)
		}
	}
	if got := Affinities([]int{0, 2, 3}); got != "1;3;4" {
		t.Errorf("Affinities = %q", got)
	}
	if addr := uintptr(unsafe.Pointer(&b.Input("x")[0])); addr%4096 != 0 {
		t.Errorf("input tensor memory at %#x is not page-aligned", addr)
	}
	if b.ModelSHA256() == "" || len(b.ModelSHA256()) != 64 {
		t.Errorf("model sha %q", b.ModelSHA256())
	}
}

// TestRunAllocatesNothing proves the timed call is allocation-free on real models.
func TestRunAllocatesNothing(t *testing.T) {
	for _, tt := range []struct{ model, input string }{
		{"vision-fp32", "x=1x3x96x96"},
		{"vision-fp32", "x=1x3x96x96:adversarial"},
		{"tinylm", "tokens=1x64"},
		{"dynamic", "x=4x16"},
	} {
		t.Run(tt.model+"/"+tt.input, func(t *testing.T) {
			in := []string{tt.input}
			if tt.model == "dynamic" {
				in = append(in, "k=scalar:const=2")
			}
			b := open(t, Options{Model: model(t, tt.model), Inputs: specs(t, in...), Sets: 3})
			n := len(b.Classes())
			i := 0
			var runErr error
			allocs := testing.AllocsPerRun(30, func() {
				if err := b.Run(i % n); err != nil {
					runErr = err
				}
				i++
			})
			if runErr != nil {
				t.Fatal(runErr)
			}
			if allocs != 0 {
				t.Fatalf("Run allocates %.1f times per call", allocs)
			}
		})
	}
}

// TestDeterministic checks that the same input set gives the same outputs, run after run.
func TestDeterministic(t *testing.T) {
	for _, m := range []struct{ model, input, output string }{{"vision-fp32", "x=1x3x96x96", "y"}, {"tinylm", "tokens=1x64", "logits"}} {
		t.Run(m.model, func(t *testing.T) {
			b := open(t, Options{Model: model(t, m.model), Inputs: specs(t, m.input), Seed: 1, Sets: 2})
			var outs [][]byte
			for range 4 { // sets 0, 1, 0, 1
				if err := b.Run(0); err != nil {
					t.Fatal(err)
				}
				outs = append(outs, bytes.Clone(b.Output(m.output)))
			}
			if !bytes.Equal(outs[0], outs[2]) || !bytes.Equal(outs[1], outs[3]) {
				t.Error("the same input set gave different outputs")
			}
			if bytes.Equal(outs[0], outs[1]) {
				t.Error("two different input sets gave the same outputs: rotation is not reaching the model")
			}
		})
	}
}

func benchmarkRun(b *testing.B, name string, opts Options) {
	opts.Model = model(b, name)
	be := open(b, opts)
	n := len(be.Classes())
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		if err := be.Run(i % n); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkRunVisionFP32(b *testing.B) {
	benchmarkRun(b, "vision-fp32", Options{Inputs: specs(b, "x=1x3x96x96")})
}

func BenchmarkRunVisionInt8(b *testing.B) {
	benchmarkRun(b, "vision-int8", Options{Inputs: specs(b, "x=1x3x96x96")})
}

func BenchmarkRunTinyLM(b *testing.B) {
	benchmarkRun(b, "tinylm", Options{Inputs: specs(b, "tokens=1x64")})
}

// BenchmarkRunVisionFP32Class times each adversarial class on its own, which is where a
// subnormal slowdown of a kernel shows.
func BenchmarkRunVisionFP32Class(b *testing.B) {
	for _, class := range inputs.AdversarialClasses(inputs.Float32) {
		b.Run(class, func(b *testing.B) {
			be := open(b, Options{Model: model(b, "vision-fp32"), Inputs: specs(b, "x=1x3x96x96:adversarial")})
			c := slices.Index(be.Classes(), class)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if err := be.Run(c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
