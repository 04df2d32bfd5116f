package lab_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"rally/inventory"
	"rally/lab"
)

// ssh runs the real OpenSSH client against a lab host through the lab's
// ssh_config, with strict host key checking, and returns its combined output.
func ssh(ctx context.Context, l *lab.Lab, host string, extra []string, command string) ([]byte, error) {
	// ssh keeps the first value it gets for an option, so extra goes first.
	args := append([]string{"-F", l.SSHConfigFile()}, extra...)
	args = append(args, "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes", "-o", "ConnectTimeout=5")
	args = append(args, host, command)
	return exec.CommandContext(ctx, "ssh", args...).CombinedOutput()
}

func mustSSH(t *testing.T, l *lab.Lab, host, command string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	out, err := ssh(ctx, l, host, nil, command)
	if err != nil {
		t.Fatalf("ssh %s %q: %v: %s", host, command, err, out)
	}
	return string(out)
}

// commands lists the processes' command lines, briefly.
func commands(ps []lab.Process) string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Command
	}
	return brief(out)
}

// brief quotes the first few items of a list, to keep failures readable
// when a broken lab shows the whole machine.
func brief(items []string) string {
	const max = 8
	for i, s := range items {
		if len(s) > 120 {
			items[i] = s[:120] + "..."
		}
	}
	if len(items) > max {
		return fmt.Sprintf("%q and %d more", items[:max], len(items)-max)
	}
	return fmt.Sprintf("%q", items)
}

func hasCommand(ps []lab.Process, substr string) bool {
	return slices.ContainsFunc(ps, func(p lab.Process) bool { return strings.Contains(p.Command, substr) })
}

// runs reports whether a process with exactly this command line runs (a
// substring would also match the nsenter that is about to start it).
func runs(ps []lab.Process, command string) bool {
	return slices.ContainsFunc(ps, func(p lab.Process) bool { return p.Command == command })
}

// assertTornDown checks that nothing of the lab is left on the machine: no
// namespace, no link, no host process.
func assertTornDown(t *testing.T, runID string, hosts []lab.Host) {
	t.Helper()
	netns, err := exec.Command("ip", "netns", "list").CombinedOutput()
	if err != nil {
		t.Fatalf("ip netns list: %v: %s", err, netns)
	}
	links, err := exec.Command("ip", "-o", "link", "show").CombinedOutput()
	if err != nil {
		t.Fatalf("ip link show: %v: %s", err, links)
	}
	for _, h := range hosts {
		if strings.Contains(string(netns), h.Netns) {
			t.Errorf("namespace %s still listed by ip netns list:\n%s", h.Netns, netns)
		}
		if h.InitPID <= 0 {
			t.Errorf("%s: no init pid recorded", h.Name)
		} else if err := syscall.Kill(h.InitPID, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("%s: init pid %d still exists after Close (kill 0: %v)", h.Name, h.InitPID, err)
		}
	}
	if strings.Contains(string(links), "rl"+runID) || strings.Contains(string(links), "rlb"+runID) {
		t.Errorf("links of lab %s still present:\n%s", runID, links)
	}
}

func TestLab(t *testing.T) {
	begin := time.Now()
	l := lab.Require(t, 3)
	t.Logf("Start(3) took %v (lab %s on %s)", time.Since(begin).Round(time.Millisecond), l.RunID(), l.Subnet())
	hosts := l.Hosts()
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()

	t.Run("hosts_are_numbered_on_one_subnet", func(t *testing.T) {
		if len(hosts) != 3 {
			t.Fatalf("got %d hosts, want 3", len(hosts))
		}
		prefix := strings.TrimSuffix(l.Subnet(), "0/24")
		for i, h := range hosts {
			if want := fmt.Sprintf("h%d", i+1); h.Name != want {
				t.Errorf("host %d is named %q, want %q", i, h.Name, want)
			}
			if want := fmt.Sprintf("%s%d", prefix, 11+i); h.Address != want {
				t.Errorf("%s address %s, want %s", h.Name, h.Address, want)
			}
			if h.Port != 22 || h.InitPID <= 0 || !strings.HasPrefix(h.Netns, "rl"+l.RunID()) {
				t.Errorf("%s: port %d, init pid %d, netns %q", h.Name, h.Port, h.InitPID, h.Netns)
			}
		}
		if l.Gateway() != prefix+"1" {
			t.Errorf("gateway %s, want %s1", l.Gateway(), prefix)
		}
	})

	t.Run("every_host_accepts_openssh_with_strict_host_keys", func(t *testing.T) {
		for _, h := range hosts {
			if got := mustSSH(t, l, h.Name, "hostname; id -u"); got != h.Name+"\n0\n" {
				t.Errorf("ssh %s: got %q, want hostname %s and uid 0", h.Name, got, h.Name)
			}
		}
	})

	t.Run("an_unknown_host_key_is_refused", func(t *testing.T) {
		empty := filepath.Join(t.TempDir(), "known_hosts")
		if err := os.WriteFile(empty, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := ssh(ctx, l, "h1", []string{"-o", "UserKnownHostsFile=" + empty}, "true")
		if err == nil {
			t.Fatalf("ssh with an empty known_hosts succeeded: %s", out)
		}
		if !strings.Contains(string(out), "Host key verification failed") {
			t.Errorf("ssh failed for another reason than the host key: %s", out)
		}
	})

	t.Run("inventory_loads_with_every_host_and_roles", func(t *testing.T) {
		inv, err := inventory.Load(l.InventoryFile())
		if err != nil {
			t.Fatalf("inventory.Load: %v", err)
		}
		if inv.Cluster != "lab-"+l.RunID() || inv.CoordinatorPort != 1900 {
			t.Errorf("cluster %q port %d", inv.Cluster, inv.CoordinatorPort)
		}
		if inv.SSH.User != "root" || inv.SSH.Port != 22 || inv.SSH.IdentityFile != l.IdentityFile() || inv.SSH.KnownHosts != l.KnownHostsFile() {
			t.Errorf("ssh block %+v", inv.SSH)
		}
		if len(inv.Hosts) != len(hosts) {
			t.Fatalf("inventory has %d hosts, want %d", len(inv.Hosts), len(hosts))
		}
		for i, h := range inv.Hosts {
			if string(h.Name) != hosts[i].Name || h.Address != hosts[i].Address {
				t.Errorf("inventory host %d is %s %s, want %s %s", i, h.Name, h.Address, hosts[i].Name, hosts[i].Address)
			}
			last := i == len(inv.Hosts)-1
			if !h.Has(inventory.RoleLoadDriver) || h.Has(inventory.RoleProvisioner) != last {
				t.Errorf("%s roles %v", h.Name, h.Roles)
			}
		}
	})

	t.Run("root_and_tmp_are_private_to_each_host", func(t *testing.T) {
		probe := "rally-lab-probe-" + l.RunID()
		mustSSH(t, l, "h1", fmt.Sprintf("echo secret > /root/%s && echo secret > /tmp/%s", probe, probe))
		if got := mustSSH(t, l, "h1", "cat /root/"+probe); got != "secret\n" {
			t.Fatalf("h1 cannot read back its own file: %q", got)
		}
		if got := mustSSH(t, l, "h2", fmt.Sprintf("ls -A /root; test -e /root/%s || test -e /tmp/%s || echo absent", probe, probe)); got != "absent\n" {
			t.Errorf("h2 sees h1's files or has some of its own in /root: %q", got)
		}
		for _, dir := range []string{"/root", "/tmp"} {
			if _, err := os.Stat(filepath.Join(dir, probe)); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("the machine sees %s/%s written on h1 (stat: %v)", dir, probe, err)
			}
		}
		for _, dir := range []string{"/root", "/tmp"} {
			files, err := l.Files(ctx, "h1", dir)
			if err != nil {
				t.Fatal(err)
			}
			if want := dir + "/" + probe; !slices.Equal(files, []string{want}) {
				t.Errorf("Files(h1, %s) = %s, want just %s", dir, brief(files), want)
			}
			files, err = l.Files(ctx, "h2", dir)
			if err != nil || len(files) != 0 {
				t.Errorf("Files(h2, %s) = %s, %v; want nothing", dir, brief(files), err)
			}
		}
		if _, err := l.Files(ctx, "h2", "/root/.rally"); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Files of a missing dir: err %v, want fs.ErrNotExist", err)
		}
	})

	t.Run("each_host_has_its_own_process_table", func(t *testing.T) {
		mustSSH(t, l, "h1", "nohup sleep 31.5 >/dev/null 2>&1 </dev/null &")
		// ssh may return before the backgrounded shell has exec'd sleep.
		var p1 []lab.Process
		deadline := time.Now().Add(3 * time.Second)
		for {
			var err error
			if p1, err = l.Processes(ctx, "h1"); err != nil {
				t.Fatal(err)
			}
			if runs(p1, "sleep 31.5") || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if len(p1) == 0 || p1[0].HostPID != 1 || !strings.Contains(p1[0].Command, "sshd") || p1[0].PID != hosts[0].InitPID {
			t.Errorf("h1's first process should be sshd, pid %d: %s", hosts[0].InitPID, commands(p1))
		}
		if !runs(p1, "sleep 31.5") {
			t.Errorf("h1 does not show the sleep started over ssh: %s", commands(p1))
		}
		if slices.ContainsFunc(p1, func(p lab.Process) bool { return p.PID == os.Getpid() }) {
			t.Errorf("h1 shows the test process %d", os.Getpid())
		}
		p2, err := l.Processes(ctx, "h2")
		if err != nil {
			t.Fatal(err)
		}
		if hasCommand(p2, "sleep 31.5") || !hasCommand(p2, "sshd") {
			t.Errorf("h2 should show its sshd and not h1's sleep: %s", commands(p2))
		}
		// The host's own ps agrees: it sees sshd as PID 1 and not the machine.
		out, err := l.Exec(ctx, "h2", "ps", "-e", "-o", "pid=,comm=")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(out), " 1 sshd") || strings.Contains(string(out), "sleep") || strings.Count(string(out), "\n") > 5 {
			t.Errorf("ps inside h2:\n%s", out)
		}
	})

	t.Run("hosts_reach_each_other_on_the_bridge", func(t *testing.T) {
		cmd := fmt.Sprintf("exec 3<>/dev/tcp/%s/22 && head -c 8 <&3", hosts[0].Address)
		if got := mustSSH(t, l, "h2", "bash -c '"+cmd+"'"); got != "SSH-2.0-" {
			t.Errorf("h2 -> h1:22 read %q, want an SSH banner", got)
		}
	})

	t.Run("listeners_and_spawn_see_the_host_network", func(t *testing.T) {
		want := hosts[1].Address + ":22"
		got, err := l.Listeners(ctx, "h2")
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, []string{want}) {
			t.Errorf("Listeners(h2) = %q, want [%s]", got, want)
		}
		// A listener spawned in h2 shows there only, and dies with Kill.
		spawned, err := l.Spawn(ctx, "h2", "sleep", "30")
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, 5*time.Second, "spawned sleep in h2", func() bool {
			ps, _ := l.Processes(ctx, "h2")
			return runs(ps, "sleep 30")
		})
		spawned.Process.Kill()
		spawned.Wait()
		waitFor(t, 5*time.Second, "spawned sleep gone from h2 after Kill", func() bool {
			ps, _ := l.Processes(ctx, "h2")
			return !hasCommand(ps, "sleep 30")
		})
	})

	t.Run("cut_stalls_ssh_and_heal_restores_it", func(t *testing.T) {
		if err := l.Cut("h1"); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		out, err := ssh(ctx, l, "h1", []string{"-o", "ConnectTimeout=2"}, "true")
		took := time.Since(start)
		if err == nil {
			l.Heal("h1")
			t.Fatalf("ssh to a cut host succeeded: %s", out)
		}
		if took < 1500*time.Millisecond || took > 4*time.Second {
			t.Errorf("ssh to a cut host failed after %v, want a stall until the 2s timeout: %s", took, out)
		}
		mustSSH(t, l, "h2", "true") // the others are untouched
		if err := l.Heal("h1"); err != nil {
			t.Fatal(err)
		}
		mustSSH(t, l, "h1", "true")
	})

	t.Run("close_leaves_nothing_and_is_idempotent", func(t *testing.T) {
		if err := l.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		assertTornDown(t, l.RunID(), hosts)
		if _, err := l.Processes(ctx, "h1"); err == nil {
			t.Error("Processes works on a closed lab")
		}
		if err := l.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
	})
}

// waitFor polls cond until it holds or limit passes.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", limit, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestTwoLabsAtOnceDoNotCollide(t *testing.T) {
	t.Parallel()
	if err := lab.Check(); err != nil {
		lab.Require(t, 1) // fails or skips with the reason
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var labs [2]*lab.Lab
	var errs [2]error
	var wg sync.WaitGroup
	for i := range labs {
		wg.Go(func() {
			dir := "" // the first lab gets a temp dir of its own, which Close removes
			if i == 1 {
				dir = t.TempDir()
			}
			labs[i], errs[i] = lab.Start(ctx, lab.Options{Hosts: 1, Dir: dir})
		})
	}
	wg.Wait()
	for i, l := range labs {
		if errs[i] != nil {
			t.Fatalf("lab %d: %v", i, errs[i])
		}
		t.Cleanup(func() { l.Close() })
	}
	a, b := labs[0], labs[1]
	if a.RunID() == b.RunID() || a.Bridge() == b.Bridge() || a.Subnet() == b.Subnet() || a.Hosts()[0].Netns == b.Hosts()[0].Netns {
		t.Errorf("labs collide: %s %s %s %s and %s %s %s %s",
			a.RunID(), a.Bridge(), a.Subnet(), a.Hosts()[0].Netns, b.RunID(), b.Bridge(), b.Subnet(), b.Hosts()[0].Netns)
	}
	for _, l := range labs {
		mustSSH(t, l, "h1", "true")
	}
	ownDir := a.Dir()
	for _, l := range labs {
		hosts := l.Hosts()
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		assertTornDown(t, l.RunID(), hosts)
	}
	if _, err := os.Stat(ownDir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Close left the temp dir it created: %s (%v)", ownDir, err)
	}
	if _, err := os.Stat(b.InventoryFile()); err != nil {
		t.Errorf("Close removed files of a dir it was given: %v", err)
	}
}

// buildCLI compiles cmd/rally-lab into a temp dir.
func buildCLI(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	bin := filepath.Join(t.TempDir(), "rally-lab")
	build := exec.Command(goTool, "build", "-o", bin, "rally/cmd/rally-lab")
	// Static, as the tests of the other commands build theirs: the race
	// detector's test run exports CGO_ENABLED=1, which the tool must not
	// inherit.
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := build.CombinedOutput()
	if err != nil {
		t.Fatalf("go build rally-lab: %v\n%s", err, out)
	}
	return bin
}

// rallyLab runs the CLI and returns stdout, stderr and the exit code.
func rallyLab(t *testing.T, bin string, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("rally-lab %q: %v", args, err)
	}
	return stdout.String(), stderr.String(), cmd.ProcessState.ExitCode()
}

func TestCLI(t *testing.T) {
	t.Parallel()
	if err := lab.Check(); err != nil {
		lab.Require(t, 1) // fails or skips with the reason
	}
	bin := buildCLI(t)
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()

	out, errOut, code := rallyLab(t, bin, "up", "-n", "2", "--dir", dir)
	if code != 0 {
		t.Fatalf("up: exit %d: %s%s", code, out, errOut)
	}
	l, err := lab.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	hosts := l.Hosts()
	t.Cleanup(func() { l.Close() })
	if !strings.Contains(out, "inventory: "+filepath.Join(dir, "hosts.yaml")) || len(hosts) != 2 {
		t.Fatalf("up printed:\n%s", out)
	}
	for _, h := range hosts {
		if !strings.Contains(out, h.Name+"  "+h.Address+":22") {
			t.Errorf("up printed no line for %s %s:\n%s", h.Name, h.Address, out)
		}
	}

	t.Run("hosts_outlive_the_up_command", func(t *testing.T) {
		mustSSH(t, l, "h2", "true")
	})

	t.Run("ps_lists_sshd", func(t *testing.T) {
		out, errOut, code := rallyLab(t, bin, "ps", "--dir", dir, "h1")
		row := regexp.MustCompile(fmt.Sprintf(`(?m)^%d +1 +sshd: `, hosts[0].InitPID))
		if code != 0 || !row.MatchString(out) {
			t.Errorf("ps: exit %d:\n%s%s", code, out, errOut)
		}
	})

	t.Run("exec_runs_in_the_host_and_passes_the_exit_code", func(t *testing.T) {
		out, errOut, code := rallyLab(t, bin, "exec", "--dir", dir, "h1", "--", "sh", "-c", "hostname; cat /proc/1/comm")
		if code != 0 || out != "h1\nsshd\n" {
			t.Errorf("exec: exit %d, out %q, err %q", code, out, errOut)
		}
		if _, _, code := rallyLab(t, bin, "exec", "--dir", dir, "h1", "--", "sh", "-c", "exit 7"); code != 7 {
			t.Errorf("exec of exit 7: exit %d", code)
		}
		if _, errOut, code := rallyLab(t, bin, "exec", "--dir", dir, "h9", "--", "true"); code != 1 || !strings.Contains(errOut, `no host "h9"`) {
			t.Errorf("exec on an unknown host: exit %d, %s", code, errOut)
		}
	})

	t.Run("hold_port_shows_in_listeners_of_that_host_only", func(t *testing.T) {
		if err := l.CopyFile(ctx, "h1", bin, "/tmp/rally-lab"); err != nil {
			t.Fatal(err)
		}
		holder, err := l.Spawn(ctx, "h1", "/tmp/rally-lab", "hold-port", "127.0.0.1:1900")
		if err != nil {
			t.Fatal(err)
		}
		defer func() { holder.Process.Kill(); holder.Wait() }()
		waitFor(t, 5*time.Second, "127.0.0.1:1900 in Listeners(h1)", func() bool {
			ls, _ := l.Listeners(ctx, "h1")
			return slices.Contains(ls, "127.0.0.1:1900")
		})
		ls, err := l.Listeners(ctx, "h2")
		if err != nil || slices.Contains(ls, "127.0.0.1:1900") {
			t.Errorf("Listeners(h2) = %q, %v; h1's port must not show there", ls, err)
		}
		if out, err := l.Exec(ctx, "h1", "bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/1900 && echo connected"); err != nil || string(out) != "connected\n" {
			t.Errorf("connect to the held port inside h1: %q, %v", out, err)
		}
	})

	t.Run("cut_and_heal", func(t *testing.T) {
		if _, errOut, code := rallyLab(t, bin, "cut", "--dir", dir, "h2"); code != 0 {
			t.Fatalf("cut: exit %d: %s", code, errOut)
		}
		if out, err := ssh(ctx, l, "h2", []string{"-o", "ConnectTimeout=1"}, "true"); err == nil {
			t.Errorf("ssh to h2 after rally-lab cut succeeded: %s", out)
		}
		if _, errOut, code := rallyLab(t, bin, "heal", "--dir", dir, "h2"); code != 0 {
			t.Fatalf("heal: exit %d: %s", code, errOut)
		}
		mustSSH(t, l, "h2", "true")
	})

	t.Run("down_removes_everything_and_can_repeat", func(t *testing.T) {
		for range 2 {
			if out, errOut, code := rallyLab(t, bin, "down", "--dir", dir); code != 0 {
				t.Fatalf("down: exit %d: %s%s", code, out, errOut)
			}
		}
		assertTornDown(t, l.RunID(), hosts)
	})

	t.Run("bad_usage_exits_2", func(t *testing.T) {
		for _, args := range [][]string{{}, {"frobnicate", "--dir", dir}, {"ps"}, {"up", "extra"}} {
			if _, _, code := rallyLab(t, bin, args...); code != 2 {
				t.Errorf("rally-lab %q: exit %d, want 2", args, code)
			}
		}
	})
}

func TestCheckNamesWhatIsMissing(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	err := lab.Check()
	if err == nil {
		t.Fatal("Check passed with an empty PATH")
	}
	for _, want := range []string{"ip (package iproute2)", "nsenter (package util-linux)", "ssh-keygen"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Check error %q does not name %q", err, want)
		}
	}
}

func TestStartRejectsABadHostCount(t *testing.T) {
	for _, n := range []int{0, -1, lab.MaxHosts + 1} {
		if l, err := lab.Start(context.Background(), lab.Options{Hosts: n}); err == nil {
			l.Close()
			t.Errorf("Start with %d hosts succeeded", n)
		}
	}
}

func BenchmarkStart3(b *testing.B) {
	if err := lab.Check(); err != nil {
		b.Skip(err)
	}
	for b.Loop() {
		l, err := lab.Start(context.Background(), lab.Options{Hosts: 3})
		if err != nil {
			b.Fatal(err)
		}
		if err := l.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// TestRequireFailsOrSkipsWithTheReason runs Require in a child test process
// whose PATH has none of the lab's tools.
func TestRequireFailsOrSkipsWithTheReason(t *testing.T) {
	tests := []struct {
		name     string
		labEnv   string
		wantLine string
	}{
		{name: "fails_by_default", labEnv: "", wantLine: "--- FAIL: TestRequireHelperProcess"},
		{name: "skips_with_RALLY_LAB_skip", labEnv: "skip", wantLine: "--- SKIP: TestRequireHelperProcess"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestRequireHelperProcess$", "-test.v")
			cmd.Env = append(os.Environ(), "RALLY_LAB_HELPER_PROCESS=1", "PATH="+t.TempDir(), "RALLY_LAB="+tt.labEnv)
			out, _ := cmd.CombinedOutput()
			if !strings.Contains(string(out), tt.wantLine) {
				t.Errorf("child test did not report %q:\n%s", tt.wantLine, out)
			}
			if !strings.Contains(string(out), "ip (package iproute2)") {
				t.Errorf("child test does not name the missing ip tool:\n%s", out)
			}
		})
	}
}

// TestRequireHelperProcess is the child of TestRequireFailsOrSkipsWithTheReason;
// run directly, it does nothing.
func TestRequireHelperProcess(t *testing.T) {
	if os.Getenv("RALLY_LAB_HELPER_PROCESS") != "1" {
		return
	}
	lab.Require(t, 1)
	t.Error("Require returned although the lab cannot run")
}
