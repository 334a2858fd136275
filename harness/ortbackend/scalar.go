package ortbackend

import (
	"errors"
	"fmt"
	"reflect"
	"unsafe"

	"github.com/tailgate-ci/tailgate/harness/inputs"
	ort "github.com/yalue/onnxruntime_go"
)

// newScalar creates a rank-0 tensor. onnxruntime_go refuses an empty shape for Tensor and
// CustomDataTensor, and its Scalar.Set replaces the Go slice rather than writing the memory
// ONNX Runtime reads; so the scalar's memory is reached through its unexported data field.
// float16 has no Go type in onnxruntime_go's TensorData, so a float16 scalar is refused.
func newScalar(t inputs.ElemType) (ort.Value, []byte, error) {
	switch t {
	case inputs.Float32:
		return scalarOf[float32]()
	case inputs.Float64:
		return scalarOf[float64]()
	case inputs.Int8:
		return scalarOf[int8]()
	case inputs.Int16:
		return scalarOf[int16]()
	case inputs.Int32:
		return scalarOf[int32]()
	case inputs.Int64:
		return scalarOf[int64]()
	case inputs.Uint8:
		return scalarOf[uint8]()
	case inputs.Uint16:
		return scalarOf[uint16]()
	case inputs.Uint32:
		return scalarOf[uint32]()
	case inputs.Uint64:
		return scalarOf[uint64]()
	case inputs.Bool:
		return scalarOf[bool]()
	}
	return nil, nil, fmt.Errorf("a %s scalar cannot be bound by onnxruntime_go; give the input rank 1 in the model", t)
}

func scalarOf[T ort.TensorData]() (ort.Value, []byte, error) {
	s, err := ort.NewEmptyScalar[T]()
	if err != nil {
		return nil, nil, err
	}
	mem, err := scalarBytes(s)
	if err != nil {
		s.Destroy()
		return nil, nil, err
	}
	return s, mem, nil
}

// scalarBytes returns the memory of a Scalar's one element, found by field name so that a
// change of onnxruntime_go's layout is an error here instead of silent corruption.
func scalarBytes[T ort.TensorData](s *ort.Scalar[T]) ([]byte, error) {
	f := reflect.ValueOf(s).Elem().FieldByName("data")
	if !f.IsValid() || f.Kind() != reflect.Slice || f.Type().Elem() != reflect.TypeFor[T]() || f.Len() != 1 {
		return nil, errors.New("onnxruntime_go's Scalar has no one-element data field; this onnxruntime_go version is not supported for scalar inputs")
	}
	var zero T
	return unsafe.Slice((*byte)(unsafe.Pointer(f.Index(0).UnsafeAddr())), unsafe.Sizeof(zero)), nil
}
