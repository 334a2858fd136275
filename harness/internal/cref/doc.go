// Package cref is the C reference the harness is compared with in `make bench`: a minimal
// timing loop written in C over the ONNX Runtime C API (library loaded with dlopen and
// OrtGetApiBase), with the same session settings, inputs, thread pinning and histogram as
// tailgate's own loop, so that any cost tailgate adds shows up as a ratio. It is built only
// with the "cref" build tag and CGO_CFLAGS pointing at the onnxruntime_c_api.h header that the
// onnxruntime_go module ships (.ci/bench.sh sets both); it is not part of the tailgate binary.
package cref
