//go:build cref

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cref.h"

#define CHECK(expr)                                                       \
	do {                                                                  \
		OrtStatus* st_ = (expr);                                          \
		if (st_) {                                                        \
			snprintf(err, errlen, "%s: %s", #expr, c->api->GetErrorMessage(st_)); \
			c->api->ReleaseStatus(st_);                                   \
			return -1;                                                    \
		}                                                                 \
	} while (0)

int cref_open(cref_t* c, const char* lib, const char* model, int threads, char* err, size_t errlen) {
	void* h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(err, errlen, "dlopen %s: %s", lib, dlerror());
		return -1;
	}
	const OrtApiBase* (*getBase)(void) = (const OrtApiBase* (*)(void))dlsym(h, "OrtGetApiBase");
	if (!getBase) {
		snprintf(err, errlen, "OrtGetApiBase not found in %s", lib);
		return -1;
	}
	c->api = getBase()->GetApi(ORT_API_VERSION);
	if (!c->api) {
		snprintf(err, errlen, "ONNX Runtime %s does not offer C API version %d", getBase()->GetVersionString(), ORT_API_VERSION);
		return -1;
	}
	CHECK(c->api->CreateEnv(ORT_LOGGING_LEVEL_ERROR, "cref", &c->env));
	CHECK(c->api->CreateSessionOptions(&c->so));
	// The same explicit settings as harness/ortbackend's defaults.
	CHECK(c->api->SetIntraOpNumThreads(c->so, threads));
	CHECK(c->api->SetInterOpNumThreads(c->so, 1));
	CHECK(c->api->SetSessionExecutionMode(c->so, ORT_SEQUENTIAL));
	CHECK(c->api->SetSessionGraphOptimizationLevel(c->so, ORT_ENABLE_ALL));
	CHECK(c->api->AddSessionConfigEntry(c->so, "session.intra_op.allow_spinning", "0"));
	CHECK(c->api->AddSessionConfigEntry(c->so, "session.inter_op.allow_spinning", "0"));
	CHECK(c->api->CreateSession(c->env, model, c->so, &c->sess));
	CHECK(c->api->CreateCpuMemoryInfo(OrtArenaAllocator, OrtMemTypeDefault, &c->mi));
	return 0;
}

int cref_bind(cref_t* c, int is_input, int k, const char* name, int type, const int64_t* shape, size_t ndim,
              const void* src, size_t size, char* err, size_t errlen) {
	cref_tensor_t* t = is_input ? &c->in[k] : &c->out[k];
	t->name = strdup(name);
	t->size = size;
	t->mem = aligned_alloc(64, (size + 63) / 64 * 64);
	memset(t->mem, 0, size);
	if (src) {
		t->src = malloc(size);
		memcpy(t->src, src, size);
	}
	CHECK(c->api->CreateTensorWithDataAsOrtValue(c->mi, t->mem, size, shape, ndim, (ONNXTensorElementDataType)type, &t->value));
	return 0;
}

static inline int64_t now_ns(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

// cref_loop times n inferences back to back: copy the input set in, run, read one byte of
// every output. Latencies (ns) go to out_ns.
int cref_loop(cref_t* c, int64_t n, int64_t* out_ns, char* err, size_t errlen) {
	const char* in_names[CREF_MAX];
	const char* out_names[CREF_MAX];
	const OrtValue* ins[CREF_MAX];
	OrtValue* outs[CREF_MAX];
	for (int k = 0; k < c->nin; k++) {
		in_names[k] = c->in[k].name;
		ins[k] = c->in[k].value;
	}
	for (int k = 0; k < c->nout; k++) {
		out_names[k] = c->out[k].name;
		outs[k] = c->out[k].value;
	}
	volatile unsigned char sink = 0;
	for (int64_t i = 0; i < n; i++) {
		int64_t t0 = now_ns();
		for (int k = 0; k < c->nin; k++) memcpy(c->in[k].mem, c->in[k].src, c->in[k].size);
		OrtStatus* st = c->api->Run(c->sess, NULL, in_names, ins, c->nin, out_names, c->nout, outs);
		for (int k = 0; k < c->nout; k++) sink ^= ((unsigned char*)c->out[k].mem)[0];
		int64_t t1 = now_ns();
		if (st) {
			snprintf(err, errlen, "Run: %s", c->api->GetErrorMessage(st));
			c->api->ReleaseStatus(st);
			return -1;
		}
		out_ns[i] = t1 - t0;
	}
	(void)sink;
	return 0;
}

void cref_close(cref_t* c) {
	for (int k = 0; k < c->nin; k++) {
		if (c->in[k].value) c->api->ReleaseValue(c->in[k].value);
		free(c->in[k].mem);
		free(c->in[k].src);
		free(c->in[k].name);
	}
	for (int k = 0; k < c->nout; k++) {
		if (c->out[k].value) c->api->ReleaseValue(c->out[k].value);
		free(c->out[k].mem);
		free(c->out[k].name);
	}
	if (c->sess) c->api->ReleaseSession(c->sess);
	if (c->so) c->api->ReleaseSessionOptions(c->so);
	if (c->mi) c->api->ReleaseMemoryInfo(c->mi);
	// The env is ONNX Runtime's process-wide singleton, shared with onnxruntime_go: not released.
}
