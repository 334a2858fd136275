package importer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/tailgate-ci/tailgate/baseline/result"
)

// DefaultBackend is the fingerprint's backend of an imported result when neither a doctor
// capture nor a pin names one: results tailgate measured itself (ort, synthetic, exec) are
// then never mistaken for comparable with it.
const DefaultBackend = "import"

// Fingerprint assembles an imported result's environment: the host of a `tailgate doctor
// --format json` capture (doctor, when not empty), then each KEY=VALUE pin, KEY a meta.json
// env field (arch, kernel_release, preempt_rt, cpu_model, board, backend, ort_version,
// threads, cpus as 2,3, sched, ...).
func Fingerprint(doctor string, pins []string) (result.Fingerprint, error) {
	var fp result.Fingerprint
	if doctor != "" {
		var err error
		if fp, err = ReadDoctor(doctor); err != nil {
			return fp, err
		}
	}
	for _, p := range pins {
		if err := SetPin(&fp, p); err != nil {
			return fp, fmt.Errorf("--pin %q: %w", p, err)
		}
	}
	if fp.Backend == "" {
		fp.Backend = DefaultBackend
	}
	return fp, nil
}

// ReadDoctor reads the host fingerprint from a `tailgate doctor --format json` capture.
func ReadDoctor(path string) (result.Fingerprint, error) {
	b, err := result.ReadRegular(path)
	if err != nil {
		return result.Fingerprint{}, err
	}
	return ParseDoctor(path, b)
}

// ParseDoctor decodes a doctor JSON capture strictly (its root, CPUs, host and checks, and
// nothing else) and returns its host; name is used in errors.
func ParseDoctor(name string, b []byte) (result.Fingerprint, error) {
	var rep struct {
		Root   string             `json:"root"`
		CPUs   []int              `json:"cpus"`
		Host   result.Fingerprint `json:"host"`
		Checks json.RawMessage    `json:"checks"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rep); err != nil {
		return result.Fingerprint{}, fmt.Errorf("%s: not a `tailgate doctor --format json` capture: %w", name, err)
	}
	if dec.More() {
		return result.Fingerprint{}, fmt.Errorf("%s: trailing data after the JSON object", name)
	}
	if rep.Host.Arch == "" || rep.Checks == nil {
		return result.Fingerprint{}, fmt.Errorf("%s: not a `tailgate doctor --format json` capture: no host.arch or checks", name)
	}
	return rep.Host, nil
}

// fields maps the fingerprint's JSON names to its struct fields.
var fields = func() map[string]int {
	out := map[string]int{}
	t := reflect.TypeFor[result.Fingerprint]()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		out[name] = i
	}
	return out
}()

// SetPin sets one fingerprint field from KEY=VALUE, KEY its meta.json name. Numbers, booleans
// and CPU lists (comma-separated ids) are parsed; an unknown key is an error listing the
// known ones.
func SetPin(fp *result.Fingerprint, kv string) error {
	key, val, ok := strings.Cut(kv, "=")
	if !ok || key == "" {
		return fmt.Errorf("want KEY=VALUE")
	}
	i, ok := fields[key]
	if !ok {
		names := make([]string, 0, len(fields))
		for n := range fields {
			names = append(names, n)
		}
		sort.Strings(names)
		return fmt.Errorf("unknown key %q (known: %s)", key, strings.Join(names, ", "))
	}
	f := reflect.ValueOf(fp).Elem().Field(i)
	switch f.Kind() {
	case reflect.String:
		f.SetString(val)
	case reflect.Bool:
		v, err := strconv.ParseBool(val)
		if err != nil {
			return fmt.Errorf("%s: want true or false", key)
		}
		f.SetBool(v)
	case reflect.Int:
		v, err := strconv.Atoi(val)
		if err != nil || v < 0 {
			return fmt.Errorf("%s: want a whole number ≥ 0", key)
		}
		f.SetInt(int64(v))
	case reflect.Slice:
		var cpus []int
		for _, s := range strings.Split(val, ",") {
			v, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil || v < 0 {
				return fmt.Errorf("%s: want CPU ids separated by commas, e.g. 2,3", key)
			}
			cpus = append(cpus, v)
		}
		f.Set(reflect.ValueOf(cpus))
	default:
		return fmt.Errorf("%s cannot be pinned from a flag", key)
	}
	return nil
}
