package telemetry

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"time"
)

// DriverSample is what a load driver process used of its machine so far:
// its CPU time and how long its threads waited, runnable, for a CPU. Two
// samples around a measured step give its DriverLoad.
type DriverSample struct {
	At time.Time
	// CPU is the user and system time of all the process's threads.
	CPU time.Duration
	// RunDelay is the time the process's threads spent runnable but
	// waiting for a CPU (the second field of each thread's schedstat): a
	// driver starved by other work on its cores waits there. Zero when
	// the kernel keeps no scheduler statistics.
	RunDelay time.Duration
	// CPUs is how many CPUs the process can run on at once (its affinity,
	// bounded by GOMAXPROCS).
	CPUs int
}

// ReadDriver reads the calling process from procRoot (normally "/proc").
func ReadDriver(procRoot string) (DriverSample, error) {
	s := DriverSample{At: time.Now(), CPUs: min(runtime.NumCPU(), runtime.GOMAXPROCS(0))}
	p, err := ReadProcess(procRoot, os.Getpid())
	if err != nil {
		return s, err
	}
	s.CPU = p.CPUTime()
	s.RunDelay = runDelay(filepath.Join(procRoot, strconv.Itoa(os.Getpid()), "task"))
	return s, nil
}

// runDelay sums the run-queue wait of the threads under taskDir; threads
// that end while it reads are left out (their wait is gone with them).
func runDelay(taskDir string) time.Duration {
	threads, err := os.ReadDir(taskDir)
	if err != nil {
		return 0
	}
	var total time.Duration
	for _, t := range threads {
		b, err := os.ReadFile(filepath.Join(taskDir, t.Name(), "schedstat"))
		if err != nil {
			continue
		}
		if d, ok := parseSchedstat(b); ok {
			total += d
		}
	}
	return total
}

// parseSchedstat reads the run-queue wait (nanoseconds, the second of the
// three fields) of a schedstat line.
func parseSchedstat(b []byte) (time.Duration, bool) {
	f := bytes.Fields(b)
	if len(f) < 2 {
		return 0, false
	}
	ns, err := strconv.ParseUint(string(f[1]), 10, 63)
	if err != nil {
		return 0, false
	}
	return time.Duration(ns), true
}

// DriverLoad is what a load driver used of its machine between two
// samples, as shares of its wall time.
type DriverLoad struct {
	// Wall is the time between the samples.
	Wall time.Duration `json:"wall-ns"`
	// CPUs the driver could use.
	CPUs int `json:"cpus"`
	// Busy is its CPU time over Wall × CPUs: 1 means every CPU it may use
	// was busy with it all the time.
	Busy float64 `json:"busy"`
	// Waiting is its threads' run-queue wait over Wall: 0.5 means that, on
	// average, one of its threads was ready to run but waited for a CPU
	// half of the time.
	Waiting float64 `json:"waiting"`
}

// LoadBetween is the load between two samples of one process.
func LoadBetween(a, b DriverSample) DriverLoad {
	l := DriverLoad{Wall: b.At.Sub(a.At), CPUs: max(b.CPUs, 1)}
	if l.Wall <= 0 {
		return l
	}
	l.Busy = float64(b.CPU-a.CPU) / float64(l.Wall) / float64(l.CPUs)
	l.Waiting = float64(b.RunDelay-a.RunDelay) / float64(l.Wall)
	return l
}

// Thresholds above which a load driver is said to be saturated: it may be
// the bottleneck, not the target, and what it measured may include its
// own lateness.
const (
	// SaturatedBusy is the share of its CPUs a driver kept busy.
	SaturatedBusy = 0.9
	// SaturatedWaiting is the share of time its threads waited for a CPU
	// that other work held.
	SaturatedWaiting = 0.25
	// saturationMinWall is the shortest step judged: the few requests of
	// an administrative step (create an index) say nothing of a driver's
	// capacity, and one scheduling hiccup is a large share of them.
	saturationMinWall = time.Second
)

// Saturation says why the load looks saturated ("" when it does not, or
// when the step was too short to tell).
func (l DriverLoad) Saturation() string {
	switch {
	case l.Wall < saturationMinWall:
		return ""
	case l.Busy >= SaturatedBusy:
		return fmt.Sprintf("it kept %.0f%% of its %d CPU(s) busy", l.Busy*100, l.CPUs)
	case l.Waiting >= SaturatedWaiting:
		return fmt.Sprintf("its threads waited %.2f s per second for a CPU that other work held", l.Waiting)
	}
	return ""
}
