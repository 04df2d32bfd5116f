package worker

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"

	"rally/actor"
)

// Facts describes this host for the hello: host name, platform, kernel
// release, CPUs and total memory. What cannot be read stays empty.
func Facts() actor.HostFacts {
	host, _ := os.Hostname()
	f := actor.HostFacts{
		Hostname: host,
		OS:       runtime.GOOS,
		Arch:     runtime.GOARCH,
		Kernel:   kernelRelease(),
		CPUs:     runtime.NumCPU(),
	}
	if mi, err := os.Open("/proc/meminfo"); err == nil {
		f.MemoryBytes, _ = parseMemTotal(mi)
		mi.Close()
	}
	return f
}

// parseMemTotal reads the MemTotal line of /proc/meminfo ("MemTotal:
// 16318480 kB") and returns it in bytes.
func parseMemTotal(r io.Reader) (int64, error) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:")
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) != 2 || fields[1] != "kB" {
			return 0, fmt.Errorf("meminfo: MemTotal line %q: want \"<n> kB\"", sc.Text())
		}
		kb, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil || kb < 0 || kb > 1<<53 {
			return 0, fmt.Errorf("meminfo: MemTotal %q is not a size in kB", fields[0])
		}
		return kb * 1024, nil
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("meminfo: %w", err)
	}
	return 0, fmt.Errorf("meminfo: no MemTotal line")
}
