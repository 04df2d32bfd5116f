// Package remote is rally's SSH layer: it dials hosts with
// golang.org/x/crypto/ssh the way an OpenSSH user expects (private keys,
// ssh-agent, ~/.ssh/config, known_hosts with optional trust-on-first-use,
// jump hosts, keepalives), runs commands, opens one SFTP client per
// connection and asks hosts for loopback-only remote forwards.
//
// Host keys are always checked. An unknown key is an error (*HostKeyError)
// unless Target.AcceptNewHostKey is set, in which case the key is appended
// to the known_hosts file under a file lock; a changed key is an error in
// every mode. The client only offers the host-key algorithms the known_hosts
// file holds for a host, so a host is never reported as "changed" merely
// because the server prefers another key type.
//
// Keepalives are keepalive@openssh.com global requests sent every
// KeepaliveInterval; when one has gone unanswered for
// KeepaliveInterval×KeepaliveCountMax the connection is closed and Done is
// closed, so callers notice a silent peer (a frozen host, a cut link) as
// quickly as OpenSSH's ServerAliveInterval would.
//
// Commands (Run, Start) always run under /bin/sh -c, whatever the user's
// login shell, in a process group of their own; cancelling their context
// kills that group from a second session, because OpenSSH ignores signal
// requests for root logins and a command without a pty gets no SIGHUP when
// its session closes. Process.PID is the group's id.
//
// Only the user's ~/.ssh/config is read (HostName, User, Port,
// IdentityFile, ProxyJump, UserKnownHostsFile); /etc/ssh/ssh_config is not.
// Values set on the Target win over the file.
//
// remote knows nothing of benchmarks, inventories or workers: it must not
// grow knowledge of what runs over the connections it makes.
package remote
