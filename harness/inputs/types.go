// Package inputs prepares the data a model is fed while it is timed: it owns the `--input
// NAME=DIMS[:FILL]` grammar, the numeric ONNX element types and their byte encodings, the fills
// (seeded random, zeros, constant, raw or .npy file, adversarial classes) and the .npy reader.
// It produces little-endian byte slices only; it does not know about ONNX Runtime sessions,
// tensors or models (harness/ortbackend binds the bytes to a model's inputs).
package inputs

import (
	"fmt"
	"strings"
)

// ElemType is a tensor element type, numbered as ONNX's TensorProto.DataType (and ONNX
// Runtime's ONNXTensorElementDataType), so a backend can convert it with a plain cast.
type ElemType int

// The numeric element types tailgate can feed. The values are ONNX's.
const (
	Float32 ElemType = 1
	Uint8   ElemType = 2
	Int8    ElemType = 3
	Uint16  ElemType = 4
	Int16   ElemType = 5
	Int32   ElemType = 6
	Int64   ElemType = 7
	Bool    ElemType = 9
	Float16 ElemType = 10
	Float64 ElemType = 11
	Uint32  ElemType = 12
	Uint64  ElemType = 13
)

// ElemTypes lists every supported element type, in ONNX order.
var ElemTypes = []ElemType{Float32, Uint8, Int8, Uint16, Int16, Int32, Int64, Bool, Float16, Float64, Uint32, Uint64}

var typeInfo = map[ElemType]struct {
	name string
	size int
}{
	Float32: {"float32", 4}, Uint8: {"uint8", 1}, Int8: {"int8", 1}, Uint16: {"uint16", 2},
	Int16: {"int16", 2}, Int32: {"int32", 4}, Int64: {"int64", 8}, Bool: {"bool", 1},
	Float16: {"float16", 2}, Float64: {"float64", 8}, Uint32: {"uint32", 4}, Uint64: {"uint64", 8},
}

// onnxNames are ONNX's own names for types tailgate cannot feed, so an error can say which
// type a model declared instead of printing a number.
var onnxNames = map[ElemType]string{
	0: "undefined", 8: "string", 14: "complex64", 15: "complex128", 16: "bfloat16",
	17: "float8e4m3fn", 18: "float8e4m3fnuz", 19: "float8e5m2", 20: "float8e5m2fnuz",
	21: "uint4", 22: "int4", 23: "float4e2m1",
}

// Supported reports whether tailgate can generate data of this type.
func (t ElemType) Supported() bool { _, ok := typeInfo[t]; return ok }

// String returns the Go-style name (float32, int64, bool, ...), or ONNX's name for an
// unsupported type.
func (t ElemType) String() string {
	if i, ok := typeInfo[t]; ok {
		return i.name
	}
	if n, ok := onnxNames[t]; ok {
		return n
	}
	return fmt.Sprintf("onnx-type-%d", int(t))
}

// Size is the size of one element in bytes; 0 for an unsupported type.
func (t ElemType) Size() int { return typeInfo[t].size }

// IsFloat reports whether t is a floating-point type.
func (t ElemType) IsFloat() bool { return t == Float16 || t == Float32 || t == Float64 }

// IsSigned reports whether t is a signed integer type.
func (t ElemType) IsSigned() bool { return t == Int8 || t == Int16 || t == Int32 || t == Int64 }

// IsUnsigned reports whether t is an unsigned integer type.
func (t ElemType) IsUnsigned() bool {
	return t == Uint8 || t == Uint16 || t == Uint32 || t == Uint64
}

// ParseElemType parses a type name as String returns it; "float" and "double" are accepted as
// ONNX spells them.
func ParseElemType(s string) (ElemType, error) {
	switch strings.ToLower(s) {
	case "float":
		return Float32, nil
	case "double":
		return Float64, nil
	}
	for t, i := range typeInfo {
		if i.name == strings.ToLower(s) {
			return t, nil
		}
	}
	return 0, fmt.Errorf("unknown element type %q (want one of float32, float16, float64, int8, int16, int32, int64, uint8, uint16, uint32, uint64, bool)", s)
}
