package inputs

import (
	"bytes"
	"encoding/binary"
	"slices"
	"strings"
	"testing"
)

// npyFile builds a file the way NumPy's format.write_array does for version major.
func npyFile(major byte, header string, data []byte) []byte {
	var b bytes.Buffer
	b.Write(npyMagic)
	b.Write([]byte{major, 0})
	if major == 1 {
		_ = binary.Write(&b, binary.LittleEndian, uint16(len(header)))
	} else {
		_ = binary.Write(&b, binary.LittleEndian, uint32(len(header)))
	}
	b.WriteString(header)
	b.Write(data)
	return b.Bytes()
}

func TestParseNPY(t *testing.T) {
	// NumPy 1.x/2.x header text, as np.save writes it (padded to a 64-byte boundary).
	hdr := func(descr, shape string) string {
		h := "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }"
		return h + strings.Repeat(" ", 63-(10+len(h))%64) + "\n"
	}
	tests := []struct {
		name  string
		file  []byte
		t     ElemType
		shape []int64
		data  []byte
	}{
		{"v1 f4 2x2", npyFile(1, hdr("<f4", "(2, 2)"), make([]byte, 16)), Float32, []int64{2, 2}, make([]byte, 16)},
		{"v2 i8 vector", npyFile(2, hdr("<i8", "(3,)"), bytes.Repeat([]byte{1, 0, 0, 0, 0, 0, 0, 0}, 3)), Int64, []int64{3}, bytes.Repeat([]byte{1, 0, 0, 0, 0, 0, 0, 0}, 3)},
		{"v3 scalar", npyFile(3, hdr("<f8", "()"), make([]byte, 8)), Float64, []int64{}, make([]byte, 8)},
		{"bool", npyFile(1, hdr("|b1", "(2,)"), []byte{1, 0}), Bool, []int64{2}, []byte{1, 0}},
		{"big-endian i4 swapped", npyFile(1, hdr(">i4", "(2,)"), []byte{0, 0, 0, 1, 0, 0, 1, 0}), Int32, []int64{2}, []byte{1, 0, 0, 0, 0, 1, 0, 0}},
		{"float16", npyFile(1, hdr("<f2", "(1,)"), []byte{0x00, 0x3c}), Float16, []int64{1}, []byte{0x00, 0x3c}},
		{"python2 long dims", npyFile(1, hdr("<u2", "(1L, 2L)"), make([]byte, 4)), Uint16, []int64{1, 2}, make([]byte, 4)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := ParseNPY(tt.file)
			if err != nil {
				t.Fatal(err)
			}
			if a.Type != tt.t || !slices.Equal(a.Shape, tt.shape) || !bytes.Equal(a.Data, tt.data) {
				t.Fatalf("got %s %v % x, want %s %v % x", a.Type, a.Shape, a.Data, tt.t, tt.shape, tt.data)
			}
		})
	}
}

func TestParseNPYErrors(t *testing.T) {
	tests := []struct {
		name string
		file []byte
		want string
	}{
		{"magic", []byte("PK\x03\x04 not numpy"), "bad magic"},
		{"version", npyFile(4, "{}", nil), "version 4"},
		{"fortran", npyFile(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }", make([]byte, 4)), "Fortran order"},
		{"structured", npyFile(1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", make([]byte, 4)), "quoted string"},
		{"object", npyFile(1, "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", make([]byte, 8)), `dtype "|O"`},
		{"complex", npyFile(1, "{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", make([]byte, 8)), `dtype "<c8"`},
		{"short data", npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", make([]byte, 8)), "8 bytes; shape [3] of float32 needs 12"},
		{"header past end", append(append([]byte{}, npyMagic...), 1, 0, 0xff, 0xff), "exceeds the file"},
		{"no shape", npyFile(1, "{'descr': '<f4', 'fortran_order': False}", make([]byte, 4)), "'shape' missing"},
		{"trailing", npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} x", make([]byte, 4)), "after the dict"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseNPY(tt.file)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestEncodeNPYRoundTrip(t *testing.T) {
	for _, et := range ElemTypes {
		data := make([]byte, 6*et.Size())
		for i := range data {
			data[i] = byte(i * 7)
		}
		if et == Bool {
			data = []byte{0, 1, 1, 0, 1, 0}
		}
		f := EncodeNPY(et, []int64{2, 3}, data)
		if (len(f)-len(data))%64 != 0 {
			t.Errorf("%s: data does not start 64-byte aligned", et)
		}
		a, err := ParseNPY(f)
		if err != nil || a.Type != et || !slices.Equal(a.Shape, []int64{2, 3}) || !bytes.Equal(a.Data, data) {
			t.Errorf("%s: round trip = %+v, %v", et, a, err)
		}
	}
}

func FuzzParseNPY(f *testing.F) {
	f.Add(EncodeNPY(Float32, []int64{2, 2}, make([]byte, 16)))
	f.Add(EncodeNPY(Bool, []int64{}, []byte{1}))
	f.Add(npyFile(2, "{'descr': '>u8', 'fortran_order': False, 'shape': (1,), }", make([]byte, 8)))
	f.Add(npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (9999999999, 9999999999), }", nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := ParseNPY(b)
		if err != nil {
			return
		}
		n, err := Elements(a.Shape)
		if err != nil {
			t.Fatalf("accepted shape %v: %v", a.Shape, err)
		}
		if len(a.Data) != n*a.Type.Size() {
			t.Fatalf("data %d bytes for %v of %s", len(a.Data), a.Shape, a.Type)
		}
	})
}
