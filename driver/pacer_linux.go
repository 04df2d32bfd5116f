//go:build linux

package driver

import (
	"math"
	"os"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// timerfdAlarm is an alarm on a Linux timerfd read through the runtime's
// netpoller: the kernel's high-resolution timer fires it within some tens
// of µs, and the goroutine waiting on it blocks no thread. Its system calls
// are raw ones, as a quietConn's: neither timerfd_settime nor a read of a
// non-blocking timerfd can block, and a blocking-capable call would wake
// the scheduler's monitor thread after every idle spell (a futex wake, its
// sleeps and its going back to sleep: about a third of the system calls of
// a throttled load before).
type timerfdAlarm struct {
	f    *os.File
	raw  syscall.RawConn
	spec struct{ interval, value syscall.Timespec } // the next setting, read by setFD
	// setFD arms the timer from spec, readyFD ends a wait (see wait);
	// made once, so set and wait do not allocate.
	setFD   func(fd uintptr)
	readyFD func(fd uintptr) bool

	base time.Time
	// due is when the armed timer expires, in ns since base; never
	// (math.MaxInt64) while none is armed or its expiry was taken.
	due atomic.Int64
	// waited: the wait in progress went to the poller.
	waited bool
}

var _ alarm = (*timerfdAlarm)(nil)

// newAlarm returns a timerfd alarm, or one on a runtime timer where the
// kernel refuses timerfds.
func newAlarm() alarm {
	const clockMonotonic = 1
	fd, _, errno := syscall.Syscall(syscall.SYS_TIMERFD_CREATE, clockMonotonic, syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if errno != 0 {
		return newTimerAlarm()
	}
	// A non-blocking descriptor goes to the runtime's netpoller.
	f := os.NewFile(fd, "timerfd")
	raw, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return newTimerAlarm()
	}
	a := &timerfdAlarm{f: f, raw: raw, base: time.Now()}
	a.due.Store(math.MaxInt64)
	a.setFD = func(fd uintptr) {
		// The only failures are a bad descriptor or value, which the
		// callers rule out.
		_, _, _ = syscall.RawSyscall6(syscall.SYS_TIMERFD_SETTIME, fd, 0, uintptr(unsafe.Pointer(&a.spec)), 0, 0, 0)
	}
	a.readyFD = a.ready
	return a
}

func (a *timerfdAlarm) set(d time.Duration) {
	// due first, then the kernel's timer: it expires no earlier than due.
	a.due.Store(int64(time.Since(a.base) + d))
	a.spec.value = syscall.NsecToTimespec(int64(d))
	_ = a.raw.Control(a.setFD)
}

// wait returns once the armed time has come, without reading the
// descriptor: the poller's read wait first resets the descriptor's
// readiness, then calls ready, which ends the wait at once if the time has
// come already (the expiry may have been reported before the reset) and
// otherwise waits for the poller to report it (it expires after the
// reset, so the report is not lost). Each expiry of a timerfd is reported
// anew whether or not its count was read (the next setting resets it), so
// the read a timerfd usually takes, one system call per wake-up, is not
// needed. A report for a setting that was replaced ends a wait early; the
// pacer finds nothing due and sets the alarm again.
func (a *timerfdAlarm) wait() bool {
	a.waited = false
	return a.raw.Read(a.readyFD) == nil
}

// ready is wait's function for the poller; see wait.
func (a *timerfdAlarm) ready(uintptr) bool {
	due := a.due.Load()
	if int64(time.Since(a.base)) >= due {
		a.due.CompareAndSwap(due, math.MaxInt64) // taken, unless set again
		return true
	}
	if a.waited {
		return true // reported by the poller
	}
	a.waited = true
	return false
}

func (a *timerfdAlarm) close() { a.f.Close() }
