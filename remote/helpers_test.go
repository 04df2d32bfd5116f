package remote_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net"
	"testing"
)

type netConn = net.Conn

func listenLoopback(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// acceptAll hands every accepted connection to conns until ln is closed.
func acceptAll(ln net.Listener, conns chan<- net.Conn) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		conns <- c
	}
}

func port(ln net.Listener) int { return ln.Addr().(*net.TCPAddr).Port }

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }

func sha256hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
