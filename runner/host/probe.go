package host

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
)

// Probe takes the telemetry sampler's per-interval readings without allocating once it has
// warmed up: the files stay open and are re-read from offset 0 into buffers it keeps, and
// /proc/interrupts is parsed in place for the measured CPUs' columns only. The GC is off while
// a run is timed, so whatever a reading allocates stays on the heap until the run ends.
//
// The readings mean what FS.CPUTempC, FS.CurFreqKHz, FS.InterruptsPerCPU, FS.ReadLoadAvg and
// the sysfs or hwmon throttle sources return; a Probe is for one goroutine at a time.
type Probe struct {
	fs    FS
	cpus  []int
	zones []probeZone
	freq  []*rereader // per measured CPU; nil when it has no cpufreq
	irq   *rereader
	load  *rereader
	thr   *rereader
	// thrRel is thr's path below the root, for messages.
	thrRel string
	// thrHwmon says thr is rpi_volt's in0_lcrit_alarm rather than get_throttled.
	thrHwmon bool
	// col maps an interrupts column to its measured CPU's index (-1: not measured); reused.
	col []int
}

type probeZone struct {
	r         *rereader
	preferred bool // "cpu-thermal" or "x86_pkg_temp": CPUTempC takes it over the hottest
}

// rereader is an open file re-read from offset 0 into a buffer that only ever grows.
type rereader struct {
	f    *os.File
	path string
	buf  []byte
}

func openRereader(path string) (*rereader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	return &rereader{f: f, path: path, buf: make([]byte, 0, 256)}, nil
}

// read returns the whole file as it is now. The slice is valid until the next read.
func (r *rereader) read() ([]byte, error) {
	b := r.buf[:0]
	for {
		if len(b) == cap(b) {
			b = slices.Grow(b, cap(b))
		}
		n, err := r.f.ReadAt(b[len(b):cap(b)], int64(len(b)))
		b = b[:len(b)+n]
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			r.buf = b[:0]
			return nil, err
		}
		if n == 0 {
			break
		}
	}
	r.buf = b[:0]
	return b, nil
}

func (r *rereader) close() error {
	if r == nil {
		return nil
	}
	return r.f.Close()
}

// OpenProbe opens the readings for cpus below f's root. Readings the host does not offer (no
// thermal zone, no cpufreq, not a Raspberry Pi) are left out and report ErrUnavailable. Failing
// to open /proc/interrupts or /proc/loadavg when they exist is an error, but the probe returned
// with it still works: those readings report the open error's absence as ErrUnavailable.
func (f FS) OpenProbe(cpus []int) (*Probe, error) {
	p := &Probe{fs: f, cpus: slices.Clone(cpus), freq: make([]*rereader, len(cpus))}
	var errs []error
	dirs, _ := f.Glob("sys/class/thermal/thermal_zone*")
	for _, d := range dirs {
		r, err := openRereader(f.Path(d + "/temp"))
		if err != nil {
			continue
		}
		typ, _ := f.ReadString(d + "/type")
		p.zones = append(p.zones, probeZone{r: r, preferred: typ == "cpu-thermal" || typ == "x86_pkg_temp"})
	}
	for i, c := range cpus {
		if r, err := openRereader(f.Path(cpuDir(c) + "/cpufreq/scaling_cur_freq")); err == nil {
			p.freq[i] = r
		}
	}
	for _, x := range []struct {
		rel string
		dst **rereader
	}{{"proc/interrupts", &p.irq}, {"proc/loadavg", &p.load}} {
		r, err := openRereader(f.Path(x.rel))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
		*x.dst = r
	}
	if s, ok := FindSysfsThrottle(f); ok {
		p.thr, _ = openRereader(f.Path(s.path))
		p.thrRel = s.path
	} else if h, ok := FindHwmonUnderVoltage(f); ok {
		p.thr, _ = openRereader(f.Path(h.path))
		p.thrRel, p.thrHwmon = h.path, true
	}
	return p, errors.Join(errs...)
}

// Close closes the probe's files.
func (p *Probe) Close() error {
	var errs []error
	for _, z := range p.zones {
		errs = append(errs, z.r.close())
	}
	for _, r := range p.freq {
		errs = append(errs, r.close())
	}
	errs = append(errs, p.irq.close(), p.load.close(), p.thr.close())
	return errors.Join(errs...)
}

// CPUs returns the measured CPUs the probe was opened for.
func (p *Probe) CPUs() []int { return p.cpus }

// CPUTempC is FS.CPUTempC without the zone: the preferred zone's temperature, else the
// hottest readable one.
func (p *Probe) CPUTempC() (float64, error) {
	best, found := 0.0, false
	for _, z := range p.zones {
		b, err := z.r.read()
		if err != nil {
			continue // a sleeping sensor reports EIO; CPUTempC skips it too
		}
		milli, ok := parseInt(b)
		if !ok {
			continue
		}
		c := float64(milli) / 1000
		if z.preferred {
			return c, nil
		}
		if !found || c > best {
			best, found = c, true
		}
	}
	if !found {
		return 0, errNoTemp
	}
	return best, nil
}

var (
	errNoTemp     = fmt.Errorf("CPU temperature: no readable thermal zone: %w", ErrUnavailable)
	errNoFreq     = fmt.Errorf("cpu frequency: %w", ErrUnavailable)
	errNoThrottle = fmt.Errorf("throttle word: %w", ErrUnavailable)
	errNoLoad     = fmt.Errorf("load average: %w", ErrUnavailable)
	errNoIRQ      = fmt.Errorf("interrupts: %w", ErrUnavailable)
)

// CurFreqKHz is FS.CurFreqKHz of the i-th measured CPU (an index into CPUs, not a CPU id).
func (p *Probe) CurFreqKHz(i int) (int64, error) {
	r := p.freq[i]
	if r == nil {
		return 0, errNoFreq
	}
	b, err := r.read()
	if err != nil {
		return 0, err
	}
	n, ok := parseInt(b)
	if !ok {
		return 0, fmt.Errorf("%s: %q is not a number", r.path, b)
	}
	return n, nil
}

// Throttled reads the sysfs get_throttled node or, where only that exists, rpi_volt's
// under-voltage alarm, as FindThrottleSource would pick them (vcgencmd, a process per
// reading, is never probed). ErrUnavailable when the host has neither.
func (p *Probe) Throttled() (Throttled, error) {
	if p.thr == nil {
		return 0, errNoThrottle
	}
	b, err := p.thr.read()
	if err != nil {
		return 0, err
	}
	if p.thrHwmon {
		n, ok := parseInt(b)
		if !ok {
			return 0, fmt.Errorf("%s: %q is not a number", p.thr.path, b)
		}
		if n != 0 {
			return UnderVoltageNow, nil
		}
		return 0, nil
	}
	v := trimSpace(b)
	if len(v) > 2 && v[0] == '0' && (v[1] == 'x' || v[1] == 'X') {
		v = v[2:]
	}
	var n uint64
	for _, c := range v {
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, fmt.Errorf("%s: get_throttled %q: not a hex word", p.thr.path, v)
		}
		n = n<<4 | uint64(d)
		if n > 0xffffffff {
			return 0, fmt.Errorf("%s: get_throttled %q: not a hex word", p.thr.path, v)
		}
	}
	if len(v) == 0 {
		return 0, fmt.Errorf("%s: get_throttled is empty", p.thr.path)
	}
	return Throttled(n), nil
}

// HasThrottle reports whether the host offers a throttle reading the probe can take.
func (p *Probe) HasThrottle() bool { return p.thr != nil }

// ThrottleSource names the probed throttle node as the host would ("" when there is none).
func (p *Probe) ThrottleSource() string {
	if p.thr == nil {
		return ""
	}
	return p.fs.HostPath(p.thrRel)
}

// Load1 is ReadLoadAvg's one-minute load.
func (p *Probe) Load1() (float64, error) {
	if p.load == nil {
		return 0, errNoLoad
	}
	b, err := p.load.read()
	if err != nil {
		return 0, err
	}
	v, ok := parseDecimal(firstField(b))
	if !ok {
		return 0, fmt.Errorf("%s: %q: no load average", p.load.path, b)
	}
	return v, nil
}

// InterruptsPerCPU is FS.InterruptsPerCPU into dst: dst[i] is the total interrupts the i-th
// measured CPU has taken since boot (0 when it has no column). dst must hold len(CPUs).
func (p *Probe) InterruptsPerCPU(dst []uint64) error {
	if p.irq == nil {
		return errNoIRQ
	}
	b, err := p.irq.read()
	if err != nil {
		return err
	}
	if err := p.sumInterrupts(b, dst); err != nil {
		return fmt.Errorf("%s: %w", p.irq.path, err)
	}
	return nil
}

// sumInterrupts parses /proc/interrupts in place, as ParseInterrupts and PerCPU would: a row's
// counts are its leading numeric fields, one per header column.
func (p *Probe) sumInterrupts(b []byte, dst []uint64) error {
	clear(dst[:len(p.cpus)])
	header, rest := cutLine(b)
	p.col = p.col[:0]
	for h := header; ; {
		var tok []byte
		tok, h = nextField(h)
		if tok == nil {
			break
		}
		if len(tok) < 4 || string(tok[:3]) != "CPU" {
			return fmt.Errorf("interrupts header: %q is not CPUn", tok)
		}
		n, ok := parseInt(tok[3:])
		if !ok || n < 0 {
			return fmt.Errorf("interrupts header: %q is not CPUn", tok)
		}
		p.col = append(p.col, slices.Index(p.cpus, int(n)))
	}
	if len(p.col) == 0 {
		return errors.New("interrupts header: no CPU columns")
	}
	last := -1 // the last column a measured CPU has: fields past it are never read
	for i, m := range p.col {
		if m >= 0 {
			last = i
		}
	}
	for len(rest) > 0 {
		var line []byte
		line, rest = cutLine(rest)
		colon := -1
		for i, c := range line {
			if c == ':' {
				colon = i
				break
			}
		}
		if colon < 0 {
			if len(trimSpace(line)) == 0 {
				continue
			}
			return errors.New("interrupts: a line has no \"NAME:\" prefix")
		}
		f := line[colon+1:]
		for i := 0; i <= last; i++ {
			var tok []byte
			tok, f = nextField(f)
			n, ok := parseUint(tok)
			if !ok {
				break
			}
			if m := p.col[i]; m >= 0 {
				dst[m] += n
			}
		}
	}
	for i, c := range p.cpus { // a CPU named twice got its column's sum once, at its first index
		if j := slices.Index(p.cpus, c); j != i {
			dst[i] = dst[j]
		}
	}
	return nil
}

// isSpace is unicode.IsSpace for ASCII, which is all the kernel writes in these files.
func isSpace(c byte) bool { return c == ' ' || c >= '\t' && c <= '\r' }

// trimSpace trims whitespace and NULs (device-tree strings end in one), as ReadString does.
func trimSpace(b []byte) []byte {
	for len(b) > 0 && (isSpace(b[0]) || b[0] == 0) {
		b = b[1:]
	}
	for len(b) > 0 && (isSpace(b[len(b)-1]) || b[len(b)-1] == 0) {
		b = b[:len(b)-1]
	}
	return b
}

func cutLine(b []byte) (line, rest []byte) {
	for i, c := range b {
		if c == '\n' {
			return b[:i], b[i+1:]
		}
	}
	return b, nil
}

// nextField returns the next whitespace-separated field of b (nil at the end) and what follows.
func nextField(b []byte) (field, rest []byte) {
	i := 0
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	if i == len(b) {
		return nil, nil
	}
	j := i
	for j < len(b) && !isSpace(b[j]) {
		j++
	}
	return b[i:j], b[j:]
}

func firstField(b []byte) []byte { f, _ := nextField(b); return f }

// parseUint parses a decimal without sign; false on anything else or overflow.
func parseUint(b []byte) (uint64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if n > (1<<64-1-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}

// parseInt parses one optionally signed decimal surrounded by whitespace, as ReadInt does.
func parseInt(b []byte) (int64, bool) {
	b = trimSpace(b)
	neg := len(b) > 0 && b[0] == '-'
	if neg || len(b) > 0 && b[0] == '+' {
		b = b[1:]
	}
	u, ok := parseUint(b)
	if !ok || u > 1<<63 || !neg && u == 1<<63 {
		return 0, false
	}
	if neg {
		return -int64(u), true
	}
	return int64(u), true
}

// pow10 holds the exactly representable powers of ten.
var pow10 = [...]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15}

// parseDecimal parses "12.34" as strconv.ParseFloat would: digits and fraction both fit in an
// exact float64 (below 2^53, at most 15 fraction digits), so one division rounds correctly.
func parseDecimal(b []byte) (float64, bool) {
	var m uint64
	frac, dot, digits := 0, false, 0
	for _, c := range b {
		switch {
		case c == '.' && !dot:
			dot = true
		case c >= '0' && c <= '9':
			m = m*10 + uint64(c-'0')
			digits++
			if dot {
				frac++
			}
		default:
			return 0, false
		}
	}
	if digits == 0 || digits > 15 || frac >= len(pow10) {
		return 0, false
	}
	return float64(m) / pow10[frac], true
}

// RSS reads the process's resident set from /proc/self/statm, kept open: the process is
// always the live one, whatever root the host readings come from.
type RSS struct {
	r    *rereader
	page int64
}

// OpenRSS opens /proc/self/statm.
func OpenRSS() (*RSS, error) {
	r, err := openRereader("/proc/self/statm")
	if err != nil {
		return nil, err
	}
	return &RSS{r: r, page: int64(os.Getpagesize())}, nil
}

// Bytes is the resident set in bytes.
func (s *RSS) Bytes() (int64, error) {
	b, err := s.r.read()
	if err != nil {
		return 0, err
	}
	_, rest := nextField(b)
	pages, ok := parseUint(firstField(rest))
	if !ok {
		return 0, fmt.Errorf("%s: %q: no resident pages", s.r.path, b)
	}
	return int64(pages) * s.page, nil
}

// Close closes the file.
func (s *RSS) Close() error { return s.r.close() }
