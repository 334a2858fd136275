package host

import (
	"bufio"
	"fmt"
	"strings"
)

// CPUInfo is what tailgate takes from /proc/cpuinfo.
type CPUInfo struct {
	// Model is the CPU model: "model name" on x86, the ARM core name derived from
	// "CPU implementer"/"CPU part" on arm64 (e.g. "ARM Cortex-A76").
	Model string
	// Processors counts the "processor" entries.
	Processors int
	// Arch is the architecture the file's layout implies: "amd64", "arm64", or "" when unclear.
	Arch string
	// BoardModel is the "Model" line some arm64 kernels (Raspberry Pi) add at the end.
	BoardModel string
}

// armImplementers maps "CPU implementer" to the vendor name.
var armImplementers = map[string]string{
	"0x41": "ARM", "0x42": "Broadcom", "0x43": "Cavium", "0x48": "HiSilicon",
	"0x4e": "NVIDIA", "0x51": "Qualcomm", "0x61": "Apple", "0xc0": "Ampere",
}

// armParts maps an ARM Ltd "CPU part" to the core name (from the Technical Reference Manuals'
// MIDR_EL1.PartNum values).
var armParts = map[string]string{
	"0xd03": "Cortex-A53", "0xd04": "Cortex-A35", "0xd05": "Cortex-A55", "0xd07": "Cortex-A57",
	"0xd08": "Cortex-A72", "0xd09": "Cortex-A73", "0xd0a": "Cortex-A75", "0xd0b": "Cortex-A76",
	"0xd0c": "Neoverse-N1", "0xd0d": "Cortex-A77", "0xd0e": "Cortex-A76AE", "0xd40": "Neoverse-V1",
	"0xd41": "Cortex-A78", "0xd44": "Cortex-X1", "0xd46": "Cortex-A510", "0xd47": "Cortex-A710",
	"0xd48": "Cortex-X2", "0xd49": "Neoverse-N2", "0xd4b": "Cortex-A78C", "0xd4d": "Cortex-A715",
	"0xd4e": "Cortex-X3", "0xd4f": "Neoverse-V2", "0xd80": "Cortex-A520", "0xd81": "Cortex-A720",
	"0xd82": "Cortex-X4",
}

// ParseCPUInfo reads /proc/cpuinfo text. Unknown ARM parts are named by their ids
// ("ARM part 0xd99") rather than dropped, so two different cores never share a name.
func ParseCPUInfo(text string) CPUInfo {
	var ci CPUInfo
	var implementer, part string
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		key, val = strings.TrimSpace(key), strings.TrimSpace(val)
		switch key {
		case "processor":
			ci.Processors++
		case "model name":
			if ci.Model == "" {
				ci.Model = val
			}
		case "vendor_id":
			ci.Arch = "amd64"
		case "CPU implementer":
			ci.Arch = "arm64"
			if implementer == "" {
				implementer = strings.ToLower(val)
			}
		case "CPU part":
			if part == "" {
				part = strings.ToLower(val)
			}
		case "Model":
			ci.BoardModel = val
		}
	}
	if ci.Model == "" && (implementer != "" || part != "") {
		vendor := armImplementers[implementer]
		if vendor == "" {
			vendor = "implementer " + implementer
		}
		name := ""
		if implementer == "0x41" {
			name = armParts[part]
		}
		if name == "" {
			name = fmt.Sprintf("part %s", part)
		}
		ci.Model = vendor + " " + name
	}
	return ci
}
