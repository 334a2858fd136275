// Package ortlib finds and loads the ONNX Runtime shared library that tailgate times models
// with. It owns the search order (flag, environment, the Makefile's pinned cache) and the
// one-time initialisation of the runtime; it does not create sessions or run models.
package ortlib

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	ort "github.com/yalue/onnxruntime_go"
)

// PinnedVersion is the ONNX Runtime release the Makefile installs and tailgate is tested with.
const PinnedVersion = "1.30.0"

// PinnedSHA256 maps the cache architecture name to the SHA-256 of the pinned library taken from
// the onnxruntime-node npm package.
var PinnedSHA256 = map[string]string{
	"x64":   "ffb75a925ba05e47b235bb66e3e3911714a80b328a9c9425539feb204aa32a23",
	"arm64": "1f549d46250b005580b597f4164984aaf75b3bcb9f3aeb07c7f8a8fe60b23c76",
}

// EnvVar names the environment variable that may point at the library.
const EnvVar = "ONNXRUNTIME_LIB"

// CacheArch is the architecture folder name the Makefile uses for this build (x64 or arm64).
func CacheArch() string {
	if runtime.GOARCH == "amd64" {
		return "x64"
	}
	return runtime.GOARCH
}

// CachePath is where `make ort` installs the pinned library below a cache root.
func CachePath(cacheRoot string) string {
	return filepath.Join(cacheRoot, "onnxruntime", PinnedVersion, CacheArch(), "libonnxruntime.so.1")
}

// Search is where to look for the library, in order of precedence. Empty fields are skipped.
type Search struct {
	Flag      string   // --ort-lib
	Env       string   // value of $ONNXRUNTIME_LIB, read by cmd
	CacheDirs []string // cache roots (e.g. ./.cache and the one beside the executable)
}

// NotFoundError says the library was not found and lists every place that was tried.
type NotFoundError struct{ Tried []string }

func (e *NotFoundError) Error() string {
	msg := "ONNX Runtime library not found; looked in:"
	for _, t := range e.Tried {
		msg += "\n  " + t
	}
	return msg + "\nrun 'make ort' (installs " + PinnedVersion + "), or pass --ort-lib PATH or set " + EnvVar
}

// Locate returns the first library path that exists. An explicit flag or environment value that
// does not exist is an error of its own: the user asked for that file.
func Locate(s Search) (string, error) {
	for _, c := range []struct{ name, path string }{{"--ort-lib", s.Flag}, {"$" + EnvVar, s.Env}} {
		if c.path == "" {
			continue
		}
		if _, err := os.Stat(c.path); err != nil {
			return "", fmt.Errorf("%s %s: %w", c.name, c.path, err)
		}
		return c.path, nil
	}
	var tried []string
	for _, d := range s.CacheDirs {
		p := CachePath(d)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		tried = append(tried, p)
	}
	return "", &NotFoundError{Tried: tried}
}

// Library describes the loaded runtime.
type Library struct {
	Path    string `json:"path"`
	Version string `json:"version"`
	SHA256  string `json:"sha256"`
}

var (
	loadOnce sync.Once
	loaded   Library
	loadErr  error
)

// Load initialises ONNX Runtime from path once per process. Later calls return the first
// result; loading a second, different library into one process is refused.
func Load(path string) (Library, error) {
	loadOnce.Do(func() {
		sum, err := FileSHA256(path)
		if err != nil {
			loadErr = fmt.Errorf("ONNX Runtime library %s: %w", path, err)
			return
		}
		ort.SetSharedLibraryPath(path)
		if err := ort.InitializeEnvironment(ort.WithLogLevelError()); err != nil {
			loadErr = fmt.Errorf("ONNX Runtime library %s: %w", path, err)
			return
		}
		_ = ort.DisableTelemetry()
		loaded = Library{Path: path, Version: ort.GetVersion(), SHA256: sum}
	})
	if loadErr == nil && loaded.Path != path {
		abs1, _ := filepath.Abs(loaded.Path)
		abs2, _ := filepath.Abs(path)
		if abs1 != abs2 {
			return loaded, fmt.Errorf("ONNX Runtime already loaded from %s; cannot also load %s", loaded.Path, path)
		}
	}
	return loaded, loadErr
}

// FileSHA256 returns the hex SHA-256 of a file.
func FileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
