package ortlib_test

import (
	"testing"

	"github.com/tailgate-ci/tailgate/harness/ortlib"
	"github.com/tailgate-ci/tailgate/harness/ortlib/ortlibtest"
)

func TestLoadPinnedLibrary(t *testing.T) {
	lib := ortlibtest.Load(t)
	if lib.Version != ortlib.PinnedVersion {
		t.Errorf("loaded ONNX Runtime %q, pinned is %q", lib.Version, ortlib.PinnedVersion)
	}
	if want := ortlib.PinnedSHA256[ortlib.CacheArch()]; lib.SHA256 != want {
		t.Errorf("library SHA-256 %s, pinned %s", lib.SHA256, want)
	}
	again, err := ortlib.Load(lib.Path)
	if err != nil || again != lib {
		t.Errorf("second Load = %+v, %v; want the first result", again, err)
	}
}
