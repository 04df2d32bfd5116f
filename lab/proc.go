package lab

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// procInfo is what /proc/<pid>/stat says about a process.
type procInfo struct {
	State byte   // R, S, D, Z, ...
	PPID  int    // parent PID
	Start uint64 // start time in clock ticks after boot; with the PID it names one process
}

// readProc parses /proc/<pid>/stat. The command name is in parentheses and
// may itself contain spaces and parentheses, so the fields are counted from
// the last ')'.
func readProc(pid int) (procInfo, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procInfo{}, err
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return procInfo{}, fmt.Errorf("/proc/%d/stat: no ')' in %q", pid, s)
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 of proc(5) (state), so field n is f[n-3].
	if len(f) < 20 {
		return procInfo{}, fmt.Errorf("/proc/%d/stat: %d fields after the name, want at least 20", pid, len(f))
	}
	ppid, err := strconv.Atoi(f[1])
	if err != nil {
		return procInfo{}, fmt.Errorf("/proc/%d/stat: ppid %q: %w", pid, f[1], err)
	}
	start, err := strconv.ParseUint(f[19], 10, 64)
	if err != nil {
		return procInfo{}, fmt.Errorf("/proc/%d/stat: starttime %q: %w", pid, f[19], err)
	}
	return procInfo{State: f[0][0], PPID: ppid, Start: start}, nil
}

// running reports whether pid is still the process that started at start
// and has not exited (a zombie has exited).
func running(pid int, start uint64) bool {
	p, err := readProc(pid)
	return err == nil && p.Start == start && p.State != 'Z' && p.State != 'X'
}

// killIfOurs sends SIGKILL to pid if it is still the process that started at
// start; a PID that exited or was reused is left alone.
func killIfOurs(pid int, start uint64) error {
	if !running(pid, start) {
		return nil
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return err
	}
	return nil
}

// waitGone waits until pid is no longer the running process that started at
// start.
func waitGone(pid int, start uint64, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for running(pid, start) {
		if time.Now().After(deadline) {
			return fmt.Errorf("pid %d still running %v after SIGKILL", pid, limit)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return nil
}

// waitReaped waits until pid, the process that started at start, has exited
// and been reaped by its parent. A zombie whose parent is no longer parent
// (its launcher died before it) will never be reaped by us and counts as
// gone.
func waitReaped(pid int, start uint64, parent int, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		p, err := readProc(pid)
		if err != nil || p.Start != start {
			return nil
		}
		if p.State == 'Z' && p.PPID != parent {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("pid %d not gone %v after SIGKILL (state %c)", pid, limit, p.State)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// pids lists every process ID in /proc.
func pids() ([]int, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	out := make([]int, 0, len(ents))
	for _, e := range ents {
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			out = append(out, pid)
		}
	}
	return out, nil
}

// childOf returns the first child of parent found in /proc, or 0.
func childOf(parent int) (int, error) {
	all, err := pids()
	if err != nil {
		return 0, err
	}
	for _, pid := range all {
		if p, err := readProc(pid); err == nil && p.PPID == parent {
			return pid, nil
		}
	}
	return 0, nil
}
