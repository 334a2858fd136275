// tailgate exec-backend worker on the ONNX Runtime C API (docs/worker-protocol.md).
//
//   ort_worker LIBONNXRUNTIME.so MODEL.onnx [THREADS]
//
// Opens the model with harness/internal/cref (dlopen + OrtGetApiBase, the settings of
// tailgate's own ort backend), binds one seeded random input set sized from the model's input
// metadata (dynamic dimensions become 1), says ready, and answers each request with one Run,
// reporting the Run's own duration (CLOCK_MONOTONIC) as the device time. Outputs are allocated
// by ONNX Runtime per run. Build (the Makefile's c-worker target does):
//   gcc -O2 -I"$(go list -m -f '{{.Dir}}' github.com/yalue/onnxruntime_go)" -Iharness/internal/cref
//       harness/execbackend/workers/ort_worker.c harness/internal/cref/cref.c -ldl -o ort_worker
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "cref.h"

static int read_full(void* p, size_t n) {  // 1: filled, 0: EOF
	char* b = p;
	while (n > 0) {
		ssize_t r = read(0, b, n);
		if (r < 0 && errno == EINTR) continue;
		if (r <= 0) return 0;
		b += r;
		n -= (size_t)r;
	}
	return 1;
}

static void write_full(const void* p, size_t n) {
	const char* b = p;
	while (n > 0) {
		ssize_t r = write(1, b, n);
		if (r < 0 && errno == EINTR) continue;
		if (r <= 0) exit(1);
		b += r;
		n -= (size_t)r;
	}
}

static void say(const char* line) { write_full(line, strlen(line)); }

static int64_t now_ns(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static size_t elem_size(ONNXTensorElementDataType t) {
	switch (t) {
	case ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE: case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64: case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT64: return 8;
	case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT: case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32: case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT32: return 4;
	case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16: case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT16: case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT16: return 2;
	case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT8: case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8: case ONNX_TENSOR_ELEMENT_DATA_TYPE_BOOL: return 1;
	default: return 0;
	}
}

// fill writes seeded values every type reads sanely: floats in [-1, 1), integers in [0, 16).
static void fill(void* p, size_t n, ONNXTensorElementDataType t, uint64_t* s) {
	for (size_t i = 0; i < n; i++) {
		*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
		uint32_t r = (uint32_t)(*s >> 33);
		switch (t) {
		case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT: ((float*)p)[i] = (float)r / 2147483648.0f * 2 - 1; break;
		case ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE: ((double*)p)[i] = (double)r / 2147483648.0 * 2 - 1; break;
		case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16: ((uint16_t*)p)[i] = 0x3800; break;  // 0.5
		default: {
			uint64_t v = r % 16;
			if (t == ONNX_TENSOR_ELEMENT_DATA_TYPE_BOOL) v &= 1;
			memcpy((char*)p + i * elem_size(t), &v, elem_size(t));  // little-endian
		}
		}
	}
}

#define FAIL(...)                                                            \
	do {                                                                     \
		char m_[1024], l_[1200];                                             \
		snprintf(m_, sizeof m_, __VA_ARGS__);                                \
		for (char* q_ = m_; *q_; q_++) if (*q_ == '"' || *q_ == '\\' || *q_ < ' ') *q_ = ' '; \
		snprintf(l_, sizeof l_, "{\"worker\":1,\"error\":\"%s\"}\n", m_);   \
		say(l_);                                                             \
		return 2;                                                            \
	} while (0)

int main(int argc, char** argv) {
	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: ort_worker LIBONNXRUNTIME.so MODEL.onnx [THREADS]\n");
		return 2;
	}
	char hello[4096];
	size_t n = 0;
	while (n < sizeof hello - 1 && read_full(&hello[n], 1) && hello[n] != '\n') n++;
	hello[n] = 0;
	if (!strstr(hello, "\"tailgate\":1")) {
		fprintf(stderr, "ort_worker: hello %s is not protocol 1\n", hello);
		return 2;
	}
	const char* sp = strstr(hello, "\"seed\":");
	uint64_t seed = sp ? strtoull(sp + 7, NULL, 10) : 1;

	static cref_t c;
	char err[1024];
	if (cref_open(&c, argv[1], argv[2], argc == 4 ? atoi(argv[3]) : 1, err, sizeof err)) FAIL("%s", err);
	const OrtApi* api = c.api;
	OrtAllocator* alloc;
	size_t nin, nout;
	if (api->GetAllocatorWithDefaultOptions(&alloc) || api->SessionGetInputCount(c.sess, &nin) ||
	    api->SessionGetOutputCount(c.sess, &nout))
		FAIL("cannot read the model's inputs");
	if (nin > CREF_MAX || nout > CREF_MAX) FAIL("at most %d inputs and outputs", CREF_MAX);
	const char* in_names[CREF_MAX];
	const char* out_names[CREF_MAX];
	const OrtValue* ins[CREF_MAX];
	for (size_t k = 0; k < nin; k++) {
		char* name;
		OrtTypeInfo* ti;
		const OrtTensorTypeAndShapeInfo* tsi;
		ONNXTensorElementDataType type;
		size_t ndim;
		int64_t shape[16];
		if (api->SessionGetInputName(c.sess, k, alloc, &name) || api->SessionGetInputTypeInfo(c.sess, k, &ti) ||
		    api->CastTypeInfoToTensorInfo(ti, &tsi) || !tsi || api->GetTensorElementType(tsi, &type) ||
		    api->GetDimensionsCount(tsi, &ndim) || ndim > 16 || api->GetDimensions(tsi, shape, ndim))
			FAIL("input %zu: not a tensor of at most 16 dimensions", k);
		size_t count = 1;
		for (size_t d = 0; d < ndim; d++) {
			if (shape[d] < 1) shape[d] = 1;
			count *= (size_t)shape[d];
		}
		if (!elem_size(type)) FAIL("input %s: element type %d is not supported", name, (int)type);
		void* src = malloc(count * elem_size(type));
		fill(src, count, type, &seed);
		if (cref_bind(&c, 1, (int)k, name, type, shape, ndim, src, count * elem_size(type), err, sizeof err)) FAIL("%s", err);
		free(src);
		c.nin = (int)k + 1;
		in_names[k] = c.in[k].name;
		ins[k] = c.in[k].value;
		api->ReleaseTypeInfo(ti);
		alloc->Free(alloc, name);
	}
	for (size_t k = 0; k < nout; k++) {
		char* name;
		if (api->SessionGetOutputName(c.sess, k, alloc, &name)) FAIL("output %zu: no name", k);
		out_names[k] = strdup(name);
		alloc->Free(alloc, name);
	}
	char ready[512];
	// cref_open loaded the library: this dlopen only finds it again, for its version.
	void* lib = dlopen(argv[1], RTLD_NOW | RTLD_NOLOAD);
	const OrtApiBase* (*get_base)(void) = lib ? (const OrtApiBase* (*)(void))dlsym(lib, "OrtGetApiBase") : NULL;
	if (!get_base) FAIL("%s: OrtGetApiBase not found", argv[1]);
	snprintf(ready, sizeof ready, "{\"worker\":1,\"runtime\":\"onnxruntime-c\",\"version\":\"%s\",\"device\":\"cpu\",\"classes\":[\"default\"]}\n",
	         get_base()->GetVersionString());
	say(ready);

	unsigned char req[8], rep[16];
	OrtValue* outs[CREF_MAX];
	while (read_full(req, sizeof req)) {
		if (req[0] != 'R') {
			fprintf(stderr, "ort_worker: garbage request\n");
			return 2;
		}
		memcpy(rep + 1, req + 1, 7);
		memset(outs, 0, sizeof outs);
		int64_t t0 = now_ns();
		for (size_t k = 0; k < nin; k++) memcpy(c.in[k].mem, c.in[k].src, c.in[k].size);
		OrtStatus* st = api->Run(c.sess, NULL, in_names, ins, nin, out_names, nout, outs);
		int64_t d = now_ns() - t0;
		for (size_t k = 0; k < nout; k++)
			if (outs[k]) api->ReleaseValue(outs[k]);
		if (st) {
			const char* msg = api->GetErrorMessage(st);
			int64_t len = (int64_t)strnlen(msg, 4000);
			rep[0] = 'E';
			memcpy(rep + 8, &len, 8);
			write_full(rep, sizeof rep);
			write_full(msg, (size_t)len);
			api->ReleaseStatus(st);
			continue;
		}
		rep[0] = 'A';
		memcpy(rep + 8, &d, 8);
		write_full(rep, sizeof rep);
	}
	cref_close(&c);
	return 0;
}
