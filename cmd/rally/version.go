package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"text/tabwriter"

	"rally/payload"
)

// version is set at release build time:
//
//	go build -ldflags "-X main.version=1.2.3" ./cmd/rally
//
// Without it, the version comes from the VCS revision Go stamps into builds
// made in a checkout.
var version string

// versionCmd is `rally version`.
type versionCmd struct {
	JSON bool `name:"json" help:"Print the version as JSON on stdout."`
}

// Help is the detailed description shown by `rally version --help`.
func (versionCmd) Help() string {
	return `Prints the version (set at build time, else "devel" and the VCS revision the binary was built from), the Go toolchain and platform, and the SHA-256 of this executable: the checksum that names the worker build pushed to hosts.

Examples:

    rally version
    rally version --json`
}

// buildInfo is what `rally version --json` prints; its fields are stable.
type buildInfo struct {
	Version  string `json:"version"`
	Revision string `json:"revision,omitempty"`
	Modified bool   `json:"modified,omitempty"`
	Time     string `json:"time,omitempty"` // commit time, RFC 3339
	Go       string `json:"go"`
	OS       string `json:"os"`
	Arch     string `json:"arch"`
	SHA256   string `json:"sha256,omitempty"`
}

// Run prints the version.
func (c *versionCmd) Run(ctx context.Context, e *env) error {
	info := readBuildInfo()
	sum, err := executableSHA256()
	if err != nil {
		return fmt.Errorf("checksum of the executable: %w", err)
	}
	info.SHA256 = sum
	if c.JSON {
		enc := json.NewEncoder(e.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(info)
	}
	return writeVersion(e.Stdout, info)
}

func writeVersion(w io.Writer, info buildInfo) error {
	fmt.Fprintf(w, "rally %s\n", info.Version)
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
	if info.Revision != "" {
		rev := info.Revision
		if info.Modified {
			rev += " (modified)"
		}
		fmt.Fprintf(tw, "  revision:\t%s\n", rev)
	}
	if info.Time != "" {
		fmt.Fprintf(tw, "  committed:\t%s\n", info.Time)
	}
	fmt.Fprintf(tw, "  go:\t%s %s/%s\n", info.Go, info.OS, info.Arch)
	fmt.Fprintf(tw, "  sha256:\t%s\n", info.SHA256)
	return tw.Flush()
}

// readBuildInfo collects the version from -ldflags and the build info Go
// embeds (VCS revision, modified flag, commit time).
func readBuildInfo() buildInfo {
	info := buildInfo{Version: version, Go: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				info.Revision = s.Value
			case "vcs.modified":
				info.Modified = s.Value == "true"
			case "vcs.time":
				info.Time = s.Value
			}
		}
	}
	if info.Version == "" {
		info.Version = "devel"
		if info.Revision != "" {
			info.Version += "-" + shortRev(info.Revision)
			if info.Modified {
				info.Version += "-dirty"
			}
		}
	}
	return info
}

// versionString is the one-line version, e.g. "1.2.3" or
// "devel-1a2b3c4d5e6f-dirty".
func versionString() string { return readBuildInfo().Version }

func shortRev(rev string) string {
	if len(rev) > 12 {
		return rev[:12]
	}
	return rev
}

// executableSHA256 hashes the running binary: the same checksum names the
// worker build pushed to hosts.
func executableSHA256() (string, error) {
	path, err := os.Executable()
	if err != nil {
		return "", err
	}
	return payload.FileSHA256(path)
}
