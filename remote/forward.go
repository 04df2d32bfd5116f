package remote

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// ListenRemote asks the server to listen on addr on its side and forward
// every connection made there to the returned listener (ssh -R). addr must
// be a loopback address ("127.0.0.1:1900", "[::1]:1900", "localhost:1900"):
// anything else would expose whatever serves the listener to the host's
// network, so it is refused before asking the server. Port 0 lets the server
// choose; the chosen port is in the listener's Addr(). Closing the listener
// cancels the forward.
//
// A refusal by the server (port taken, forwarding disabled) matches
// ErrForwardDenied.
func (c *Client) ListenRemote(addr string) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("%s: remote forward %q: %w", c.target, addr, err)
	}
	if !isLoopbackHost(host) {
		return nil, fmt.Errorf("%s: remote forward %q refused: only loopback addresses (127.0.0.0/8, ::1, localhost) may be bound on a host", c.target, addr)
	}
	l, err := c.ssh.Listen("tcp", addr)
	if err != nil {
		if strings.Contains(err.Error(), "denied by peer") {
			return nil, fmt.Errorf("%s: remote forward %s: %w", c.target, addr, ErrForwardDenied)
		}
		return nil, fmt.Errorf("%s: remote forward %s: %w", c.target, addr, err)
	}
	return l, nil
}

func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}
