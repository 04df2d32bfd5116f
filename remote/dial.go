package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"

	"golang.org/x/crypto/ssh"
)

// DefaultDialParallel bounds DialAll when its parallel argument is not positive.
const DefaultDialParallel = 32

// Dial connects and authenticates to t, through its jump hosts if any,
// checking host keys against the known_hosts file. Errors are
// *HostKeyError, or errors matching ErrAuth or ErrUnreachable, each naming
// the host first. ctx bounds the dial only; use Close to end the connection.
func Dial(ctx context.Context, t Target) (*Client, error) {
	rt, err := t.resolved()
	if err != nil {
		return nil, err
	}
	var via *Client
	if rt.Jump != "" {
		for _, hop := range strings.Split(rt.Jump, ",") {
			jt, err := rt.jumpTarget(hop)
			if err == nil {
				var c *Client
				c, err = dialOne(ctx, jt, via)
				if err == nil {
					via = c
					continue
				}
			}
			if via != nil {
				via.Close()
			}
			return nil, fmt.Errorf("%s: via jump host: %w", rt, err)
		}
	}
	c, err := dialOne(ctx, rt, via)
	if err != nil {
		if via != nil {
			via.Close()
		}
		return nil, err
	}
	return c, nil
}

// DialAll dials every target with at most parallel dials in flight
// (DefaultDialParallel when parallel <= 0). Both results are in the order
// of targets: for each index exactly one of client and error is non-nil.
func DialAll(ctx context.Context, targets []Target, parallel int) ([]*Client, []error) {
	if parallel <= 0 {
		parallel = DefaultDialParallel
	}
	parallel = min(parallel, len(targets))
	clients := make([]*Client, len(targets))
	errs := make([]error, len(targets))
	next := make(chan int)
	var wg sync.WaitGroup
	for range parallel {
		wg.Go(func() {
			for i := range next {
				clients[i], errs[i] = Dial(ctx, targets[i])
			}
		})
	}
	for i := range targets {
		next <- i
	}
	close(next)
	wg.Wait()
	return clients, errs
}

// dialOne makes one SSH connection to the resolved target t, over a TCP
// connection of its own or a channel of via (a jump host). On success the
// new client owns via.
func dialOne(ctx context.Context, t Target, via *Client) (*Client, error) {
	addr := t.HostPort()
	dctx, cancel := context.WithTimeout(ctx, t.ConnectTimeout)
	defer cancel()

	var conn net.Conn
	var err error
	if via == nil {
		var d net.Dialer
		conn, err = d.DialContext(dctx, "tcp", addr)
	} else {
		conn, err = via.ssh.DialContext(dctx, "tcp", addr)
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%s: dial: %w", t, ctx.Err())
		}
		return nil, &DialError{Name: t.Name, Host: addr, Kind: ErrUnreachable, Err: err}
	}

	hk, err := newHostKeyChecker(t)
	if err != nil {
		conn.Close()
		return nil, err
	}
	a := newAuth(t)
	defer a.close()
	cfg := &ssh.ClientConfig{
		User:              t.User,
		Auth:              a.methods(),
		HostKeyCallback:   hk.callback,
		HostKeyAlgorithms: hk.algorithms(),
	}

	// x/crypto's handshake takes no context: closing the connection is
	// the only way to abandon it.
	stop := context.AfterFunc(dctx, func() { conn.Close() })
	sc, chans, reqs, err := ssh.NewClientConn(conn, addr, cfg)
	if !stop() && err == nil {
		sc.Close()
		err = dctx.Err()
	}
	if err != nil {
		conn.Close()
		return nil, handshakeError(ctx, dctx, t, hk, a, cfg.HostKeyAlgorithms, err)
	}
	return newClient(t, ssh.NewClient(sc, chans, reqs), via), nil
}

// handshakeError classifies a failed SSH handshake.
func handshakeError(ctx, dctx context.Context, t Target, hk *hostKeyChecker, a *auth, algos []string, err error) error {
	de := &DialError{Name: t.Name, Host: t.HostPort(), Err: err}
	var negotiation *ssh.AlgorithmNegotiationError
	switch {
	case hk.err != nil:
		return hk.err
	case ctx.Err() != nil:
		return fmt.Errorf("%s: dial: %w", t, ctx.Err())
	case dctx.Err() != nil:
		de.Kind = ErrUnreachable
		de.Detail = fmt.Sprintf("no SSH handshake within %s", t.ConnectTimeout)
		de.Err = dctx.Err()
	case strings.Contains(err.Error(), "unable to authenticate"):
		de.Kind = ErrAuth
		de.Detail = a.describe()
		de.Err = nil
	case errors.As(err, &negotiation) && len(algos) > 0:
		de.Detail = fmt.Sprintf("server offers none of the host key types %s holds for it (%s); its host keys may have changed",
			t.KnownHostsFile, strings.Join(algos, ", "))
	case errors.Is(err, io.EOF) || isNetError(err):
		de.Kind = ErrUnreachable
		de.Detail = "connection lost during SSH handshake"
	}
	return de
}

func isNetError(err error) bool {
	var ne net.Error
	return errors.As(err, &ne)
}
