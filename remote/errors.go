package remote

import (
	"errors"
	"fmt"
)

// ErrAuth is matched (errors.Is) by dial errors where the server rejected
// every authentication method offered.
var ErrAuth = errors.New("authentication failed")

// ErrUnreachable is matched (errors.Is) by dial errors where no SSH session
// could be established: the TCP connection failed, timed out, or the server
// hung up before the handshake finished.
var ErrUnreachable = errors.New("unreachable")

// ErrForwardDenied is matched (errors.Is) by ListenRemote errors where the
// server refused the remote forward, typically because the port is taken or
// forwarding is disabled (AllowTcpForwarding no).
var ErrForwardDenied = errors.New("remote forward denied by server")

// HostKeyError reports a host key that is not trusted: either unknown
// (absent from the known_hosts file) or changed (the file holds a different
// key for the host). A changed key is always an error, whatever
// Target.AcceptNewHostKey says.
type HostKeyError struct {
	// Name is the target's display name ("h2").
	Name string
	// Host is the address that was checked, host:port ("10.0.0.12:22").
	Host string
	// KeyType is the key's algorithm ("ssh-ed25519").
	KeyType string
	// Fingerprint is the key's SHA256 fingerprint ("SHA256:...").
	Fingerprint string
	// Changed is true when the file holds another key for Host.
	Changed bool
	// File is the known_hosts file that was consulted.
	File string
	// Line is the line of File that holds the old key when Changed.
	Line int
}

// Error names the host first, then the reason and what to do about it.
func (e *HostKeyError) Error() string {
	who := hostLabel(e.Name, e.Host)
	if e.Changed {
		where := e.File
		if e.Line > 0 {
			where = fmt.Sprintf("%s:%d", e.File, e.Line)
		}
		return fmt.Sprintf("%s: host key changed: %s %s does not match %s (possible man-in-the-middle; remove the old line from %s)",
			who, e.KeyType, e.Fingerprint, where, e.File)
	}
	return fmt.Sprintf("%s: host key unknown: %s %s is not in %s (use --accept-new-host-keys to trust it)",
		who, e.KeyType, e.Fingerprint, e.File)
}

// DialError is what Dial returns for failures other than host keys. Its
// Kind (ErrAuth, ErrUnreachable or nil) and its cause are both reachable
// with errors.Is / errors.As.
type DialError struct {
	// Name is the target's display name.
	Name string
	// Host is host:port of the server that failed.
	Host string
	// Kind is ErrAuth, ErrUnreachable, or nil for other failures.
	Kind error
	// Detail says what was tried, when that helps ("tried publickey with ...").
	Detail string
	// Err is the underlying cause, if any.
	Err error
}

// Error reads "h2 (10.0.0.12:22): unreachable: dial tcp ...: connection refused".
func (e *DialError) Error() string {
	msg := hostLabel(e.Name, e.Host) + ":"
	if e.Kind != nil {
		msg += " " + e.Kind.Error() + ":"
	} else {
		msg += " ssh handshake failed:"
	}
	if e.Detail != "" {
		msg += " " + e.Detail
		if e.Err != nil {
			msg += ":"
		}
	}
	if e.Err != nil {
		msg += " " + e.Err.Error()
	}
	return msg
}

// Unwrap exposes both the kind and the cause.
func (e *DialError) Unwrap() []error {
	var errs []error
	if e.Kind != nil {
		errs = append(errs, e.Kind)
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// ExitError is returned by Process.Wait when the remote command exited
// with a non-zero status or was killed by a signal.
type ExitError struct {
	// Status is the exit status; 128+n when killed by signal n (as a shell
	// reports it).
	Status int
	// Signal is the signal name without "SIG" ("KILL"), empty for a normal exit.
	Signal string
}

// Error reads "exit status 3" or "killed by signal KILL".
func (e *ExitError) Error() string {
	if e.Signal != "" {
		return "killed by signal " + e.Signal
	}
	return fmt.Sprintf("exit status %d", e.Status)
}

// hostLabel formats "name (host:port)", or just host:port when the name
// adds nothing.
func hostLabel(name, hostPort string) string {
	if name == "" || name == hostPort {
		return hostPort
	}
	return name + " (" + hostPort + ")"
}
