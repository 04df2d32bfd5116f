//go:build linux

package driver

import (
	"os"
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
	// setFD arms the timer from spec, readFD reads an expiry (false when
	// none is due yet); made once, so set and wait do not allocate.
	setFD  func(fd uintptr)
	readFD func(fd uintptr) bool
	buf    [8]byte
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
	a := &timerfdAlarm{f: f, raw: raw}
	a.setFD = func(fd uintptr) {
		// The only failures are a bad descriptor or value, which the
		// callers rule out.
		_, _, _ = syscall.RawSyscall6(syscall.SYS_TIMERFD_SETTIME, fd, 0, uintptr(unsafe.Pointer(&a.spec)), 0, 0, 0)
	}
	a.readFD = func(fd uintptr) bool {
		// EAGAIN: not expired yet, wait for the poller; anything else
		// (an expiry, or an error the next wait reports) ends the wait.
		_, e := rawRead(fd, a.buf[:])
		return e != syscall.EAGAIN
	}
	return a
}

func (a *timerfdAlarm) set(d time.Duration) {
	a.spec.value = syscall.NsecToTimespec(int64(d))
	_ = a.raw.Control(a.setFD)
}

func (a *timerfdAlarm) wait() bool {
	return a.raw.Read(a.readFD) == nil
}

func (a *timerfdAlarm) close() { a.f.Close() }
