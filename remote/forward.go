package remote

import (
	"context"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"strconv"
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
	// An sshd with "GatewayPorts yes" binds every address whatever was
	// asked: look at the host's listening sockets and refuse then.
	port := l.Addr().(*net.TCPAddr).Port
	res, err := c.Run(context.Background(), "cat /proc/net/tcp /proc/net/tcp6 2>/dev/null", nil)
	if err == nil {
		if exposed := exposedListeners(string(res.Stdout), port); len(exposed) > 0 {
			l.Close()
			return nil, fmt.Errorf("%s: remote forward %s refused: the host's sshd bound it on %s, not loopback only (is GatewayPorts set?)",
				c.target, addr, strings.Join(exposed, ", "))
		}
	}
	return l, nil
}

// exposedListeners returns the non-loopback local addresses listening on
// port in the text of /proc/net/tcp and /proc/net/tcp6.
func exposedListeners(procNet string, port int) []string {
	var out []string
	for _, line := range strings.Split(procNet, "\n") {
		f := strings.Fields(line)
		if len(f) < 4 || f[3] != "0A" { // 0A: LISTEN
			continue
		}
		hexAddr, hexPort, ok := strings.Cut(f[1], ":")
		if !ok {
			continue
		}
		p, err := strconv.ParseUint(hexPort, 16, 16)
		if err != nil || int(p) != port {
			continue
		}
		ip, ok := parseProcAddr(hexAddr)
		if !ok || !ip.Unmap().IsLoopback() {
			out = append(out, net.JoinHostPort(ip.String(), strconv.Itoa(port)))
		}
	}
	return out
}

// parseProcAddr decodes /proc/net/tcp's address: 4 (IPv4) or 16 (IPv6)
// bytes in hex, each 32-bit word in host (little-endian) order.
func parseProcAddr(h string) (netip.Addr, bool) {
	b, err := hex.DecodeString(h)
	if err != nil || (len(b) != 4 && len(b) != 16) {
		return netip.Addr{}, false
	}
	for i := 0; i+4 <= len(b); i += 4 {
		b[i], b[i+1], b[i+2], b[i+3] = b[i+3], b[i+2], b[i+1], b[i]
	}
	ip, ok := netip.AddrFromSlice(b)
	return ip, ok
}

func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}
