package inputs

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// NPY is a decoded .npy array. Data is always little-endian, converted if the file was not.
type NPY struct {
	Type  ElemType
	Shape []int64
	Data  []byte
}

var npyMagic = []byte("\x93NUMPY")

// npyDescr maps a NumPy dtype kind and size (descr without its byte-order character) to a type.
var npyDescr = map[string]ElemType{
	"f2": Float16, "f4": Float32, "f8": Float64,
	"i1": Int8, "i2": Int16, "i4": Int32, "i8": Int64,
	"u1": Uint8, "u2": Uint16, "u4": Uint32, "u8": Uint64,
	"b1": Bool,
}

// NPYDescr returns the little-endian NumPy descr of a type, e.g. "<f4" or "|b1".
func NPYDescr(t ElemType) string {
	for d, tt := range npyDescr {
		if tt == t {
			if t.Size() == 1 {
				return "|" + d
			}
			return "<" + d
		}
	}
	return ""
}

// ParseNPY decodes a .npy file (format versions 1.0, 2.0 and 3.0) holding a C-ordered array of a
// numeric type. Fortran order, structured and object dtypes are refused.
func ParseNPY(b []byte) (NPY, error) {
	if len(b) < 10 || !bytes.Equal(b[:6], npyMagic) {
		return NPY{}, errors.New("not a .npy file (bad magic)")
	}
	major := b[6]
	var hlen, off int
	switch major {
	case 1:
		hlen, off = int(binary.LittleEndian.Uint16(b[8:10])), 10
	case 2, 3:
		if len(b) < 12 {
			return NPY{}, errors.New(".npy header truncated")
		}
		h := binary.LittleEndian.Uint32(b[8:12])
		if uint64(h) > uint64(len(b)) {
			return NPY{}, fmt.Errorf(".npy header length %d exceeds the file", h)
		}
		hlen, off = int(h), 12
	default:
		return NPY{}, fmt.Errorf(".npy format version %d.%d not supported (want 1, 2 or 3)", major, b[7])
	}
	if off+hlen > len(b) {
		return NPY{}, fmt.Errorf(".npy header length %d exceeds the file", hlen)
	}
	dict, err := parsePyDict(string(b[off : off+hlen]))
	if err != nil {
		return NPY{}, fmt.Errorf(".npy header: %w", err)
	}
	descr, ok := dict["descr"].(string)
	if !ok {
		return NPY{}, errors.New(".npy header: 'descr' missing or not a simple dtype string")
	}
	fortran, ok := dict["fortran_order"].(bool)
	if !ok {
		return NPY{}, errors.New(".npy header: 'fortran_order' missing or not a bool")
	}
	if fortran {
		return NPY{}, errors.New(".npy array is in Fortran order; save it C-ordered (np.ascontiguousarray)")
	}
	shape, ok := dict["shape"].([]int64)
	if !ok {
		return NPY{}, errors.New(".npy header: 'shape' missing or not a tuple of integers")
	}
	if len(descr) != 3 {
		return NPY{}, fmt.Errorf(".npy dtype %q not supported", descr)
	}
	t, ok := npyDescr[descr[1:]]
	if !ok {
		return NPY{}, fmt.Errorf(".npy dtype %q not supported (want a numeric or bool dtype)", descr)
	}
	order := descr[0]
	if order != '<' && order != '>' && order != '|' && order != '=' {
		return NPY{}, fmt.Errorf(".npy dtype %q has an unknown byte order", descr)
	}
	n := int64(1)
	for _, d := range shape {
		if d < 0 || (d > 0 && n > MaxElements/d) {
			return NPY{}, fmt.Errorf(".npy shape %v is invalid or has more than %d elements", shape, MaxElements)
		}
		n *= d
	}
	data := b[off+hlen:]
	if want := n * int64(t.Size()); int64(len(data)) != want {
		return NPY{}, fmt.Errorf(".npy data is %d bytes; shape %v of %s needs %d", len(data), shape, t, want)
	}
	out := make([]byte, len(data))
	copy(out, data)
	if order == '>' && t.Size() > 1 {
		swapBytes(out, t.Size())
	}
	return NPY{Type: t, Shape: shape, Data: out}, nil
}

func swapBytes(b []byte, size int) {
	for i := 0; i+size <= len(b); i += size {
		for l, r := i, i+size-1; l < r; l, r = l+1, r-1 {
			b[l], b[r] = b[r], b[l]
		}
	}
}

// EncodeNPY writes a version 1.0 .npy file (2.0 when the header needs it) of little-endian
// data; tests and users preparing input files use it.
func EncodeNPY(t ElemType, shape []int64, data []byte) []byte {
	dims := make([]string, len(shape))
	for i, d := range shape {
		dims[i] = strconv.FormatInt(d, 10)
	}
	tuple := strings.Join(dims, ", ")
	if len(shape) == 1 {
		tuple += ","
	}
	header := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", NPYDescr(t), tuple)
	// The header is padded with spaces and a newline so the data starts 64-byte aligned.
	pre := 10
	if len(header)+1+pre > 65535 {
		pre = 12
	}
	pad := 64 - (pre+len(header)+1)%64
	if pad == 64 {
		pad = 0
	}
	header += strings.Repeat(" ", pad) + "\n"
	var buf bytes.Buffer
	buf.Write(npyMagic)
	if pre == 10 {
		buf.Write([]byte{1, 0})
		_ = binary.Write(&buf, binary.LittleEndian, uint16(len(header)))
	} else {
		buf.Write([]byte{2, 0})
		_ = binary.Write(&buf, binary.LittleEndian, uint32(len(header)))
	}
	buf.WriteString(header)
	buf.Write(data)
	return buf.Bytes()
}

// parsePyDict parses the Python dict literal of a .npy header: string keys; values that are
// strings, True/False, or tuples of integers. Anything else (e.g. a structured dtype's list) is
// an error.
func parsePyDict(s string) (map[string]any, error) {
	p := &pyParser{s: s}
	p.space()
	if !p.eat('{') {
		return nil, errors.New("want a dict literal starting with '{'")
	}
	out := map[string]any{}
	for {
		p.space()
		if p.eat('}') {
			break
		}
		key, err := p.str()
		if err != nil {
			return nil, fmt.Errorf("key: %w", err)
		}
		p.space()
		if !p.eat(':') {
			return nil, fmt.Errorf("want ':' after key %q", key)
		}
		p.space()
		val, err := p.value()
		if err != nil {
			return nil, fmt.Errorf("value of %q: %w", key, err)
		}
		if _, dup := out[key]; dup {
			return nil, fmt.Errorf("key %q repeated", key)
		}
		out[key] = val
		p.space()
		if p.eat(',') {
			continue
		}
		p.space()
		if !p.eat('}') {
			return nil, fmt.Errorf("want ',' or '}' at offset %d", p.i)
		}
		break
	}
	p.space()
	if p.i != len(p.s) {
		return nil, fmt.Errorf("unexpected text after the dict at offset %d", p.i)
	}
	return out, nil
}

type pyParser struct {
	s string
	i int
}

func (p *pyParser) space() {
	for p.i < len(p.s) && strings.IndexByte(" \t\n\r", p.s[p.i]) >= 0 {
		p.i++
	}
}

func (p *pyParser) eat(c byte) bool {
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *pyParser) str() (string, error) {
	if p.i >= len(p.s) || (p.s[p.i] != '\'' && p.s[p.i] != '"') {
		return "", fmt.Errorf("want a quoted string at offset %d", p.i)
	}
	q := p.s[p.i]
	end := strings.IndexByte(p.s[p.i+1:], q)
	if end < 0 {
		return "", errors.New("unterminated string")
	}
	v := p.s[p.i+1 : p.i+1+end]
	p.i += end + 2
	return v, nil
}

func (p *pyParser) value() (any, error) {
	switch {
	case strings.HasPrefix(p.s[p.i:], "True"):
		p.i += 4
		return true, nil
	case strings.HasPrefix(p.s[p.i:], "False"):
		p.i += 5
		return false, nil
	case p.eat('('):
		dims := []int64{}
		for {
			p.space()
			if p.eat(')') {
				return dims, nil
			}
			start := p.i
			for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
				p.i++
			}
			// NumPy writes Python ints; a trailing L is Python 2's long suffix.
			d, err := strconv.ParseInt(p.s[start:p.i], 10, 64)
			if err != nil {
				return nil, fmt.Errorf("want a non-negative integer dimension at offset %d", start)
			}
			p.eat('L')
			dims = append(dims, d)
			p.space()
			if p.eat(',') {
				continue
			}
			p.space()
			if !p.eat(')') {
				return nil, fmt.Errorf("want ',' or ')' at offset %d", p.i)
			}
			return dims, nil
		}
	}
	return p.str()
}
