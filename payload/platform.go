package payload

import (
	"fmt"
	"strings"
)

// Platform is an operating system and CPU architecture, in Go's terms.
type Platform struct {
	OS, Arch string
}

// String returns "linux/amd64".
func (p Platform) String() string { return p.OS + "/" + p.Arch }

// unameMachines maps `uname -m` outputs to Go architectures.
var unameMachines = map[string]string{
	"x86_64":  "amd64",
	"amd64":   "amd64",
	"aarch64": "arm64",
	"arm64":   "arm64",
}

// ParseUname reads the output of `uname -sm` (ProbeHost runs it) ("Linux x86_64", "Linux
// aarch64", "Linux arm64"). Only Linux on amd64 and arm64 is supported.
func ParseUname(out string) (Platform, error) {
	fields := strings.Fields(out)
	if len(fields) != 2 {
		return Platform{}, fmt.Errorf("unexpected `uname -sm` output %q: want kernel and machine, like \"Linux x86_64\"", out)
	}
	kernel, machine := fields[0], fields[1]
	arch, ok := unameMachines[machine]
	if kernel != "Linux" || !ok {
		return Platform{}, fmt.Errorf("unsupported platform %q: rally workers run on Linux x86_64 (amd64) and aarch64 (arm64)", kernel+" "+machine)
	}
	return Platform{OS: "linux", Arch: arch}, nil
}
