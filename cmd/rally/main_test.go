package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// rallyBin is the real binary, built once for the whole package the way a
// release is built (static, CGO_ENABLED=0), and driven with os/exec.
var rallyBin string

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "rally-cli-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	rallyBin = filepath.Join(dir, "rally")
	if err := build(rallyBin); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// build compiles rally to out with extra go build flags.
func build(out string, flags ...string) error {
	args := append([]string{"build", "-o", out}, flags...)
	cmd := exec.Command("go", append(args, "rally/cmd/rally")...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build rally: %v\n%s", err, b)
	}
	return nil
}

type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\n--- stdout:\n%s--- stderr:\n%s", r.code, r.stdout, r.stderr)
}

// rally runs the binary as a user would, with a private RALLY_HOME and a
// fixed terminal width so that help text wraps the same everywhere.
func rally(t *testing.T, args ...string) result {
	t.Helper()
	return runBinary(t, rallyBin, args...)
}

func runBinary(t *testing.T, bin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "RALLY_HOME="+t.TempDir(), "COLUMNS=80", "NO_COLOR=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("rally %s: %v", strings.Join(args, " "), err)
	}
	return r
}

func TestHelp(t *testing.T) {
	commands := []string{
		"", "up", "status", "down", "race", "info", "tui", "list", "list races", "list tracks", "compare", "version", "worker",
	}
	for _, command := range commands {
		name := strings.ReplaceAll(command, " ", "_")
		if name == "" {
			name = "root"
		}
		t.Run(name, func(t *testing.T) {
			args := append(strings.Fields(command), "--help")
			r := rally(t, args...)
			if r.code != 0 || r.stderr != "" {
				t.Fatalf("rally %s: want exit 0 and nothing on stderr, got %s", strings.Join(args, " "), r)
			}
			golden := filepath.Join("testdata", "help_"+name+".golden")
			if *update {
				if err := os.WriteFile(golden, []byte(r.stdout), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./cmd/rally -run TestHelp -update to create it)", err)
			}
			if r.stdout != string(want) {
				t.Errorf("rally %s differs from %s (rerun with -update if intended):\n%s", strings.Join(args, " "), golden, r.stdout)
			}
			if command != "" && command != "list" && !strings.Contains(r.stdout, "    rally "+strings.Fields(command)[0]) &&
				!strings.Contains(r.stdout, " worker --name") {
				t.Errorf("rally %s --help shows no example command line", command)
			}
		})
	}
}

func TestExitCodes(t *testing.T) {
	trackDir := t.TempDir()
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStderr string // exact when it does not end in "…"; else a prefix
	}{
		{"no_command_is_bad_usage", nil, 2, "rally: error: expected one of …"},
		{"unknown_command_is_bad_usage", []string{"frobnicate"}, 2, "rally: error: unexpected argument frobnicate\nRun \"rally --help\" for more information.\n"},
		{"unknown_flag_is_bad_usage", []string{"status", "--colour"}, 2, "rally: error: unknown flag --colour…"},
		{"missing_required_flag_is_bad_usage", []string{"up"}, 2, "rally: error: missing flags: --inventory=FILE\nRun \"rally up --help\" for more information.\n"},
		{"bad_enum_is_bad_usage", []string{"race", "--report-format", "pdf"}, 2, "rally: error: --report-format must be one of \"text\",\"markdown\",\"csv\",\"json\" but got \"pdf\"\n…"},
		{"bad_log_level_is_bad_usage", []string{"--log-level", "loud", "version"}, 2, "rally: error: --log-level: unknown level \"loud\" (want debug, info, warn or error)\n…"},
		{"track_path_and_track_together_are_bad_usage", []string{"race", "--track-path", trackDir, "--track", "geonames"}, 2, "rally: error: --track and --track-path can't be used together\n…"},
		{"missing_track_dir_is_bad_input", []string{"info", "--track-path", filepath.Join(trackDir, "nope")}, 2, "rally: error: --track-path: stat …"},
		{"negative_parallel_is_bad_usage", []string{"up", "-i", "x.yaml", "--parallel", "0"}, 2, "rally: error: up: --parallel 0: want 1 or more\n…"},
		{"json_without_check_is_bad_usage", []string{"up", "-i", "x.yaml", "--json"}, 2, "rally: error: up: --json: only with --check\n…"},
		{"race_without_target_is_bad_usage", []string{"race", "--track-path", trackDir}, 2, "rally race: no target: give --target-hosts…"},
		{"race_by_track_name_offline_without_a_clone_is_bad_usage", []string{"race", "--track", "geonames", "--offline", "--target-hosts", "127.0.0.1:9200"}, 2, "rally race: track repository default (https://github.com/elastic/rally-tracks): offline: no clone yet of https://github.com/elastic/rally-tracks in …"},
		{"race_without_track_is_bad_usage", []string{"race", "--target-hosts", "127.0.0.1:9200"}, 2, "rally race: no track: give --track NAME…"},
		{"info_without_track_json_is_bad_input", []string{"info", "--track-path", trackDir}, 2, "rally info: …"},
		{"tui_without_cluster_fails", []string{"tui"}, 1, "rally tui: no coordinator is running…"},
		{"compare_unknown_races_is_bad_usage", []string{"compare", "--baseline", "a", "--contender", "b"}, 2, "rally compare: --baseline: …"},
		{"worker_without_workdir_is_bad_usage", []string{"worker", "--name", "h1"}, 2, "rally: error: missing flags: --workdir=DIR\n…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rally(t, tt.args...)
			if r.code != tt.wantCode {
				t.Fatalf("rally %s: want exit %d, got %s", strings.Join(tt.args, " "), tt.wantCode, r)
			}
			if r.stdout != "" {
				t.Errorf("want nothing on stdout, got %q", r.stdout)
			}
			if prefix, ok := strings.CutSuffix(tt.wantStderr, "…"); ok {
				if !strings.HasPrefix(r.stderr, prefix) {
					t.Errorf("stderr:\n got %q\nwant prefix %q", r.stderr, prefix)
				}
			} else if r.stderr != tt.wantStderr {
				t.Errorf("stderr:\n got %q\nwant %q", r.stderr, tt.wantStderr)
			}
		})
	}
}

func TestUpCheck(t *testing.T) {
	const example = "../../examples/hosts.yaml"
	broken := filepath.Join(t.TempDir(), "hosts.yaml")
	if err := os.WriteFile(broken, []byte(strings.Join([]string{
		"cluster: demo",
		"ssh:",
		"  port: 70000",
		"hosts:",
		"  - name: d1",
		"    address: 10.0.0.1",
		"    roles: [loaddriver]",
		"  - name: d1",
		"    adress: 10.0.0.2",
		"    roles: [provisioner]",
	}, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	t.Run("example_inventory_is_valid", func(t *testing.T) {
		r := rally(t, "up", "--check", "-i", example)
		want := example + ": ok: cluster demo, 3 hosts (2 load-driver, 1 provisioner)\n"
		if r.code != 0 || r.stdout != want || r.stderr != "" {
			t.Fatalf("want exit 0 and %q, got %s", want, r)
		}
	})
	t.Run("broken_inventory_prints_one_line_per_problem_and_exits_2", func(t *testing.T) {
		r := rally(t, "up", "--check", "-i", broken)
		want := []string{
			broken + `:3:9: ssh.port: port 70000 out of range 1..65535`,
			broken + `:7:13: hosts[0].roles[0]: unknown role "loaddriver" (want load-driver or provisioner)`,
			broken + `:8:5: hosts[1].address: missing: every host needs an address (IP, DNS name or ~/.ssh/config Host)`,
			broken + `:8:11: hosts[1].name: duplicate name "d1" (first at line 5, hosts[0])`,
			broken + `:9:5: hosts[1].adress: unknown key "adress" (did you mean "address"? valid keys: name, address, roles, ssh, workdir, nodes, run_as)`,
		}
		if r.code != 2 || r.stdout != "" {
			t.Fatalf("want exit 2 and nothing on stdout, got %s", r)
		}
		if got := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("stderr:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(want, "\n     "))
		}
	})
	t.Run("missing_inventory_exits_2", func(t *testing.T) {
		r := rally(t, "up", "--check", "-i", "no-such-hosts.yaml")
		if want := "no-such-hosts.yaml: cannot read inventory: no such file or directory\n"; r.code != 2 || r.stderr != want {
			t.Fatalf("want exit 2 and %q, got %s", want, r)
		}
	})
	t.Run("json_reports_the_roles_of_a_valid_inventory", func(t *testing.T) {
		r := rally(t, "up", "--check", "--json", "-i", example)
		if r.code != 0 {
			t.Fatalf("want exit 0, got %s", r)
		}
		var got checkResult
		if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
			t.Fatalf("stdout is not JSON: %v\n%s", err, r.stdout)
		}
		if !got.OK || got.Cluster != "demo" || got.Hosts != 3 || got.Roles["load-driver"] != 2 || got.Roles["provisioner"] != 1 || len(got.Problems) != 0 {
			t.Errorf("got %+v", got)
		}
	})
	t.Run("json_lists_the_problems_of_a_broken_inventory_and_exits_2", func(t *testing.T) {
		r := rally(t, "up", "--check", "--json", "-i", broken)
		if r.code != 2 || r.stderr != "" {
			t.Fatalf("want exit 2 and nothing on stderr, got %s", r)
		}
		var got checkResult
		if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
			t.Fatalf("stdout is not JSON: %v\n%s", err, r.stdout)
		}
		if got.OK || len(got.Problems) != 5 {
			t.Fatalf("want ok=false and 5 problems, got %+v", got)
		}
		if p := got.Problems[1]; p.File != broken || p.Line != 7 || p.Col != 13 || p.Field != "hosts[0].roles[0]" {
			t.Errorf("problem 1: got %+v", p)
		}
	})
}

func TestWorker(t *testing.T) {
	t.Run("exits_1_and_leaves_no_pid_file_when_stdin_closes_before_a_token", func(t *testing.T) {
		workdir := t.TempDir()
		r := rally(t, "worker", "--name", "h1", "--workdir", workdir, "--tunnel", "127.0.0.1:1", "--grace", "1s")
		// The worker's log lines also go to stderr (the coordinator shows
		// them live); the error is its last line.
		lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
		last := lines[len(lines)-1]
		if r.code != 1 || !strings.HasPrefix(last, "rally worker: ") || !strings.Contains(last, "stdin") {
			t.Fatalf("want exit 1 and an error about stdin, got %s", r)
		}
		if _, err := os.Stat(filepath.Join(workdir, "run", "worker.pid")); !os.IsNotExist(err) {
			t.Errorf("pid file left behind: %v", err)
		}
	})
}

func TestVersion(t *testing.T) {
	sum := func(t *testing.T, path string) string {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.Sum256(b)
		return hex.EncodeToString(h[:])
	}
	t.Run("json_names_the_executable_checksum", func(t *testing.T) {
		r := rally(t, "version", "--json")
		if r.code != 0 {
			t.Fatalf("want exit 0, got %s", r)
		}
		var got buildInfo
		if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
			t.Fatalf("stdout is not JSON: %v\n%s", err, r.stdout)
		}
		if got.SHA256 != sum(t, rallyBin) {
			t.Errorf("sha256 = %s, want the checksum of %s", got.SHA256, rallyBin)
		}
		if !strings.HasPrefix(got.Version, "devel") || got.Go == "" || got.OS == "" || got.Arch == "" {
			t.Errorf("without -ldflags want a devel version and the toolchain, got %+v", got)
		}
	})
	t.Run("ldflags_set_the_version", func(t *testing.T) {
		bin := filepath.Join(t.TempDir(), "rally")
		if err := build(bin, "-ldflags", "-X main.version=1.2.3-test"); err != nil {
			t.Fatal(err)
		}
		r := runBinary(t, bin, "version")
		if r.code != 0 {
			t.Fatalf("want exit 0, got %s", r)
		}
		lines := strings.Split(r.stdout, "\n")
		if lines[0] != "rally 1.2.3-test" {
			t.Errorf("first line = %q, want %q", lines[0], "rally 1.2.3-test")
		}
		if !strings.Contains(r.stdout, "  sha256: "+sum(t, bin)+"\n") {
			t.Errorf("text output lacks the executable's checksum:\n%s", r.stdout)
		}
	})
}
