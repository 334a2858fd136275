#ifndef TAILGATE_CREF_H
#define TAILGATE_CREF_H
#include <stddef.h>
#include <stdint.h>
#include "onnxruntime_c_api.h"

#define CREF_MAX 16

typedef struct {
	char* name;
	OrtValue* value;
	void* mem;  // the tensor's own memory
	void* src;  // the prepared input set (inputs only)
	size_t size;
} cref_tensor_t;

typedef struct {
	const OrtApi* api;
	OrtEnv* env;
	OrtSessionOptions* so;
	OrtSession* sess;
	OrtMemoryInfo* mi;
	int nin, nout;
	cref_tensor_t in[CREF_MAX], out[CREF_MAX];
} cref_t;

int cref_open(cref_t* c, const char* lib, const char* model, int threads, char* err, size_t errlen);
int cref_bind(cref_t* c, int is_input, int k, const char* name, int type, const int64_t* shape, size_t ndim,
              const void* src, size_t size, char* err, size_t errlen);
int cref_loop(cref_t* c, int64_t n, int64_t* out_ns, char* err, size_t errlen);
void cref_close(cref_t* c);
#endif
