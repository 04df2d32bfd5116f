package payload

import (
	"context"
	"fmt"
	"strings"

	"rally/remote"
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

// ParseUname reads the output of `uname -sm` ("Linux x86_64", "Linux
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

// DetectPlatform runs `uname -sm` on the host.
func DetectPlatform(ctx context.Context, c *remote.Client) (Platform, error) {
	host := c.Target().Name
	res, err := c.Run(ctx, "uname -sm", nil)
	if err != nil {
		return Platform{}, fmt.Errorf("%s: detect platform: %w", host, err)
	}
	if res.ExitStatus != 0 {
		return Platform{}, fmt.Errorf("%s: detect platform: uname -sm exited with status %d: %s", host, res.ExitStatus, strings.TrimSpace(string(res.Stderr)))
	}
	p, err := ParseUname(string(res.Stdout))
	if err != nil {
		return Platform{}, fmt.Errorf("%s: detect platform: %w", host, err)
	}
	return p, nil
}
