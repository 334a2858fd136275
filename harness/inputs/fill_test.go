package inputs

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/x448/float16"
)

func TestPrepareEveryTypeAndFill(t *testing.T) {
	shape := []int64{2, 3, 5}
	fills := []Fill{{Kind: FillRandom}, {Kind: FillZeros}, {Kind: FillConst, Value: "1"}, {Kind: FillAdversarial}}
	for _, et := range ElemTypes {
		for _, f := range fills {
			t.Run(et.String()+"/"+f.String(), func(t *testing.T) {
				classes, err := Prepare("x", f, et, shape, PrepareOptions{Seed: 1, Sets: 3})
				if err != nil {
					t.Fatal(err)
				}
				for _, c := range classes {
					for _, s := range c.Sets {
						if len(s) != 30*et.Size() {
							t.Fatalf("class %s: %d bytes, want %d", c.Name, len(s), 30*et.Size())
						}
					}
				}
				again, _ := Prepare("x", f, et, shape, PrepareOptions{Seed: 1, Sets: 3})
				for i := range classes {
					for j := range classes[i].Sets {
						if !bytes.Equal(classes[i].Sets[j], again[i].Sets[j]) {
							t.Fatalf("class %s set %d differs between two runs with one seed", classes[i].Name, j)
						}
					}
				}
			})
		}
	}
}

func TestRandomIsSeededAndRotates(t *testing.T) {
	a, _ := Prepare("x", Fill{}, Float32, []int64{64}, PrepareOptions{Seed: 1, Sets: 2})
	b, _ := Prepare("x", Fill{}, Float32, []int64{64}, PrepareOptions{Seed: 2, Sets: 2})
	c, _ := Prepare("y", Fill{}, Float32, []int64{64}, PrepareOptions{Seed: 1, Sets: 2})
	s := a[0].Sets
	if bytes.Equal(s[0], s[1]) {
		t.Error("two rotating sets are equal")
	}
	if bytes.Equal(s[0], b[0].Sets[0]) {
		t.Error("seed 1 and seed 2 give the same data")
	}
	if bytes.Equal(s[0], c[0].Sets[0]) {
		t.Error("inputs x and y get the same data")
	}
	for i := 0; i < 64; i++ {
		v := math.Float32frombits(binary.LittleEndian.Uint32(s[0][4*i:]))
		if v < -1 || v >= 1 {
			t.Fatalf("random float32 %g outside [-1, 1)", v)
		}
	}
	ints, err := Prepare("t", Fill{Lo: "-5", Hi: "5"}, Int64, []int64{1000}, PrepareOptions{Sets: 1})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int64]bool{}
	for i := 0; i < 1000; i++ {
		v := int64(binary.LittleEndian.Uint64(ints[0].Sets[0][8*i:]))
		if v < -5 || v > 5 {
			t.Fatalf("random int64 %d outside [-5, 5]", v)
		}
		seen[v] = true
	}
	if len(seen) != 11 {
		t.Errorf("1000 draws in [-5, 5] hit %d values, want all 11", len(seen))
	}
	full, err := Prepare("t", Fill{Lo: "-9223372036854775808", Hi: "9223372036854775807"}, Int64, []int64{4}, PrepareOptions{Sets: 1})
	if err != nil || len(full[0].Sets[0]) != 32 {
		t.Fatalf("full int64 range: %v", err)
	}
	if _, err := Prepare("t", Fill{Lo: "0", Hi: "300"}, Uint8, []int64{4}, PrepareOptions{}); err == nil || !strings.Contains(err.Error(), `input "t"`) {
		t.Errorf("uint8 range 0..300 accepted or unnamed: %v", err)
	}
	if _, err := Prepare("t", Fill{Lo: "0", Hi: "1e39"}, Float32, []int64{4}, PrepareOptions{}); err == nil {
		t.Error("float32 range up to 1e39 accepted")
	}
}

// classValues decodes every element of a set as float64 (floats) or int64/uint64 via the
// callback, so the checks below read as what they assert.
func eachFloat(t ElemType, b []byte, fn func(bits uint64, v float64)) {
	size := t.Size()
	for i := 0; i+size <= len(b); i += size {
		switch t {
		case Float16:
			u := binary.LittleEndian.Uint16(b[i:])
			fn(uint64(u), float64(float16.Frombits(u).Float32()))
		case Float32:
			u := binary.LittleEndian.Uint32(b[i:])
			fn(uint64(u), float64(math.Float32frombits(u)))
		default:
			u := binary.LittleEndian.Uint64(b[i:])
			fn(u, math.Float64frombits(u))
		}
	}
}

func TestAdversarialClasses(t *testing.T) {
	for _, et := range ElemTypes {
		t.Run(et.String(), func(t *testing.T) {
			classes, err := Prepare("x", Fill{Kind: FillAdversarial}, et, []int64{256}, PrepareOptions{Seed: 3, Sets: 2})
			if err != nil {
				t.Fatal(err)
			}
			names := AdversarialClasses(et)
			if len(classes) != len(names) {
				t.Fatalf("%d classes, want %v", len(classes), names)
			}
			for i := range classes {
				if classes[i].Name != names[i] {
					t.Fatalf("class %d is %s, want %s", i, classes[i].Name, names[i])
				}
				for j := range i {
					if bytes.Equal(classes[i].Sets[0], classes[j].Sets[0]) {
						t.Errorf("classes %s and %s have the same bytes", classes[i].Name, classes[j].Name)
					}
				}
			}
			for _, c := range classes {
				checkClass(t, et, c)
			}
		})
	}
}

func checkClass(t *testing.T, et ElemType, c Class) {
	t.Helper()
	b := c.Sets[0]
	switch c.Name {
	case ClassZeros:
		if !bytes.Equal(b, make([]byte, len(b))) {
			t.Errorf("zeros class is not all zero")
		}
	case ClassSubnormal:
		mantBits := map[ElemType]int{Float16: 10, Float32: 23, Float64: 52}[et]
		expMask := (uint64(1)<<(et.Size()*8-1) - 1) &^ (uint64(1)<<mantBits - 1)
		eachFloat(et, b, func(bits uint64, v float64) {
			if bits&expMask != 0 || bits&(uint64(1)<<mantBits-1) == 0 {
				t.Fatalf("%s subnormal class holds %#x, not a subnormal", et, bits)
			}
			if et == Float32 && (v == 0 || math.Abs(v) >= 0x1p-126) {
				t.Fatalf("float32 %g is not subnormal", v)
			}
			if et == Float64 && (v == 0 || math.Abs(v) >= 0x1p-1022) {
				t.Fatalf("float64 %g is not subnormal", v)
			}
			if et == Float16 && (v == 0 || math.Abs(v) >= 0x1p-14) {
				t.Fatalf("float16 %g is not subnormal", v)
			}
		})
	case ClassLarge:
		m := maxFinite(et)
		eachFloat(et, b, func(_ uint64, v float64) {
			if math.IsInf(v, 0) || math.IsNaN(v) || math.Abs(v) < m/1001 {
				t.Fatalf("%s large class holds %g", et, v)
			}
		})
	case ClassMin, ClassMax:
		want := map[ElemType][2]string{
			Int8: {"80", "7f"}, Int16: {"0080", "ff7f"}, Int32: {"00000080", "ffffff7f"},
			Int64: {"0000000000000080", "ffffffffffffff7f"}, Uint8: {"", "ff"}, Uint16: {"", "ffff"},
			Uint32: {"", "ffffffff"}, Uint64: {"", "ffffffffffffffff"}, Bool: {"", "01"},
		}[et]
		w := want[0]
		if c.Name == ClassMax {
			w = want[1]
		}
		if got := hexOf(b[:et.Size()]); got != w {
			t.Errorf("%s %s element is %s, want %s", et, c.Name, got, w)
		}
	}
}

func hexOf(b []byte) string {
	const digits = "0123456789abcdef"
	var s strings.Builder
	for _, c := range b {
		s.WriteByte(digits[c>>4])
		s.WriteByte(digits[c&15])
	}
	return s.String()
}

func TestConst(t *testing.T) {
	tests := []struct {
		t       ElemType
		v       string
		wantHex string
		wantErr string
	}{
		{Float32, "1", "0000803f", ""},
		{Float64, "-2", "00000000000000c0", ""},
		{Float16, "1", "003c", ""},
		{Float16, "65504", "ff7b", ""},
		{Float16, "5.960464477539063e-08", "0100", ""},  // 2^-24, the smallest float16 subnormal
		{Float16, "1.7881393432617188e-07", "0300", ""}, // 3·2^-24, a subnormal with two mantissa bits
		{Float16, "-0", "0080", ""},
		{Float16, "70000", "", "out of float16's range"},
		{Float32, "1e39", "", "out of float32's range"},
		{Float32, "inf", "0000807f", ""},
		{Int8, "-128", "80", ""},
		{Int8, "128", "", "not an integer in int8's range"},
		{Uint16, "65535", "ffff", ""},
		{Uint16, "-1", "", "uint16's range"},
		{Int64, "1.5", "", "not an integer"},
		{Bool, "true", "01", ""},
		{Bool, "0", "00", ""},
		{Bool, "2", "", "not a bool"},
	}
	for _, tt := range tests {
		t.Run(tt.t.String()+"="+tt.v, func(t *testing.T) {
			c, err := Prepare("k", Fill{Kind: FillConst, Value: tt.v}, tt.t, []int64{2}, PrepareOptions{})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), `input "k"`) {
					t.Fatalf("err = %v, want one naming the input and %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := hexOf(c[0].Sets[0]); got != tt.wantHex+tt.wantHex {
				t.Fatalf("bytes %s, want %s twice", got, tt.wantHex)
			}
		})
	}
}

func TestFileFill(t *testing.T) {
	dir := t.TempDir()
	raw := filepath.Join(dir, "x.bin")
	data := make([]byte, 2*3*4)
	for i := range data {
		data[i] = byte(i)
	}
	if err := os.WriteFile(raw, data, 0o644); err != nil {
		t.Fatal(err)
	}
	npy := filepath.Join(dir, "x.npy")
	if err := os.WriteFile(npy, EncodeNPY(Float32, []int64{2, 3}, data), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{raw, npy} {
		c, err := Prepare("x", Fill{Kind: FillFile, Path: p}, Float32, []int64{2, 3}, PrepareOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(c[0].Sets[0], data) {
			t.Errorf("%s: data differs", p)
		}
	}
	tests := []struct {
		path  string
		t     ElemType
		shape []int64
		want  []string
	}{
		{raw, Float32, []int64{2, 2}, []string{"x.bin", "24 bytes", "is 16 bytes"}},
		{npy, Int32, []int64{3, 2}, []string{"x.npy", "dtype float32, but the model wants int32", "shape 2x3, but the input is 3x2"}},
		{filepath.Join(dir, "missing.npy"), Float32, []int64{2, 3}, []string{"missing.npy", "no such file"}},
	}
	for _, tt := range tests {
		_, err := Prepare("x", Fill{Kind: FillFile, Path: tt.path}, tt.t, tt.shape, PrepareOptions{})
		if err == nil {
			t.Fatalf("%s as %s %v accepted", tt.path, tt.t, tt.shape)
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error %q lacks %q", err, w)
			}
		}
	}
}

func TestScalarPrepare(t *testing.T) {
	c, err := Prepare("n", Fill{Kind: FillConst, Value: "7"}, Int64, []int64{}, PrepareOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := hexOf(c[0].Sets[0]); got != "0700000000000000" {
		t.Fatalf("scalar int64 7 = %s", got)
	}
	if _, err := Prepare("n", Fill{}, Int64, []int64{-1, 3}, PrepareOptions{}); err == nil || !strings.Contains(err.Error(), "dynamic") {
		t.Fatalf("dynamic shape accepted: %v", err)
	}
}

func BenchmarkPrepareRandomVision(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Prepare("x", Fill{}, Float32, []int64{1, 3, 96, 96}, PrepareOptions{Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
}
