//go:build !linux

package host

// uname is empty off Linux: the proc files are the only source there.
func uname() (release, version string) { return "", "" }
