// Package lab runs real test hosts on this machine, so that end-to-end tests
// drive rally against real OpenSSH servers instead of fakes.
//
// A lab host is a network namespace (named rl<run id>-h1, -h2, ...) joined by
// a veth pair to a bridge that only this lab uses (rlb<run id>), on a /24 of
// 10.213.0.0/16 that collides with no address already on the machine: the
// bridge has .1, hosts have .11, .12, .... Each host runs a real
// /usr/sbin/sshd as the first process of its own PID, mount and UTS
// namespaces (unshare --mount --pid --uts), with a private tmpfs on /root and
// /tmp: a file root writes on one host is invisible to the other hosts and to
// the machine, and each host sees only its own processes. Everything else of
// the filesystem is the machine's, so the shell and ordinary binaries work.
//
// Start writes, into the lab directory, an identity key accepted by every
// host, a known_hosts file with every host key, an inventory (hosts.yaml) in
// rally's format, an ssh_config usable with "ssh -F", and lab.json, the state
// from which Open reattaches (the rally-lab command uses it for "down").
// The test helpers inspect a host from the outside, without SSH: Exec and
// Spawn run commands inside its namespaces with nsenter; Processes,
// Listeners and Files read /proc. Cut and Heal take a host's link down and
// up to simulate a network partition.
//
// A lab needs root, iproute2 (ip), openssh-server (/usr/sbin/sshd and
// ssh-keygen) and util-linux (unshare, nsenter, setpriv). Require fails the
// test with a message naming what is missing; with RALLY_LAB=skip in the
// environment it skips instead. It never skips silently.
//
// The package must not touch anything it did not create: it kills only the
// processes it started (checked by PID and start time), deletes only its own
// namespaces and links, and never changes the machine's addresses, routes or
// firewall. It does not speak SSH itself; that is the remote package's job.
package lab
