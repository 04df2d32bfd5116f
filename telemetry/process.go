package telemetry

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// userHZ is the clock-tick rate of the times in /proc: Linux fixes USER_HZ
// at 100 for userspace on every architecture Go supports, whatever the
// kernel's internal HZ (sysconf(_SC_CLK_TCK) returns it).
const userHZ = 100

// tick is one USER_HZ clock tick.
const tick = time.Second / userHZ

// ErrProcessGone says that a process exited (or never existed) while it was
// being read: its /proc directory is missing or the kernel answered ESRCH.
var ErrProcessGone = errors.New("process is gone")

// ProcessSample is one reading of one process from /proc/<pid>.
type ProcessSample struct {
	PID int
	// PGID is the process group (stat field 5).
	PGID int
	// Command is the kernel's name for the process (comm, at most 15
	// bytes), which may contain spaces and parentheses.
	Command string
	// State is the one-letter state of stat field 3 (R, S, D, Z, ...).
	State byte
	// UserTime and SystemTime are the CPU time spent in user and kernel
	// mode by all the process's threads (stat fields 14 and 15).
	UserTime, SystemTime time.Duration
	// Threads is num_threads (stat field 20).
	Threads int
	// Started is when the process started, after boot (stat field 22). With
	// PID it names a process: a PID reused later has another Started.
	Started time.Duration
	// RSS is the resident set size in bytes (VmRSS of status), 0 for
	// processes without memory of their own (kernel threads, zombies).
	RSS uint64
	// IO is nil when /proc/<pid>/io cannot be read (no ptrace access to the
	// process, or a kernel without task I/O accounting).
	IO *ProcessIO
}

// CPUTime is the CPU time the process used so far, user and system.
func (p ProcessSample) CPUTime() time.Duration { return p.UserTime + p.SystemTime }

// ProcessIO is what a process made the storage layer do, from
// /proc/<pid>/io: read_bytes were fetched from storage (not from the page
// cache) and write_bytes were dirtied to be written to it.
type ProcessIO struct {
	ReadBytes  uint64
	WriteBytes uint64
}

// ReadProcess reads one process from procRoot (normally "/proc"). A process
// that exits before or while it is read gives an error wrapping
// ErrProcessGone.
func ReadProcess(procRoot string, pid int) (ProcessSample, error) {
	if err := supported(); err != nil {
		return ProcessSample{}, err
	}
	dir := filepath.Join(procRoot, strconv.Itoa(pid))

	// io first: if the process exits between two reads, a missing io file
	// would otherwise pass for a kernel without I/O accounting, and the
	// stat read below then reports the process gone.
	pio, err := readProcessIO(dir)
	if err != nil {
		return ProcessSample{}, fmt.Errorf("process %d: %w", pid, err)
	}

	b, err := os.ReadFile(filepath.Join(dir, "stat"))
	if err != nil {
		return ProcessSample{}, fmt.Errorf("process %d: %w", pid, gone(err))
	}
	st, err := parseStat(b)
	if err != nil {
		return ProcessSample{}, fmt.Errorf("process %d: %s: %w", pid, filepath.Join(dir, "stat"), err)
	}
	if st.PID != pid {
		return ProcessSample{}, fmt.Errorf("process %d: %s names pid %d", pid, filepath.Join(dir, "stat"), st.PID)
	}

	b, err = os.ReadFile(filepath.Join(dir, "status"))
	if err != nil {
		return ProcessSample{}, fmt.Errorf("process %d: %w", pid, gone(err))
	}
	rss, err := parseStatusRSS(b)
	if err != nil {
		return ProcessSample{}, fmt.Errorf("process %d: %s: %w", pid, filepath.Join(dir, "status"), err)
	}

	p := ProcessSample{
		PID:     st.PID,
		PGID:    st.PGID,
		Command: st.Command,
		State:   st.State,
		Threads: st.Threads,
		RSS:     rss,
		IO:      pio,
	}
	for _, f := range []struct {
		to    *time.Duration
		ticks uint64
		name  string
	}{
		{&p.UserTime, st.UTime, "utime"},
		{&p.SystemTime, st.STime, "stime"},
		{&p.Started, st.StartTime, "starttime"},
	} {
		if *f.to, err = ticksToDuration(f.ticks); err != nil {
			return ProcessSample{}, fmt.Errorf("process %d: %s: %s: %w", pid, filepath.Join(dir, "stat"), f.name, err)
		}
	}
	return p, nil
}

// readProcessIO reads dir/io; nil, nil when it cannot be read for lack of
// privilege or accounting.
func readProcessIO(dir string) (*ProcessIO, error) {
	b, err := os.ReadFile(filepath.Join(dir, "io"))
	switch {
	case err == nil:
	case errors.Is(err, fs.ErrPermission), errors.Is(err, fs.ErrNotExist):
		return nil, nil
	default:
		return nil, gone(err)
	}
	pio, err := parseIO(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "io"), err)
	}
	return &pio, nil
}

// gone wraps ErrProcessGone around an error that means the process exited.
func gone(err error) error {
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("%w: %w", ErrProcessGone, err)
	}
	return err
}

// statLine holds the fields of /proc/<pid>/stat that telemetry uses, in
// clock ticks as the kernel writes them.
type statLine struct {
	PID       int
	Command   string
	State     byte
	PPID      int
	PGID      int
	UTime     uint64
	STime     uint64
	Threads   int
	StartTime uint64
}

// The fields of /proc/<pid>/stat after the command, counted from 3 as
// proc(5) numbers them.
const (
	statState     = 3
	statPPID      = 4
	statPGID      = 5
	statUTime     = 14
	statSTime     = 15
	statThreads   = 20
	statStartTime = 22
)

// parseStat parses the content of /proc/<pid>/stat: "pid (comm) state ...".
// comm is whatever the process named itself, so it may hold spaces,
// parentheses and even newlines; only the last ')' of the line closes it.
func parseStat(b []byte) (statLine, error) {
	open := bytes.IndexByte(b, '(')
	end := bytes.LastIndexByte(b, ')')
	if open < 0 || end < open {
		return statLine{}, errors.New("no command in parentheses")
	}
	var st statLine
	pid, err := strconv.Atoi(string(bytes.TrimSpace(b[:open])))
	if err != nil || pid <= 0 {
		return statLine{}, fmt.Errorf("pid %q is not a positive number", bytes.TrimSpace(b[:open]))
	}
	st.PID = pid
	st.Command = string(b[open+1 : end])

	rest := bytes.Fields(b[end+1:])
	if len(rest) < statStartTime-2 {
		return statLine{}, fmt.Errorf("%d fields after the command, want at least %d", len(rest), statStartTime-2)
	}
	field := func(n int) []byte { return rest[n-3] }
	if s := field(statState); len(s) != 1 {
		return statLine{}, fmt.Errorf("field %d (state) %q is not one letter", statState, s)
	}
	st.State = field(statState)[0]

	for _, f := range []struct {
		to   *int
		n    int
		name string
	}{
		{&st.PPID, statPPID, "ppid"},
		{&st.PGID, statPGID, "pgrp"},
		{&st.Threads, statThreads, "num_threads"},
	} {
		v, err := strconv.Atoi(string(field(f.n)))
		if err != nil || v < 0 {
			return statLine{}, fmt.Errorf("field %d (%s) %q is not a count", f.n, f.name, field(f.n))
		}
		*f.to = v
	}
	for _, f := range []struct {
		to   *uint64
		n    int
		name string
	}{
		{&st.UTime, statUTime, "utime"},
		{&st.STime, statSTime, "stime"},
		{&st.StartTime, statStartTime, "starttime"},
	} {
		v, err := strconv.ParseUint(string(field(f.n)), 10, 64)
		if err != nil {
			return statLine{}, fmt.Errorf("field %d (%s) %q is not a count of clock ticks", f.n, f.name, field(f.n))
		}
		*f.to = v
	}
	return st, nil
}

// ticksToDuration converts USER_HZ clock ticks to a Duration; more than
// 292 years of ticks does not fit and is an error.
func ticksToDuration(ticks uint64) (time.Duration, error) {
	if ticks > uint64(math.MaxInt64/tick) {
		return 0, fmt.Errorf("%d clock ticks overflow a duration", ticks)
	}
	return time.Duration(ticks) * tick, nil
}

// parseStatusRSS returns VmRSS of /proc/<pid>/status in bytes, 0 when the
// line is absent (kernel threads and zombies have none).
func parseStatusRSS(b []byte) (uint64, error) {
	for line := range bytes.Lines(b) {
		if v, ok := bytes.CutPrefix(line, []byte("VmRSS:")); ok {
			return parseKB(v, "VmRSS")
		}
	}
	return 0, nil
}

// parseKB parses " 1234 kB" into bytes.
func parseKB(v []byte, name string) (uint64, error) {
	num, ok := bytes.CutSuffix(bytes.TrimSpace(v), []byte("kB"))
	if !ok {
		return 0, fmt.Errorf("%s %q is not in kB", name, bytes.TrimSpace(v))
	}
	n, err := strconv.ParseUint(string(bytes.TrimSpace(num)), 10, 64)
	if err != nil || n > math.MaxUint64/1024 {
		return 0, fmt.Errorf("%s %q is not a number of kB", name, bytes.TrimSpace(v))
	}
	return n * 1024, nil
}

// parseIO parses /proc/<pid>/io, "name: value" lines.
func parseIO(b []byte) (ProcessIO, error) {
	var pio ProcessIO
	var haveRead, haveWrite bool
	for line := range bytes.Lines(b) {
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		var to *uint64
		switch string(name) {
		case "read_bytes":
			to, haveRead = &pio.ReadBytes, true
		case "write_bytes":
			to, haveWrite = &pio.WriteBytes, true
		default:
			continue
		}
		n, err := strconv.ParseUint(string(bytes.TrimSpace(value)), 10, 64)
		if err != nil {
			return ProcessIO{}, fmt.Errorf("%s %q is not a number of bytes", name, bytes.TrimSpace(value))
		}
		*to = n
	}
	if !haveRead || !haveWrite {
		return ProcessIO{}, errors.New("no read_bytes and write_bytes")
	}
	return pio, nil
}
