package telemetry

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// sectorSize is the unit of /proc/diskstats: always 512 bytes, whatever the
// device's own logical or physical sector size.
const sectorSize = 512

// HostSample is one reading of the whole host from /proc.
type HostSample struct {
	// CPU is the time all cores together spent in each state since boot.
	CPU CPUTimes
	// Cores is the number of cpuN lines of /proc/stat: the online CPUs.
	Cores int
	// MemoryTotal and MemoryAvailable are MemTotal and MemAvailable of
	// /proc/meminfo in bytes: available is what can be given to programs
	// without swapping, page cache included.
	MemoryTotal, MemoryAvailable uint64
	// Disks holds the bytes read and written by each whole disk since boot.
	Disks map[string]DiskIO
	// Interfaces holds the bytes received and sent by each network
	// interface but lo since it appeared.
	Interfaces map[string]NetIO
	// Uptime is the time since boot (/proc/uptime).
	Uptime time.Duration
}

// CPUTimes are the fields of the cpu line of /proc/stat, summed over all
// cores. Guest time is not listed: the kernel already counts it in User and
// Nice. They stay in clock ticks because the sum over many cores since boot
// can outgrow a time.Duration (292 years: 384 cores up for 10 months).
type CPUTimes struct {
	User, Nice, System, Idle, IOWait, IRQ, SoftIRQ, Steal Ticks
}

// Total is the time of all states together.
func (c CPUTimes) Total() Ticks {
	return c.User + c.Nice + c.System + c.Idle + c.IOWait + c.IRQ + c.SoftIRQ + c.Steal
}

// Busy is the time not spent idle or waiting for I/O, as psutil counts it
// (stolen time is busy: the core was not free for this host's work).
func (c CPUTimes) Busy() Ticks { return c.Total() - c.Idle - c.IOWait }

// Ticks is a count of USER_HZ clock ticks of 10 ms.
type Ticks uint64

// Duration converts t, saturating at the largest Duration.
func (t Ticks) Duration() time.Duration {
	if d, err := ticksToDuration(uint64(t)); err == nil {
		return d
	}
	return math.MaxInt64
}

// DiskIO is what a disk read and wrote, in bytes.
type DiskIO struct {
	ReadBytes  uint64 `json:"read-bytes"`
	WriteBytes uint64 `json:"write-bytes"`
}

// NetIO is what a network interface received and sent, in bytes.
type NetIO struct {
	RxBytes uint64 `json:"rx-bytes"`
	TxBytes uint64 `json:"tx-bytes"`
}

// ReadHost reads the host's CPU, memory, disks and network from procRoot
// (normally "/proc").
func ReadHost(procRoot string) (HostSample, error) {
	if err := supported(); err != nil {
		return HostSample{}, err
	}
	var h HostSample
	for _, f := range []struct {
		name  string
		parse func([]byte, *HostSample) error
	}{
		{"stat", parseCPU},
		{"meminfo", parseMeminfo},
		{"diskstats", parseDiskstats},
		{filepath.Join("net", "dev"), parseNetDev},
		{"uptime", parseUptime},
	} {
		path := filepath.Join(procRoot, f.name)
		b, err := os.ReadFile(path)
		if err != nil {
			return HostSample{}, fmt.Errorf("host: %w", err)
		}
		if err := f.parse(b, &h); err != nil {
			return HostSample{}, fmt.Errorf("host: %s: %w", path, err)
		}
	}
	return h, nil
}

// parseCPU reads the aggregate "cpu" line of /proc/stat and counts the
// "cpuN" lines. Kernels before 2.6.11 lack steal, before 2.6 iowait and the
// interrupt times: missing fields are zero. A field is at most 2^60 ticks,
// so that Total of eight cannot wrap around.
func parseCPU(b []byte, h *HostSample) error {
	var found bool
	for line := range bytes.Lines(b) {
		fields := bytes.Fields(line)
		if len(fields) == 0 || !bytes.HasPrefix(fields[0], []byte("cpu")) {
			continue
		}
		if len(fields[0]) > 3 {
			h.Cores++
			continue
		}
		if found {
			return errors.New("two cpu lines")
		}
		found = true
		times := []*Ticks{&h.CPU.User, &h.CPU.Nice, &h.CPU.System, &h.CPU.Idle,
			&h.CPU.IOWait, &h.CPU.IRQ, &h.CPU.SoftIRQ, &h.CPU.Steal}
		values := fields[1:]
		if len(values) < 4 {
			return fmt.Errorf("cpu line has %d fields, want at least 4", len(values))
		}
		for i, to := range times {
			if i >= len(values) {
				break
			}
			n, err := strconv.ParseUint(string(values[i]), 10, 64)
			if err != nil || n > math.MaxUint64/16 {
				return fmt.Errorf("cpu field %d %q is not a count of clock ticks", i+1, values[i])
			}
			*to = Ticks(n)
		}
	}
	if !found {
		return errors.New("no cpu line")
	}
	return nil
}

// parseMeminfo reads MemTotal and MemAvailable of /proc/meminfo. Before
// Linux 3.14 there is no MemAvailable; MemFree + Buffers + Cached is what
// psutil falls back on there.
func parseMeminfo(b []byte, h *HostSample) error {
	kb := map[string]uint64{}
	for line := range bytes.Lines(b) {
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		switch n := string(name); n {
		case "MemTotal", "MemAvailable", "MemFree", "Buffers", "Cached":
			v, err := parseKB(value, n)
			if err != nil {
				return err
			}
			kb[n] = v
		}
	}
	total, ok := kb["MemTotal"]
	if !ok {
		return errors.New("no MemTotal")
	}
	h.MemoryTotal = total
	if avail, ok := kb["MemAvailable"]; ok {
		h.MemoryAvailable = avail
		return nil
	}
	free, ok := kb["MemFree"]
	if !ok {
		return errors.New("neither MemAvailable nor MemFree")
	}
	h.MemoryAvailable = min(free+kb["Buffers"]+kb["Cached"], total)
	return nil
}

// The fields of a /proc/diskstats line, counted from 0: major, minor, name,
// then reads completed, reads merged, sectors read, time reading, writes
// completed, writes merged, sectors written, ...
const (
	diskName           = 2
	diskSectorsRead    = 5
	diskSectorsWritten = 9
)

// parseDiskstats reads the sectors read and written of whole disks.
func parseDiskstats(b []byte, h *HostSample) error {
	type disk struct {
		name          string
		read, written uint64
	}
	var disks []disk
	names := map[string]bool{}
	for line := range bytes.Lines(b) {
		fields := bytes.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if len(fields) <= diskSectorsWritten {
			// Before 2.6.25 a partition had a short line of 7 fields; it
			// is skipped like every partition.
			if len(fields) > diskName {
				names[string(fields[diskName])] = true
			}
			continue
		}
		d := disk{name: string(fields[diskName])}
		var err error
		if d.read, err = strconv.ParseUint(string(fields[diskSectorsRead]), 10, 64); err != nil {
			return fmt.Errorf("%s: sectors read %q is not a number", d.name, fields[diskSectorsRead])
		}
		if d.written, err = strconv.ParseUint(string(fields[diskSectorsWritten]), 10, 64); err != nil {
			return fmt.Errorf("%s: sectors written %q is not a number", d.name, fields[diskSectorsWritten])
		}
		if d.read > math.MaxUint64/sectorSize || d.written > math.MaxUint64/sectorSize {
			return fmt.Errorf("%s: sector counts overflow bytes", d.name)
		}
		names[d.name] = true
		disks = append(disks, d)
	}
	h.Disks = make(map[string]DiskIO, len(disks))
	for _, d := range disks {
		if virtualDisk(d.name) || isPartition(d.name, names) {
			continue
		}
		h.Disks[d.name] = DiskIO{ReadBytes: d.read * sectorSize, WriteBytes: d.written * sectorSize}
	}
	return nil
}

// virtualDisk tells devices whose I/O is not a disk's or lands on other
// listed disks: loop files, RAM disks, compressed RAM (zram), device-mapper
// volumes (LVM, dm-crypt) and software RAID.
func virtualDisk(name string) bool {
	for _, prefix := range []string{"loop", "ram", "zram", "dm-", "md"} {
		if strings.HasPrefix(name, prefix) {
			return true
		}
	}
	return false
}

// isPartition tells a partition by its name: another listed device's name
// followed by a number (sda1 of sda, xvdb2 of xvdb) or, when that name ends
// in a digit, by "p" and a number (nvme0n1p1 of nvme0n1, mmcblk0p2 of
// mmcblk0). A name alone cannot say more: nvme0n1 is a whole disk though it
// ends in a digit.
func isPartition(name string, devices map[string]bool) bool {
	end := len(name)
	for end > 0 && name[end-1] >= '0' && name[end-1] <= '9' {
		end--
	}
	if end == len(name) || end == 0 {
		return false
	}
	if devices[name[:end]] {
		return true
	}
	return name[end-1] == 'p' && end >= 2 && name[end-2] >= '0' && name[end-2] <= '9' && devices[name[:end-1]]
}

// The fields of /proc/net/dev after "name:", counted from 0: eight receive
// counters starting with bytes, then eight transmit counters starting with
// bytes.
const (
	netRxBytes = 0
	netTxBytes = 8
)

// parseNetDev reads the bytes received and sent per interface, but lo. An
// interface name cannot contain ':' (the kernel refuses it), so the first
// ':' ends the name even when a large counter follows it without a space.
func parseNetDev(b []byte, h *HostSample) error {
	h.Interfaces = map[string]NetIO{}
	for line := range bytes.Lines(b) {
		name, counters, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue // the two header lines
		}
		iface := string(bytes.TrimSpace(name))
		if iface == "lo" {
			continue
		}
		fields := bytes.Fields(counters)
		if len(fields) <= netTxBytes {
			return fmt.Errorf("%s: %d counters, want at least %d", iface, len(fields), netTxBytes+1)
		}
		var n NetIO
		var err error
		if n.RxBytes, err = strconv.ParseUint(string(fields[netRxBytes]), 10, 64); err != nil {
			return fmt.Errorf("%s: bytes received %q is not a number", iface, fields[netRxBytes])
		}
		if n.TxBytes, err = strconv.ParseUint(string(fields[netTxBytes]), 10, 64); err != nil {
			return fmt.Errorf("%s: bytes sent %q is not a number", iface, fields[netTxBytes])
		}
		h.Interfaces[iface] = n
	}
	return nil
}

// parseUptime reads the first figure of /proc/uptime, seconds since boot
// with two decimals.
func parseUptime(b []byte, h *HostSample) error {
	fields := bytes.Fields(b)
	if len(fields) == 0 {
		return errors.New("empty")
	}
	secs, err := strconv.ParseFloat(string(fields[0]), 64)
	if err != nil || !(secs >= 0 && secs < float64(math.MaxInt64/time.Second)) {
		return fmt.Errorf("uptime %q is not a number of seconds", fields[0])
	}
	h.Uptime = time.Duration(math.Round(secs * float64(time.Second)))
	return nil
}
