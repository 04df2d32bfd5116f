package lab

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"
)

// sshdPath is the OpenSSH server every host runs.
const sshdPath = "/usr/sbin/sshd"

// hostMount is where, inside each host, its own directory of the lab dir
// (sshd_config, host key, authorized_keys) is bind-mounted. It is outside
// /root and /tmp, so those start empty on every host, and the lab dir may
// itself live under the machine's /tmp, which the host cannot see.
const hostMount = "/run/rally-lab"

// initScript runs as the first process of a host's PID namespace, inside its
// own mount and UTS namespaces. It mounts the private /root and /tmp, binds
// the host's directory (held open on fd 3, as its path may be hidden by now)
// at hostMount, and turns into sshd, which then reaps orphans like an init.
const initScript = `# rally lab host init: the first process of the host's PID namespace
set -e
hostdir=$1
name=$2
exec 3<"$hostdir"
mount -t tmpfs -o mode=0700 rally-lab-root /root
mount -t tmpfs -o mode=1777 rally-lab-tmp /tmp
mount --no-canonicalize --bind /proc/self/fd/3 ` + hostMount + `
exec 3<&-
hostname "$name"
exec ` + sshdPath + ` -D -e -f ` + hostMount + `/sshd_config
`

// sshdConfig is each host's sshd_config; the arguments are the listen
// address, the host's directory as the host sees it, the port and the name.
const sshdConfig = `# rally lab host %[4]s
ListenAddress %[1]s:%[3]d
HostKey %[2]s/ssh_host_ed25519_key
AuthorizedKeysFile %[2]s/authorized_keys
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
Subsystem sftp internal-sftp
AllowTcpForwarding yes
AllowStreamLocalForwarding yes
GatewayPorts no
X11Forwarding no
PermitTunnel no
PidFile none
UseDNS no
PrintMotd no
PrintLastLog no
LoginGraceTime 20
ClientAliveInterval 5
ClientAliveCountMax 3
MaxStartups 100:30:200
MaxSessions 100
LogLevel INFO
`

// launcher is an "ip netns exec ... unshare ..." process this process
// started; done closes once it has been waited for.
type launcher struct {
	cmd  *exec.Cmd
	done chan struct{}
}

// makeKeys creates the lab identity and every host's directory, host key,
// sshd_config and authorized_keys.
func (l *Lab) makeKeys(ctx context.Context) error {
	for _, f := range []string{l.IdentityFile(), l.IdentityFile() + ".pub"} {
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("identity: %w", err)
		}
	}
	if err := keygen(ctx, l.IdentityFile(), "rally-lab-"+l.st.RunID); err != nil {
		return fmt.Errorf("identity: %w", err)
	}
	pub, err := os.ReadFile(l.IdentityFile() + ".pub")
	if err != nil {
		return fmt.Errorf("identity: %w", err)
	}
	for _, h := range l.st.Hosts {
		dir := l.hostDir(h.Name)
		if err := os.RemoveAll(dir); err != nil {
			return fmt.Errorf("%s: %w", h.Name, err)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("%s: %w", h.Name, err)
		}
		if err := keygen(ctx, filepath.Join(dir, "ssh_host_ed25519_key"), "rally-lab-"+l.st.RunID+"-"+h.Name); err != nil {
			return fmt.Errorf("%s: host key: %w", h.Name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, "authorized_keys"), pub, 0o644); err != nil {
			return fmt.Errorf("%s: %w", h.Name, err)
		}
	}
	return nil
}

// keygen makes an ed25519 key pair without passphrase at path and path.pub.
func keygen(ctx context.Context, path, comment string) error {
	out, err := exec.CommandContext(ctx, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", path).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ssh-keygen %s: %w: %s", path, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// startHosts writes each host's sshd_config, starts its sshd in fresh
// namespaces and waits until every sshd sends its banner.
func (l *Lab) startHosts(ctx context.Context) error {
	for _, d := range []string{"/run/sshd", hostMount} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("sshd: %w", err)
		}
	}
	for i := range l.st.Hosts {
		if err := l.launch(ctx, &l.st.Hosts[i]); err != nil {
			return err
		}
	}
	if err := l.save(); err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	for _, h := range l.st.Hosts {
		g.Go(func() error { return l.waitSSH(gctx, h) })
	}
	return g.Wait()
}

// launch starts one host: ip netns exec puts it in the host's network
// namespace and execs unshare, which forks the host's first process. The
// launcher gets its own session and no pipes to this process, so the host
// outlives a rally-lab command that exits.
func (l *Lab) launch(ctx context.Context, h *hostState) error {
	dir := l.hostDir(h.Name)
	conf := fmt.Sprintf(sshdConfig, h.Address, hostMount, h.Port, h.Name)
	if err := os.WriteFile(filepath.Join(dir, "sshd_config"), []byte(conf), 0o644); err != nil {
		return fmt.Errorf("%s: %w", h.Name, err)
	}
	script := filepath.Join(dir, "init.sh")
	if err := os.WriteFile(script, []byte(initScript), 0o755); err != nil {
		return fmt.Errorf("%s: %w", h.Name, err)
	}
	logf, err := os.OpenFile(l.LogFile(h.Name), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("%s: sshd log: %w", h.Name, err)
	}
	defer logf.Close()
	cmd := exec.Command("ip", "netns", "exec", h.Netns,
		"unshare", "--mount", "--pid", "--uts", "--fork", "--mount-proc", "--propagation", "private",
		"/bin/sh", script, dir, h.Name)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("%s: start sshd: %w", h.Name, err)
	}
	ln := &launcher{cmd: cmd, done: make(chan struct{})}
	l.owned[h.Name] = ln
	go func() {
		// Reaps the launcher; Close waits on done.
		cmd.Wait()
		close(ln.done)
	}()
	h.LauncherPID = cmd.Process.Pid
	if p, err := readProc(h.LauncherPID); err == nil {
		h.LauncherStart = p.Start
	}
	// unshare forks the host's first process right away; find it.
	for {
		pid, err := childOf(h.LauncherPID)
		if err != nil {
			return fmt.Errorf("%s: find init process: %w", h.Name, err)
		}
		if pid > 0 {
			p, err := readProc(pid)
			if err == nil {
				h.InitPID, h.InitStart = pid, p.Start
				return nil
			}
		}
		select {
		case <-ln.done:
			return fmt.Errorf("%s: launcher exited before starting sshd: %s", h.Name, l.logTail(h.Name))
		case <-ctx.Done():
			return fmt.Errorf("%s: find init process: %w", h.Name, ctx.Err())
		case <-time.After(2 * time.Millisecond):
		}
	}
}

// waitSSH waits until the host's sshd answers with an SSH banner.
func (l *Lab) waitSSH(ctx context.Context, h hostState) error {
	addr := net.JoinHostPort(h.Address, fmt.Sprint(h.Port))
	ln := l.owned[h.Name]
	var lastErr error
	for {
		if err := readBanner(ctx, addr); err == nil {
			return nil
		} else {
			lastErr = err
		}
		if !running(h.InitPID, h.InitStart) {
			return fmt.Errorf("%s (%s): sshd exited: %s", h.Name, addr, l.logTail(h.Name))
		}
		select {
		case <-ln.done:
			return fmt.Errorf("%s (%s): sshd exited: %s", h.Name, addr, l.logTail(h.Name))
		case <-ctx.Done():
			return fmt.Errorf("%s (%s): sshd not answering: %v: %w (log: %s)", h.Name, addr, lastErr, ctx.Err(), l.logTail(h.Name))
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// readBanner connects to addr and reads the server's identification line.
func readBanner(ctx context.Context, addr string) error {
	d := net.Dialer{Timeout: 500 * time.Millisecond}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return fmt.Errorf("read banner: %w", err)
	}
	if !strings.HasPrefix(line, "SSH-2.0-") {
		return fmt.Errorf("banner %q is not SSH-2.0", strings.TrimSpace(line))
	}
	return nil
}

// logTail returns the last lines of a host's log, for error messages.
func (l *Lab) logTail(name string) string {
	data, err := os.ReadFile(l.LogFile(name))
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) > 10 {
		lines = lines[len(lines)-10:]
	}
	s := strings.Join(lines, " | ")
	if s == "" {
		return "(log empty)"
	}
	return s
}
