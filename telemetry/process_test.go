package telemetry

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestReadProcess(t *testing.T) {
	requireLinux(t)
	for _, tc := range []struct {
		name string
		pid  int
		want ProcessSample
	}{
		{
			name: "a server JVM with everything readable",
			pid:  4242,
			want: ProcessSample{
				PID: 4242, PGID: 4240, Command: "java", State: 'S',
				UserTime: 900 * time.Second, SystemTime: 120 * time.Second,
				Threads: 80, Started: 5002 * time.Second, RSS: 4200000 * 1024,
				IO: &ProcessIO{ReadBytes: 1048576, WriteBytes: 52428800},
			},
		},
		{
			name: "a command with spaces and parentheses ends at the last paren",
			pid:  4300,
			want: ProcessSample{
				PID: 4300, PGID: 4300, Command: "my (odd) prog) x", State: 'R',
				UserTime: 2500 * time.Millisecond, SystemTime: 500 * time.Millisecond,
				Threads: 3, Started: 6000 * time.Second, RSS: 2048 * 1024,
				IO: &ProcessIO{ReadBytes: 0, WriteBytes: 12288},
			},
		},
		{
			name: "an unreadable io file leaves io absent, not zero",
			pid:  4301,
			want: ProcessSample{
				PID: 4301, PGID: 4300, Command: "no io", State: 'S',
				UserTime: 100 * time.Millisecond, SystemTime: 50 * time.Millisecond,
				Threads: 1, Started: 6001 * time.Second, RSS: 1024 * 1024,
			},
		},
		{
			name: "a zombie has no resident memory",
			pid:  4244,
			want: ProcessSample{
				PID: 4244, PGID: 4240, Command: "controller", State: 'Z',
				Threads: 1, Started: 5003 * time.Second,
				IO: &ProcessIO{},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadProcess(fixtureProc, tc.pid)
			if err != nil {
				t.Fatal(err)
			}
			if (got.IO == nil) != (tc.want.IO == nil) || got.IO != nil && *got.IO != *tc.want.IO {
				t.Errorf("IO = %v, want %v", got.IO, tc.want.IO)
			}
			got.IO, tc.want.IO = nil, nil
			if got != tc.want {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestReadProcess_gone_process_says_so(t *testing.T) {
	requireLinux(t)
	_, err := ReadProcess(fixtureProc, 999)
	if !errors.Is(err, ErrProcessGone) {
		t.Fatalf("err = %v, want ErrProcessGone", err)
	}
	if !strings.Contains(err.Error(), "process 999") {
		t.Errorf("err = %q does not name the process", err)
	}
}

func TestReadProcess_stat_of_another_pid_is_an_error(t *testing.T) {
	requireLinux(t)
	root := copyProc(t)
	writeFile(t, root, "4500/stat", "4501 (bash) S 1 4500 4500 0 -1 0 0 0 0 0 3 1 0 0 20 0 1 0 100 0 0\n")
	_, err := ReadProcess(root, 4500)
	if err == nil || !strings.Contains(err.Error(), "names pid 4501") {
		t.Fatalf("err = %v, want one naming pid 4501", err)
	}
}

func TestParseStat(t *testing.T) {
	const tail = " S 1 42 42 0 -1 0 0 0 0 0 7 3 0 0 20 0 5 0 1234 0 0 0\n"
	ok := []struct {
		name, line, command string
	}{
		{"plain", "42 (java)" + tail, "java"},
		{"spaces and parens", "42 (a) b (c)" + tail, "a) b (c"},
		{"a newline in the command", "42 (two\nlines)" + tail, "two\nlines"},
		{"an empty command", "42 ()" + tail, ""},
		{"a command that looks like fields", "42 (x) R 9 9 9)" + tail, "x) R 9 9 9"},
	}
	for _, tc := range ok {
		t.Run(tc.name, func(t *testing.T) {
			st, err := parseStat([]byte(tc.line))
			if err != nil {
				t.Fatal(err)
			}
			want := statLine{PID: 42, Command: tc.command, State: 'S', PPID: 1, PGID: 42, UTime: 7, STime: 3, Threads: 5, StartTime: 1234}
			if st != want {
				t.Errorf("got  %+v\nwant %+v", st, want)
			}
		})
	}

	bad := []struct {
		name, line, err string
	}{
		{"empty", "", "no command"},
		{"no closing paren", "42 (java S 1", "no command"},
		{"parens reversed", "42 )java( S", "no command"},
		{"no pid", "(java)" + tail, "pid"},
		{"negative pid", "-1 (java)" + tail, "pid"},
		{"cut short", "42 (java) S 1 42 42 0 -1 0 0 0 0 0 7 3", "fields after the command"},
		{"a long state", "42 (java) SS 1 42 42 0 -1 0 0 0 0 0 7 3 0 0 20 0 5 0 1234", "state"},
		{"utime not a number", "42 (java) S 1 42 42 0 -1 0 0 0 0 0 x 3 0 0 20 0 5 0 1234", "utime"},
		{"negative threads", "42 (java) S 1 42 42 0 -1 0 0 0 0 0 7 3 0 0 20 0 -5 0 1234", "num_threads"},
		{"starttime too large", "42 (java) S 1 42 42 0 -1 0 0 0 0 0 7 3 0 0 20 0 5 0 99999999999999999999", "starttime"},
	}
	for _, tc := range bad {
		t.Run("rejects "+tc.name, func(t *testing.T) {
			_, err := parseStat([]byte(tc.line))
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("err = %v, want one about %q", err, tc.err)
			}
		})
	}
}

func TestTicksToDuration(t *testing.T) {
	if d, err := ticksToDuration(250); err != nil || d != 2500*time.Millisecond {
		t.Errorf("250 ticks = %v, %v; want 2.5s", d, err)
	}
	if _, err := ticksToDuration(1 << 62); err == nil {
		t.Error("2^62 ticks did not overflow")
	}
}

func TestParseIO(t *testing.T) {
	pio, err := parseIO([]byte("rchar: 1\nwchar: 2\nread_bytes: 4096\nwrite_bytes: 8192\ncancelled_write_bytes: 0\n"))
	if err != nil || pio != (ProcessIO{ReadBytes: 4096, WriteBytes: 8192}) {
		t.Errorf("got %+v, %v", pio, err)
	}
	for _, in := range []string{"", "read_bytes: 1\n", "read_bytes: x\nwrite_bytes: 1\n"} {
		if _, err := parseIO([]byte(in)); err == nil {
			t.Errorf("parseIO(%q) took it", in)
		}
	}
}

func TestParseStatusRSS(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want uint64
		err  bool
	}{
		{"Name:\tjava\nVmRSS:\t  1234 kB\nThreads:\t3\n", 1234 * 1024, false},
		{"Name:\tkthreadd\nThreads:\t1\n", 0, false},
		{"VmRSS:\t12 MB\n", 0, true},
		{"VmRSS:\t99999999999999999999 kB\n", 0, true},
	} {
		got, err := parseStatusRSS([]byte(tc.in))
		if got != tc.want || (err != nil) != tc.err {
			t.Errorf("parseStatusRSS(%q) = %d, %v; want %d, error %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}
