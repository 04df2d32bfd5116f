//go:build !linux

package driver

import (
	"net"
	"time"
)

// newQuietConn returns c: the raw-call connection is Linux only.
func newQuietConn(c net.Conn) net.Conn { return c }

// quietConn exists on Linux only; elsewhere no connection is one.
type quietConn struct{ net.Conn }

func (*quietConn) setGrain(time.Duration) {}
