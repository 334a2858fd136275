package host

import "syscall"

// uname returns the running kernel's release and version strings.
func uname() (release, version string) {
	var u syscall.Utsname
	if err := syscall.Uname(&u); err != nil {
		return "", ""
	}
	return utsString(u.Release[:]), utsString(u.Version[:])
}

// utsString converts a NUL-terminated utsname field (int8 on amd64, uint8 on arm64).
func utsString[T int8 | uint8](b []T) string {
	out := make([]byte, 0, len(b))
	for _, c := range b {
		if c == 0 {
			break
		}
		out = append(out, byte(c))
	}
	return string(out)
}
