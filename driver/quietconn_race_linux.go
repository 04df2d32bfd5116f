//go:build linux && race

package driver

import (
	"errors"
	"syscall"
)

// Under the race detector the reads and writes go through package syscall,
// whose annotations tell the detector that what a goroutine did before
// writing to a socket happens before what another does after reading
// from one (tests synchronise through their HTTP servers that way); raw
// calls would hide that and report races that are not there. The waiting
// and the error handling stay those of the quiet connection.

func rawRead(fd uintptr, p []byte) (int, syscall.Errno) {
	n, err := syscall.Read(int(fd), p)
	return n, errnoOf(err)
}

func rawWrite(fd uintptr, p []byte) (int, syscall.Errno) {
	n, err := syscall.Write(int(fd), p)
	return max(n, 0), errnoOf(err)
}

func errnoOf(err error) syscall.Errno {
	var e syscall.Errno
	if err == nil || !errors.As(err, &e) {
		return 0
	}
	return e
}
