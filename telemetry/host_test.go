package telemetry

import (
	"maps"
	"strings"
	"testing"
	"time"
)

func TestReadHost(t *testing.T) {
	requireLinux(t)
	h, err := ReadHost(fixtureProc)
	if err != nil {
		t.Fatal(err)
	}
	wantCPU := CPUTimes{User: 761156, Nice: 100, System: 117449, Idle: 959576, IOWait: 2262, SoftIRQ: 2312, Steal: 552}
	if h.CPU != wantCPU {
		t.Errorf("CPU = %+v, want %+v", h.CPU, wantCPU)
	}
	if h.Cores != 2 {
		t.Errorf("Cores = %d, want 2", h.Cores)
	}
	if h.MemoryTotal != 24683784*1024 || h.MemoryAvailable != 24071044*1024 {
		t.Errorf("memory = %d total, %d available", h.MemoryTotal, h.MemoryAvailable)
	}
	t.Run("disks are whole disks only, in bytes", func(t *testing.T) {
		want := map[string]DiskIO{
			"sda":     {ReadBytes: 19441058 * 512, WriteBytes: 24692776 * 512},
			"nvme0n1": {ReadBytes: 2000 * 512, WriteBytes: 4000 * 512},
			"mmcblk0": {ReadBytes: 20 * 512, WriteBytes: 40 * 512},
		}
		if !maps.Equal(h.Disks, want) {
			t.Errorf("Disks = %v\nwant %v", h.Disks, want)
		}
	})
	t.Run("interfaces skip lo and read counters glued to the colon", func(t *testing.T) {
		want := map[string]NetIO{
			"eth0":    {RxBytes: 528489345, TxBytes: 1262184},
			"eth1":    {RxBytes: 12345678901234, TxBytes: 98765432109},
			"docker0": {},
		}
		if !maps.Equal(h.Interfaces, want) {
			t.Errorf("Interfaces = %v\nwant %v", h.Interfaces, want)
		}
	})
	if h.Uptime != 9377740*time.Millisecond {
		t.Errorf("Uptime = %v, want 9377.74s", h.Uptime)
	}
}

func TestReadHost_names_the_file_that_failed(t *testing.T) {
	requireLinux(t)
	root := copyProc(t)
	writeFile(t, root, "meminfo", "MemFree: 12 kB\n")
	_, err := ReadHost(root)
	if err == nil || !strings.Contains(err.Error(), "meminfo: no MemTotal") {
		t.Fatalf("err = %v, want one naming meminfo", err)
	}
}

func TestCPUTimes(t *testing.T) {
	c := CPUTimes{User: 10, Nice: 1, System: 5, Idle: 80, IOWait: 2, IRQ: 1, SoftIRQ: 1, Steal: 0}
	if c.Total() != 100 || c.Busy() != 18 {
		t.Errorf("Total = %d, Busy = %d; want 100, 18", c.Total(), c.Busy())
	}
	if Ticks(250).Duration() != 2500*time.Millisecond {
		t.Errorf("250 ticks = %v", Ticks(250).Duration())
	}
	if Ticks(1<<62).Duration() <= 0 {
		t.Error("a huge tick count did not saturate")
	}
}

func TestParseCPU(t *testing.T) {
	var h HostSample
	if err := parseCPU([]byte("cpu  1 2 3 4\ncpu0 1 2 3 4\n"), &h); err != nil {
		t.Fatal(err)
	}
	if want := (CPUTimes{User: 1, Nice: 2, System: 3, Idle: 4}); h.CPU != want || h.Cores != 1 {
		t.Errorf("an old kernel's short line: %+v, %d cores", h.CPU, h.Cores)
	}
	for _, in := range []string{"", "intr 1 2\n", "cpu 1 2 3\n", "cpu 1 2 x 4\n", "cpu 1 2 3 4\ncpu 1 2 3 4\n", "cpu 1 2 3 18446744073709551615\n"} {
		if err := parseCPU([]byte(in), &HostSample{}); err == nil {
			t.Errorf("parseCPU(%q) took it", in)
		}
	}
}

func TestParseMeminfo(t *testing.T) {
	var h HostSample
	old := "MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 20 kB\nCached: 300 kB\n"
	if err := parseMeminfo([]byte(old), &h); err != nil {
		t.Fatal(err)
	}
	if h.MemoryAvailable != 420*1024 {
		t.Errorf("before 3.14, available = %d, want free+buffers+cached", h.MemoryAvailable)
	}
	for _, in := range []string{"", "MemTotal: 1000 kB\n", "MemTotal: x kB\nMemAvailable: 1 kB\n"} {
		if err := parseMeminfo([]byte(in), &HostSample{}); err == nil {
			t.Errorf("parseMeminfo(%q) took it", in)
		}
	}
}

func TestIsPartition(t *testing.T) {
	devices := map[string]bool{}
	for _, d := range []string{"sda", "sda1", "sdaa", "sdaa12", "xvdb", "xvdb2", "nvme0n1", "nvme0n1p1", "nvme10n1", "mmcblk0", "mmcblk0p2", "nbd0", "sr0", "vdb3"} {
		devices[d] = true
	}
	for name, want := range map[string]bool{
		"sda": false, "sda1": true, "sdaa": false, "sdaa12": true,
		"xvdb": false, "xvdb2": true,
		"nvme0n1": false, "nvme0n1p1": true, "nvme10n1": false,
		"mmcblk0": false, "mmcblk0p2": true,
		"nbd0": false, "sr0": false,
		"vdb3": false, // its disk is not listed: better counted than lost
	} {
		if got := isPartition(name, devices); got != want {
			t.Errorf("isPartition(%s) = %v, want %v", name, got, want)
		}
	}
}

func TestParseNetDev_rejects_short_lines(t *testing.T) {
	for _, in := range []string{"eth0: 1 2 3\n", "eth0: x 0 0 0 0 0 0 0 1\n", "eth0: 1 0 0 0 0 0 0 0 y\n"} {
		if err := parseNetDev([]byte(in), &HostSample{}); err == nil {
			t.Errorf("parseNetDev(%q) took it", in)
		}
	}
}

func TestParseUptime(t *testing.T) {
	for _, in := range []string{"", "x 1", "-1 2", "NaN 1", "1e300 1"} {
		if err := parseUptime([]byte(in), &HostSample{}); err == nil {
			t.Errorf("parseUptime(%q) took it", in)
		}
	}
}
