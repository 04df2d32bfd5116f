//go:build !linux

package driver

import "net"

// newQuietConn returns c: the raw-call connection is Linux only.
func newQuietConn(c net.Conn) net.Conn { return c }
