package main

import (
	"os"
	"path/filepath"

	"github.com/spf13/pflag"
	"github.com/tailgate-ci/tailgate/harness/ortlib"
)

// ortSearch builds the library search order: --ort-lib, $ONNXRUNTIME_LIB, then the pinned
// cache under the working directory, beside the executable and under $TAILGATE_CACHE.
func ortSearch(e *env, flagPath string) ortlib.Search {
	s := ortlib.Search{Flag: flagPath, Env: e.getenv(ortlib.EnvVar)}
	if c := e.getenv("TAILGATE_CACHE"); c != "" {
		s.CacheDirs = append(s.CacheDirs, c)
	}
	if wd, err := os.Getwd(); err == nil {
		s.CacheDirs = append(s.CacheDirs, filepath.Join(wd, ".cache"))
	}
	if exe, err := os.Executable(); err == nil {
		dir := filepath.Dir(exe)
		s.CacheDirs = append(s.CacheDirs, filepath.Join(dir, ".cache"), filepath.Join(dir, "..", ".cache"))
	}
	return s
}

// loadORT locates the library as ortSearch orders it and loads it.
func loadORT(e *env, flagPath string) (ortlib.Library, error) {
	p, err := ortlib.Locate(ortSearch(e, flagPath))
	if err != nil {
		return ortlib.Library{}, err
	}
	return ortlib.Load(p)
}

// addORTFlag registers --ort-lib on fs.
func addORTFlag(fs *pflag.FlagSet, p *string) {
	fs.StringVar(p, "ort-lib", "", "path to libonnxruntime.so (default: $"+ortlib.EnvVar+", then the pinned cache from 'make ort')")
}
