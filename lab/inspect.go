package lab

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// hostEnv is the environment of commands run with Exec and Spawn: what a
// root login would have, and nothing of the calling process.
var hostEnv = []string{
	"HOME=/root",
	"USER=root",
	"LOGNAME=root",
	"SHELL=/bin/sh",
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"LANG=C.UTF-8",
}

// live returns the host and checks that its first process still runs, so
// that nothing below touches a PID that now belongs to someone else.
func (l *Lab) live(name string) (hostState, error) {
	h, err := l.hostState(name)
	if err != nil {
		return h, err
	}
	if h.InitPID <= 0 || !running(h.InitPID, h.InitStart) {
		return h, fmt.Errorf("%s (%s): host is down (init pid %d is gone)", h.Name, h.Address, h.InitPID)
	}
	return h, nil
}

// orphanGuard closes the window in which nsenter dies before setpriv has
// set the death signal: a process whose parent is outside its PID namespace
// sees a parent PID of 0, so any other value means nsenter is already gone.
const orphanGuard = `[ "$PPID" = 0 ] || exit 137; exec "$@"`

// Command returns, not yet started, a command that runs argv inside the host:
// nsenter into its network, mount, UTS and PID namespaces, with the
// environment of a root login and the host's / as working directory. The
// caller sets its streams. setpriv makes argv die with nsenter, so killing
// the command's process (or cancelling ctx) kills argv inside the host too.
// argv[0] is looked up in the host's filesystem.
func (l *Lab) Command(ctx context.Context, name string, argv ...string) (*exec.Cmd, error) {
	if len(argv) == 0 {
		return nil, fmt.Errorf("%s: no command given", name)
	}
	h, err := l.live(name)
	if err != nil {
		return nil, err
	}
	args := []string{"--target", strconv.Itoa(h.InitPID), "--net", "--mount", "--uts", "--pid", "--",
		"setpriv", "--pdeathsig", "KILL", "--", "/bin/sh", "-c", orphanGuard, "rally-lab-exec"}
	cmd := exec.CommandContext(ctx, "nsenter", append(args, argv...)...)
	cmd.Env = hostEnv
	cmd.Dir = "/"
	return cmd, nil
}

// Exec runs argv inside the host (its network, mount, PID and UTS
// namespaces, via nsenter, not SSH) and returns its standard output. A
// failure's error includes the command's standard error. argv[0] is looked
// up in the host's filesystem: the machine's /root and /tmp are not visible
// there (see CopyFile).
func (l *Lab) Exec(ctx context.Context, name string, argv ...string) ([]byte, error) {
	cmd, err := l.Command(ctx, name, argv...)
	if err != nil {
		return nil, err
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), fmt.Errorf("%s: exec %q: %w: %s", name, argv, err, strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}

// Spawn starts argv inside the host like Exec, but in the background: the
// caller Waits for it or kills it (killing the returned process kills the
// command in the host). Its output is appended to LogFile(name).
func (l *Lab) Spawn(ctx context.Context, name string, argv ...string) (*exec.Cmd, error) {
	cmd, err := l.Command(ctx, name, argv...)
	if err != nil {
		return nil, err
	}
	logf, err := os.OpenFile(l.LogFile(name), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("%s: spawn %q: %w", name, argv, err)
	}
	defer logf.Close() // the child keeps its own copy
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: spawn %q: %w", name, argv, err)
	}
	return cmd, nil
}

// Processes lists every process in the host's PID namespace, ordered by
// their PID inside the host (sshd is 1). It reads the machine's /proc.
func (l *Lab) Processes(ctx context.Context, name string) ([]Process, error) {
	h, err := l.live(name)
	if err != nil {
		return nil, err
	}
	want, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", h.InitPID))
	if err != nil {
		return nil, fmt.Errorf("%s: processes: %w", name, err)
	}
	all, err := pids()
	if err != nil {
		return nil, fmt.Errorf("%s: processes: %w", name, err)
	}
	var out []Process
	for _, pid := range all {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		ns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", pid))
		if err != nil || ns != want {
			continue // gone meanwhile, or another namespace
		}
		p := Process{PID: pid, HostPID: nsPID(pid), Command: cmdline(pid)}
		if p.HostPID == 0 {
			continue // exited between the two reads
		}
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b Process) int { return a.HostPID - b.HostPID })
	return out, nil
}

// nsPID returns pid's PID in its innermost PID namespace (the last NSpid
// field of /proc/<pid>/status), or 0 if the process is gone.
func nsPID(pid int) int {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "NSpid:"); ok {
			f := strings.Fields(rest)
			if len(f) == 0 {
				return 0
			}
			n, _ := strconv.Atoi(f[len(f)-1])
			return n
		}
	}
	return 0
}

// cmdline returns the process's arguments joined by spaces, or its name in
// brackets when it has none (kernel threads, zombies).
func cmdline(pid int) string {
	data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	data = bytes.TrimRight(data, "\x00")
	if len(data) > 0 {
		return string(bytes.ReplaceAll(data, []byte{0}, []byte{' '}))
	}
	comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	return "[" + strings.TrimSpace(string(comm)) + "]"
}

// Listeners returns the TCP addresses listened on inside the host's network
// namespace, sorted, e.g. "10.213.7.11:22" and "127.0.0.1:1900" ("[::1]:22"
// for IPv6). It reads /proc/<init pid>/net/tcp{,6}, which show the
// namespace of that process.
func (l *Lab) Listeners(ctx context.Context, name string) ([]string, error) {
	h, err := l.live(name)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, f := range []string{"tcp", "tcp6"} {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/%s", h.InitPID, f))
		if errors.Is(err, fs.ErrNotExist) && f == "tcp6" {
			continue // IPv6 disabled
		}
		if err != nil {
			return nil, fmt.Errorf("%s: listeners: %w", name, err)
		}
		addrs, err := parseProcNetTCP(data)
		if err != nil {
			return nil, fmt.Errorf("%s: listeners: /proc/%d/net/%s: %w", name, h.InitPID, f, err)
		}
		out = append(out, addrs...)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// tcpListen is the st value of a listening socket in /proc/net/tcp.
const tcpListen = "0A"

// parseProcNetTCP returns the local addresses of listening sockets in the
// text of /proc/net/tcp or /proc/net/tcp6. Addresses there are hex dumps of
// the kernel's 32-bit words in host (little-endian) order; ports are
// big-endian hex.
func parseProcNetTCP(data []byte) ([]string, error) {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	first := true
	for sc.Scan() {
		if first {
			first = false
			continue // header
		}
		f := strings.Fields(sc.Text())
		if len(f) < 4 || f[3] != tcpListen {
			continue
		}
		ap, err := parseHexAddrPort(f[1])
		if err != nil {
			return nil, err
		}
		out = append(out, ap.String())
	}
	return out, sc.Err()
}

func parseHexAddrPort(s string) (netip.AddrPort, error) {
	hexAddr, hexPort, ok := strings.Cut(s, ":")
	if !ok {
		return netip.AddrPort{}, fmt.Errorf("address %q: no port", s)
	}
	raw, err := hex.DecodeString(hexAddr)
	if err != nil || (len(raw) != 4 && len(raw) != 16) {
		return netip.AddrPort{}, fmt.Errorf("address %q: want 8 or 32 hex digits", s)
	}
	port, err := strconv.ParseUint(hexPort, 16, 16)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("address %q: port: %w", s, err)
	}
	for i := 0; i < len(raw); i += 4 {
		raw[i], raw[i+1], raw[i+2], raw[i+3] = raw[i+3], raw[i+2], raw[i+1], raw[i]
	}
	addr, _ := netip.AddrFromSlice(raw)
	return netip.AddrPortFrom(addr.Unmap(), uint16(port)), nil
}

// Files returns every file (not directory) under dir as the host sees it,
// as absolute paths inside the host, sorted, e.g. Files(ctx, "h1",
// "/root/.rally"). It reads through /proc/<init pid>/root, which shows the
// host's mount namespace. If dir does not exist the error wraps
// fs.ErrNotExist.
func (l *Lab) Files(ctx context.Context, name, dir string) ([]string, error) {
	h, err := l.live(name)
	if err != nil {
		return nil, err
	}
	if !path.IsAbs(dir) {
		return nil, fmt.Errorf("%s: files: %q is not an absolute path", name, dir)
	}
	root := fmt.Sprintf("/proc/%d/root", h.InitPID)
	base := filepath.Join(root, path.Clean(dir))
	var out []string
	err = filepath.WalkDir(base, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if !d.IsDir() {
			out = append(out, strings.TrimPrefix(p, root))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s: files under %s: %w", name, dir, err)
	}
	slices.Sort(out)
	return out, nil
}

// CopyFile copies the machine's file src to dst inside the host (creating
// dst's directory), keeping its mode. Use it to put a helper binary where a
// host can run it: the machine's /tmp and /root are hidden inside hosts.
func (l *Lab) CopyFile(ctx context.Context, name, src, dst string) error {
	h, err := l.live(name)
	if err != nil {
		return err
	}
	if !path.IsAbs(dst) {
		return fmt.Errorf("%s: copy %s: destination %q is not an absolute path", name, src, dst)
	}
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("%s: copy: %w", name, err)
	}
	defer in.Close()
	info, err := in.Stat()
	if err != nil {
		return fmt.Errorf("%s: copy: %w", name, err)
	}
	target := filepath.Join(fmt.Sprintf("/proc/%d/root", h.InitPID), path.Clean(dst))
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return fmt.Errorf("%s: copy %s to %s: %w", name, src, dst, err)
	}
	out, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, info.Mode().Perm())
	if err != nil {
		return fmt.Errorf("%s: copy %s to %s: %w", name, src, dst, err)
	}
	if _, err := io.Copy(out, ctxReader{ctx, in}); err != nil {
		out.Close()
		return fmt.Errorf("%s: copy %s to %s: %w", name, src, dst, err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("%s: copy %s to %s: %w", name, src, dst, err)
	}
	return nil
}

// ctxReader stops a copy once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
