//go:build cref

package cref

/*
#cgo LDFLAGS: -ldl
#include <stdlib.h>
#include "cref.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"unsafe"
)

// Tensor is one input or output to bind: ONNX element type code, shape, and for inputs the
// prepared bytes copied in before every run.
type Tensor struct {
	Name  string
	Type  int
	Shape []int64
	Data  []byte // inputs only
	Size  int    // bytes
}

// Session is a model opened by the C reference.
type Session struct {
	c *C.cref_t
}

const errLen = 1024

// Open loads lib with dlopen, opens model with the given intra-op thread count and binds the
// tensors.
func Open(lib, model string, threads int, ins, outs []Tensor) (*Session, error) {
	if len(ins) > C.CREF_MAX || len(outs) > C.CREF_MAX {
		return nil, fmt.Errorf("cref: at most %d inputs and outputs", C.CREF_MAX)
	}
	s := &Session{c: (*C.cref_t)(C.calloc(1, C.sizeof_cref_t))}
	errBuf := (*C.char)(C.calloc(errLen, 1))
	defer C.free(unsafe.Pointer(errBuf))
	fail := func() error { return errors.New("cref: " + C.GoString(errBuf)) }
	clib, cmodel := C.CString(lib), C.CString(model)
	defer C.free(unsafe.Pointer(clib))
	defer C.free(unsafe.Pointer(cmodel))
	if C.cref_open(s.c, clib, cmodel, C.int(threads), errBuf, errLen) != 0 {
		s.Close()
		return nil, fail()
	}
	bind := func(isInput int, k int, t Tensor) error {
		name := C.CString(t.Name)
		defer C.free(unsafe.Pointer(name))
		shape := C.malloc(C.size_t(8 * max(len(t.Shape), 1)))
		defer C.free(shape)
		copy(unsafe.Slice((*int64)(shape), max(len(t.Shape), 1)), t.Shape)
		var src unsafe.Pointer
		if len(t.Data) > 0 {
			src = C.CBytes(t.Data)
			defer C.free(src)
		}
		if C.cref_bind(s.c, C.int(isInput), C.int(k), name, C.int(t.Type), (*C.int64_t)(shape), C.size_t(len(t.Shape)),
			src, C.size_t(t.Size), errBuf, errLen) != 0 {
			return fail()
		}
		return nil
	}
	for k, t := range ins {
		s.c.nin = C.int(k + 1)
		if err := bind(1, k, t); err != nil {
			s.Close()
			return nil, err
		}
	}
	for k, t := range outs {
		s.c.nout = C.int(k + 1)
		if err := bind(0, k, t); err != nil {
			s.Close()
			return nil, err
		}
	}
	return s, nil
}

// Loop times len(out) inferences in one C call and stores each latency (ns) in out.
func (s *Session) Loop(out []int64) error {
	if len(out) == 0 {
		return nil
	}
	buf := (*C.int64_t)(C.malloc(C.size_t(8 * len(out))))
	defer C.free(unsafe.Pointer(buf))
	errBuf := (*C.char)(C.calloc(errLen, 1))
	defer C.free(unsafe.Pointer(errBuf))
	if C.cref_loop(s.c, C.int64_t(len(out)), buf, errBuf, errLen) != 0 {
		return errors.New("cref: " + C.GoString(errBuf))
	}
	copy(out, unsafe.Slice((*int64)(unsafe.Pointer(buf)), len(out)))
	return nil
}

// Close releases the session and tensors.
func (s *Session) Close() {
	if s.c != nil {
		C.cref_close(s.c)
		C.free(unsafe.Pointer(s.c))
		s.c = nil
	}
}
