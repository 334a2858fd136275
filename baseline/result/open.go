package result

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// MaxSmallFile bounds what ReadRegular reads: meta.json, reports and inputs are kilobytes,
// and a path that names something endless must fail, not fill memory.
const MaxSmallFile = 64 << 20

// OpenRegular opens path for reading if it is a regular file (after following symlinks), and
// refuses anything else by name: a FIFO would block a reader forever and a device such as
// /dev/zero never ends. The open does not block on a FIFO.
func OpenRegular(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s: not a regular file (%s)", path, st.Mode().Type())
	}
	return f, nil
}

// ReadRegular reads a regular file of at most MaxSmallFile bytes.
func ReadRegular(path string) ([]byte, error) {
	f, err := OpenRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxSmallFile+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(b) > MaxSmallFile {
		return nil, fmt.Errorf("%s: larger than %d MiB", path, MaxSmallFile>>20)
	}
	return b, nil
}

// CheckOutput refuses an output path that is one of the inputs or lies inside an input folder
// (`compare r1 r2 --out r1/meta.json` would destroy r1). Paths are compared after resolving
// symlinks, so a link does not disguise an input.
func CheckOutput(out string, inputs ...string) error {
	o, err := canonical(out)
	if err != nil {
		return err
	}
	for _, in := range inputs {
		if in == "" {
			continue
		}
		i, err := canonical(in)
		if err != nil {
			continue // an input that does not resolve fails where it is read
		}
		if o == i || strings.HasPrefix(o, i+string(filepath.Separator)) {
			return fmt.Errorf("%s would overwrite the input %s", out, in)
		}
	}
	return nil
}

// canonical is path made absolute with symlinks resolved, as far as it exists.
func canonical(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	dir, rest := abs, ""
	for {
		if r, err := filepath.EvalSymlinks(dir); err == nil {
			return filepath.Join(r, rest), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return abs, nil
		}
		rest = filepath.Join(filepath.Base(dir), rest)
		dir = parent
	}
}
