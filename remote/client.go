package remote

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// Client is one authenticated SSH connection. It is safe for concurrent
// use: many sessions (Run, Start), one shared SFTP client and remote
// forwards can run over it at once.
type Client struct {
	target Target
	ssh    *ssh.Client
	jump   *Client // owned; closed with c
	done   chan struct{}
	wg     sync.WaitGroup // watcher, keepalive and its request goroutines

	mu     sync.Mutex
	err    error // why the connection ended; nil while alive
	closed bool  // Close has begun: no new goroutines

	sftpMu sync.Mutex
	sftp   *sftp.Client

	closeOnce sync.Once
}

// newClient wraps an established connection and starts its watcher and
// keepalive goroutines; both end when the connection does.
func newClient(t Target, sc *ssh.Client, via *Client) *Client {
	c := &Client{target: t, ssh: sc, jump: via, done: make(chan struct{})}
	c.wg.Go(func() {
		err := sc.Wait()
		c.setErr(fmt.Errorf("%s: connection lost: %w", t, orEOF(err)))
		if c.jump != nil {
			c.jump.Close()
		}
		close(c.done)
	})
	if t.KeepaliveInterval > 0 {
		c.wg.Go(c.keepalive)
	}
	return c
}

func orEOF(err error) error {
	if err == nil {
		return errors.New("server closed the connection")
	}
	return err
}

// Target returns the target as dialed: zero fields filled from the SSH
// config and defaults.
func (c *Client) Target() Target { return c.target }

// Done is closed when the connection is gone: the server hung up, a
// keepalive went unanswered too long, or Close was called.
func (c *Client) Done() <-chan struct{} { return c.done }

// Err says why the connection ended; it is nil while the connection is up.
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// goOwned runs f in a goroutine that Close waits for, unless Close has
// begun (then f is not run).
func (c *Client) goOwned(f func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.closed {
		c.wg.Go(f)
	}
}

// setErr records the first reason the connection ended.
func (c *Client) setErr(err error) {
	c.mu.Lock()
	if c.err == nil {
		c.err = err
	}
	c.mu.Unlock()
}

// Close ends the connection, its SFTP client, its forwards and its jump
// hosts, and waits for the client's goroutines. It is idempotent.
func (c *Client) Close() error {
	var err error
	c.closeOnce.Do(func() {
		c.setErr(fmt.Errorf("%s: %w", c.target, net.ErrClosed))
		c.mu.Lock()
		c.closed = true
		c.mu.Unlock()
		// The connection goes first: an SFTP client still starting (holding
		// sftpMu over network I/O) then fails at once instead of blocking
		// Close.
		err = c.ssh.Close()
		c.sftpMu.Lock()
		if c.sftp != nil {
			c.sftp.Close()
		}
		c.sftpMu.Unlock()
		c.wg.Wait()
		if c.jump != nil {
			c.jump.Close()
		}
	})
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}

// keepalive sends keepalive@openssh.com every KeepaliveInterval, one at a
// time, and closes the connection when one has been outstanding for
// KeepaliveInterval×KeepaliveCountMax. OpenSSH answers the request with a
// failure reply, which counts as an answer: the peer is alive.
func (c *Client) keepalive() {
	interval := c.target.KeepaliveInterval
	limit := interval * time.Duration(c.target.KeepaliveCountMax)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	replies := make(chan error, 1) // at most one request outstanding
	var sentAt time.Time           // zero when none is outstanding
	for {
		select {
		case <-c.done:
			return
		case err := <-replies:
			sentAt = time.Time{}
			if err != nil {
				return // the connection is closing; the watcher reports why
			}
		case now := <-tick.C:
			if !sentAt.IsZero() {
				if now.Sub(sentAt) >= limit {
					c.setErr(fmt.Errorf("%s: connection lost: no reply to keepalive for %s", c.target, now.Sub(sentAt).Round(time.Millisecond)))
					c.ssh.Close()
					return
				}
				continue
			}
			sentAt = now
			c.wg.Go(func() {
				_, _, err := c.ssh.SendRequest("keepalive@openssh.com", true, nil)
				replies <- err
			})
		}
	}
}

// SFTP returns the connection's SFTP client, starting it on first use.
// It writes with concurrent requests (sftp.UseConcurrentWrites), so
// File.ReadFrom uploads at link speed rather than one packet per round
// trip; to OpenSSH's sftp-server it sends larger packets (see
// openSSHPacket). Do not close it: Close does.
func (c *Client) SFTP() (*sftp.Client, error) {
	c.sftpMu.Lock()
	defer c.sftpMu.Unlock()
	if c.sftp != nil {
		return c.sftp, nil
	}
	select {
	case <-c.done:
		return nil, fmt.Errorf("%s: sftp: %w", c.target, c.Err())
	default:
	}
	s, err := sftp.NewClient(c.ssh, sftp.UseConcurrentWrites(true))
	if err != nil {
		return nil, fmt.Errorf("%s: start sftp: %w", c.target, err)
	}
	if _, ok := s.HasExtension("limits@openssh.com"); ok {
		// The server said what it is only in its first answer, so the
		// options are applied now, before anyone else has the client.
		for _, opt := range []sftp.ClientOption{sftp.MaxPacketUnchecked(openSSHPacket), sftp.MaxConcurrentRequestsPerFile(openSSHRequests)} {
			if err := opt(s); err != nil {
				s.Close()
				return nil, fmt.Errorf("%s: start sftp: %w", c.target, err)
			}
		}
	}
	c.sftp = s
	return s, nil
}

// openSSHPacket and openSSHRequests are the SFTP data size per request and
// the requests in flight per file for a server that advertises
// limits@openssh.com (OpenSSH's sftp-server since 8.6, which takes
// messages of up to 256 KiB). SFTP only promises 32 KiB, pkg/sftp's
// default, with 64 requests in flight. Four times larger requests, a
// quarter as many at once (the same 2 MiB in flight per file), wrote an
// 8 MiB file over a loopback sshd at about 220 MB/s instead of 150
// (BenchmarkSFTPWrite): fewer requests for the server to answer.
const (
	openSSHPacket   = 128 << 10
	openSSHRequests = 16
)
