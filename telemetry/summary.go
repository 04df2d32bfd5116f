package telemetry

import "time"

// Summary is what a Sampler measured between Start and Stop. Counters
// (CPU time, bytes) are what was used inside the window, not since boot.
//
// As JSON (time.Duration fields in nanoseconds, as metrics.Summary):
//
//	{
//	  "start": "2025-03-01T10:00:00Z", "end": "2025-03-01T10:10:00Z",
//	  "interval-ns": 1000000000, "samples": 601,
//	  "host": {
//	    "samples": 601, "cores": 8,
//	    "cpu-busy-mean-percent": 61.2, "cpu-busy-max-percent": 97.5,
//	    "memory-total-bytes": 33554432000, "memory-available-min-bytes": 9126805504,
//	    "disk-read-bytes": 1048576, "disk-write-bytes": 5368709120,
//	    "disks": {"nvme0n1": {"read-bytes": 1048576, "write-bytes": 5368709120}},
//	    "network-rx-bytes": 2147483648, "network-tx-bytes": 10485760,
//	    "interfaces": {"eth0": {"rx-bytes": 2147483648, "tx-bytes": 10485760}}
//	  },
//	  "targets": {
//	    "node-0": {
//	      "pgid": 4242, "samples": 601, "last-seen": "2025-03-01T10:10:00Z",
//	      "cpu-time-ns": 2950000000000, "cpu-mean-percent": 491.7, "cpu-max-percent": 780,
//	      "rss-max-bytes": 17716740096, "rss-last-bytes": 17700000000, "threads-max": 173,
//	      "read-bytes": 40960, "write-bytes": 4294967296
//	    }
//	  }
//	}
type Summary struct {
	// Start and End are the times of the first and the last sample.
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// Interval is the time between samples the Sampler aimed at.
	Interval time.Duration `json:"interval-ns"`
	// Samples counts the samples taken, good or not.
	Samples int                      `json:"samples"`
	Host    HostSummary              `json:"host"`
	Targets map[string]TargetSummary `json:"targets"`
	// Errors holds the first few distinct errors met while sampling (at
	// most maxErrors); a process that exits is not an error.
	Errors []string `json:"errors,omitempty"`
}

// HostSummary is the host's part of a Summary.
type HostSummary struct {
	// Samples counts the samples that read the host; the others failed and
	// are in Summary.Errors.
	Samples int `json:"samples"`
	// Cores is the number of online CPUs at the last sample.
	Cores int `json:"cores"`
	// CPUBusyMean is the share of all cores' time that was busy over the
	// window, 0-100; CPUBusyMax is the largest share over one interval.
	CPUBusyMean float64 `json:"cpu-busy-mean-percent"`
	CPUBusyMax  float64 `json:"cpu-busy-max-percent"`
	// MemoryTotal is MemTotal at the last sample, MemoryAvailableMin the
	// least MemAvailable of any sample.
	MemoryTotal        uint64 `json:"memory-total-bytes"`
	MemoryAvailableMin uint64 `json:"memory-available-min-bytes"`
	// DiskRead and DiskWrite sum Disks, the bytes each whole disk read and
	// wrote in the window.
	DiskRead  uint64            `json:"disk-read-bytes"`
	DiskWrite uint64            `json:"disk-write-bytes"`
	Disks     map[string]DiskIO `json:"disks,omitempty"`
	// NetworkRx and NetworkTx sum Interfaces, the bytes each interface but
	// lo received and sent in the window.
	NetworkRx  uint64           `json:"network-rx-bytes"`
	NetworkTx  uint64           `json:"network-tx-bytes"`
	Interfaces map[string]NetIO `json:"interfaces,omitempty"`
}

// TargetSummary is one target's part of a Summary: the sums over the live
// processes of its group.
type TargetSummary struct {
	// PGID is the process group at the last sample that listed the target.
	PGID int `json:"pgid"`
	// Samples counts the samples that found a live process of the group.
	Samples int `json:"samples"`
	// LastSeen is when the last of those samples read the group.
	LastSeen time.Time `json:"last-seen,omitzero"`
	// CPUTime is the CPU time (user and system) the group used in the
	// window. CPUMean is that as a percentage of one core over the time the
	// group was watched (so 400 is four cores busy), CPUMax the largest such
	// percentage over one interval.
	CPUTime time.Duration `json:"cpu-time-ns"`
	CPUMean float64       `json:"cpu-mean-percent"`
	CPUMax  float64       `json:"cpu-max-percent"`
	// RSSMax and RSSLast are the group's resident memory, the largest seen
	// and the last seen.
	RSSMax  uint64 `json:"rss-max-bytes"`
	RSSLast uint64 `json:"rss-last-bytes"`
	// ThreadsMax is the most threads the group had at a sample.
	ThreadsMax int `json:"threads-max"`
	// ReadBytes and WriteBytes are what the group made the storage layer
	// read and write in the window; nil (absent from the JSON) when some
	// process's /proc/<pid>/io could not be read, as a partial sum would
	// pass for a real one.
	ReadBytes  *uint64 `json:"read-bytes,omitempty"`
	WriteBytes *uint64 `json:"write-bytes,omitempty"`
	// Gone says that the last sample found no live process of the group
	// (or the target was no longer listed); what was sampled before is
	// kept.
	Gone bool `json:"gone,omitempty"`
}

// maxErrors bounds Summary.Errors.
const maxErrors = 10

// reading is everything one sample read, the input of window.observe.
type reading struct {
	at      time.Time
	host    HostSample
	hostErr error
	// targets are the targets listed at this sample, each once.
	targets []Target
	// procs holds the live processes of each listed target, by name,
	// unless scanErr says the groups could not be listed at all; procsAt
	// is when they were read (at if zero). The two times differ by the
	// scan of /proc, which on a loaded host can be a good part of a
	// short interval.
	procs   map[string][]ProcessSample
	procsAt time.Time
	scanErr error
	// errs are other errors of this sample (a process that could not be
	// read).
	errs []error
}

// window folds samples into running figures: its memory depends on the
// number of targets, processes, disks and interfaces, not on the number of
// samples. It is a pure function of the readings it observes, so it is
// tested with made-up readings and times.
type window struct {
	interval time.Duration
	samples  int
	start    time.Time
	end      time.Time
	errors   []string

	// prevProcsAt is when the previous sample read the targets;
	// prevUptime is the host's uptime at that sample, if prevHostOK.
	prevProcsAt time.Time
	prevUptime  time.Duration
	prevHostOK  bool

	host    hostWindow
	targets map[string]*targetWindow
}

func newWindow(interval time.Duration) *window {
	return &window{interval: interval, targets: map[string]*targetWindow{}}
}

// observe folds one sample in.
func (w *window) observe(t reading) {
	first := w.samples == 0
	w.samples++
	if first {
		w.start = t.at
	}
	w.end = t.at
	for _, err := range t.errs {
		w.note(err)
	}

	if t.hostErr != nil {
		w.note(t.hostErr)
	} else {
		// A disk or interface new since a good previous sample appeared
		// inside the window: all its counts belong to it.
		w.host.observe(t.host, w.prevHostOK)
	}

	procsAt := t.procsAt
	if procsAt.IsZero() {
		procsAt = t.at
	}
	if t.scanErr != nil {
		w.note(t.scanErr)
	} else {
		listed := make(map[string]bool, len(t.targets))
		for _, target := range t.targets {
			listed[target.Name] = true
			tw := w.targets[target.Name]
			if tw == nil {
				tw = &targetWindow{}
				w.targets[target.Name] = tw
			}
			tw.pgid = target.PGID
			bornInWindow := func(started time.Duration) bool {
				return !first && w.prevHostOK && started > w.prevUptime
			}
			tw.observe(procsAt, w.prevProcsAt, !first, t.procs[target.Name], bornInWindow)
		}
		for name, tw := range w.targets {
			if !listed[name] {
				tw.alive = false
			}
		}
	}

	w.prevProcsAt = procsAt
	w.prevHostOK = t.hostErr == nil
	if w.prevHostOK {
		w.prevUptime = t.host.Uptime
	}
}

// note keeps an error's message, once, while there is room.
func (w *window) note(err error) {
	msg := err.Error()
	for _, m := range w.errors {
		if m == msg {
			return
		}
	}
	if len(w.errors) < maxErrors {
		w.errors = append(w.errors, msg)
	}
}

// summary reports the window so far.
func (w *window) summary() Summary {
	s := Summary{
		Start:    w.start,
		End:      w.end,
		Interval: w.interval,
		Samples:  w.samples,
		Host:     w.host.summary(),
		Targets:  make(map[string]TargetSummary, len(w.targets)),
		Errors:   append([]string(nil), w.errors...),
	}
	for name, tw := range w.targets {
		s.Targets[name] = tw.summary()
	}
	return s
}

// hostWindow folds host samples.
type hostWindow struct {
	samples  int
	last     HostSample
	busy     Ticks // busy time summed over intervals
	total    Ticks // all time summed over intervals
	busyMax  float64
	availMin uint64
	disks    map[string]*counterPair
	ifaces   map[string]*counterPair
}

func (h *hostWindow) observe(s HostSample, prevOK bool) {
	if h.samples == 0 {
		h.availMin = s.MemoryAvailable
		h.disks = map[string]*counterPair{}
		h.ifaces = map[string]*counterPair{}
	} else {
		busy, total := cpuDelta(h.last.CPU, s.CPU)
		h.busy += busy
		h.total += total
		if total > 0 {
			h.busyMax = max(h.busyMax, percent(float64(busy), float64(total)))
		}
	}
	// After a failed sample the changes are taken from the last good one
	// (h.last): the counters only grow, so nothing is lost but that
	// interval's own maximum.
	h.availMin = min(h.availMin, s.MemoryAvailable)
	fold(h.disks, s.Disks, func(d DiskIO) [2]uint64 { return [2]uint64{d.ReadBytes, d.WriteBytes} }, h.samples > 0 && prevOK)
	fold(h.ifaces, s.Interfaces, func(n NetIO) [2]uint64 { return [2]uint64{n.RxBytes, n.TxBytes} }, h.samples > 0 && prevOK)
	h.last = s
	h.samples++
}

func (h *hostWindow) summary() HostSummary {
	s := HostSummary{
		Samples:            h.samples,
		Cores:              h.last.Cores,
		CPUBusyMax:         h.busyMax,
		MemoryTotal:        h.last.MemoryTotal,
		MemoryAvailableMin: h.availMin,
		Disks:              make(map[string]DiskIO, len(h.disks)),
		Interfaces:         make(map[string]NetIO, len(h.ifaces)),
	}
	if h.total > 0 {
		s.CPUBusyMean = percent(float64(h.busy), float64(h.total))
	}
	for name, c := range h.disks {
		s.Disks[name] = DiskIO{ReadBytes: c.sum[0], WriteBytes: c.sum[1]}
		s.DiskRead += c.sum[0]
		s.DiskWrite += c.sum[1]
	}
	for name, c := range h.ifaces {
		s.Interfaces[name] = NetIO{RxBytes: c.sum[0], TxBytes: c.sum[1]}
		s.NetworkRx += c.sum[0]
		s.NetworkTx += c.sum[1]
	}
	return s
}

// cpuDelta is the busy and total time between two readings of the cpu
// line. Each field's change is taken alone and never below zero: iowait is
// known to step backwards on tickless kernels.
func cpuDelta(prev, cur CPUTimes) (busy, total Ticks) {
	d := func(a, b Ticks) Ticks {
		if b < a {
			return 0
		}
		return b - a
	}
	busy = d(prev.User, cur.User) + d(prev.Nice, cur.Nice) + d(prev.System, cur.System) +
		d(prev.IRQ, cur.IRQ) + d(prev.SoftIRQ, cur.SoftIRQ) + d(prev.Steal, cur.Steal)
	return busy, busy + d(prev.Idle, cur.Idle) + d(prev.IOWait, cur.IOWait)
}

// counterPair is two counters of one disk or interface: the last reading
// and the sum of the changes in the window.
type counterPair struct {
	last    [2]uint64
	sum     [2]uint64
	present bool // in the previous reading
}

// fold adds the change of every device's counters since the previous
// reading. A device that was not in the previous reading is new: counted
// from zero if countNew (it appeared inside the window), else only from
// now. A counter that went backwards was reset and counts from zero.
func fold[T any](into map[string]*counterPair, cur map[string]T, pair func(T) [2]uint64, countNew bool) {
	for name, v := range cur {
		now := pair(v)
		c, known := into[name]
		if !known {
			c = &counterPair{}
			into[name] = c
		}
		for i := range now {
			switch {
			case known && c.present && now[i] >= c.last[i]:
				c.sum[i] += now[i] - c.last[i]
			case known && c.present, countNew:
				c.sum[i] += now[i]
			}
		}
		c.last = now
		c.present = true
	}
	for name, c := range into {
		if _, ok := cur[name]; !ok {
			c.present = false
		}
	}
}

// targetWindow folds the samples of one target's process group.
type targetWindow struct {
	pgid    int
	samples int
	lastAt  time.Time // the last sample with a live process
	alive   bool      // the last sample that listed it found a live process
	members map[member]memberState

	cpu      time.Duration
	span     time.Duration // the time the CPU time was measured over
	cpuMax   float64
	rssMax   uint64
	rssLast  uint64
	threads  int
	read     uint64
	write    uint64
	ioAbsent bool
}

// member names a process across samples: a PID with another start time is
// another process.
type member struct {
	pid     int
	started time.Duration
}

type memberState struct {
	cpu time.Duration
	io  *ProcessIO
}

// observe folds one sample of the group at time at; prevAt is the previous
// sample's time if hasPrev. bornInWindow tells a process that started after
// the previous sample.
func (tw *targetWindow) observe(at, prevAt time.Time, hasPrev bool, procs []ProcessSample, bornInWindow func(time.Duration) bool) {
	if len(procs) == 0 {
		tw.alive = false
		tw.members = nil // all exited: a PID seen again is another process
		return
	}
	var (
		cpu            time.Duration
		read, write    uint64
		rss            uint64
		threads        int
		countedFromNew bool
	)
	next := make(map[member]memberState, len(procs))
	for _, p := range procs {
		k := member{p.PID, p.Started}
		cur := memberState{cpu: p.CPUTime(), io: p.IO}
		if p.IO == nil {
			tw.ioAbsent = true
		}
		if prev, known := tw.members[k]; known {
			cpu += max(cur.cpu-prev.cpu, 0)
			if prev.io != nil && cur.io != nil {
				read += sub(cur.io.ReadBytes, prev.io.ReadBytes)
				write += sub(cur.io.WriteBytes, prev.io.WriteBytes)
			}
		} else if bornInWindow(p.Started) {
			countedFromNew = true
			cpu += cur.cpu
			if cur.io != nil {
				read += cur.io.ReadBytes
				write += cur.io.WriteBytes
			}
		}
		next[k] = cur
		rss += p.RSS
		threads += p.Threads
	}
	tw.members = next

	var interval time.Duration
	switch {
	case !tw.lastAt.IsZero():
		interval = at.Sub(tw.lastAt)
	case countedFromNew && hasPrev:
		interval = at.Sub(prevAt)
	}
	tw.cpu += cpu
	if interval > 0 {
		tw.span += interval
		tw.cpuMax = max(tw.cpuMax, percent(cpu.Seconds(), interval.Seconds()))
	}
	tw.read += read
	tw.write += write
	tw.rssMax = max(tw.rssMax, rss)
	tw.rssLast = rss
	tw.threads = max(tw.threads, threads)
	tw.samples++
	tw.lastAt = at
	tw.alive = true
}

func (tw *targetWindow) summary() TargetSummary {
	s := TargetSummary{
		PGID:       tw.pgid,
		Samples:    tw.samples,
		LastSeen:   tw.lastAt,
		CPUTime:    tw.cpu,
		CPUMax:     tw.cpuMax,
		RSSMax:     tw.rssMax,
		RSSLast:    tw.rssLast,
		ThreadsMax: tw.threads,
		Gone:       !tw.alive,
	}
	if tw.span > 0 {
		s.CPUMean = percent(tw.cpu.Seconds(), tw.span.Seconds())
	}
	if tw.samples > 0 && !tw.ioAbsent {
		s.ReadBytes, s.WriteBytes = new(tw.read), new(tw.write)
	}
	return s
}

// sub is a-b, or 0 for a counter that went backwards.
func sub(a, b uint64) uint64 {
	if a < b {
		return 0
	}
	return a - b
}

func percent(part, whole float64) float64 { return 100 * part / whole }
