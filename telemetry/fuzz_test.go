package telemetry

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// addFixtures seeds f with the fixture files that match pattern.
func addFixtures(f *testing.F, pattern string) {
	f.Helper()
	paths, err := filepath.Glob(filepath.Join(fixtureProc, pattern))
	if err != nil || len(paths) == 0 {
		f.Fatalf("no fixtures %s: %v", pattern, err)
	}
	for _, path := range paths {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// FuzzParseStat checks that no stat line makes parseStat panic, that what
// it accepts is consistent, and that any command name at all, spaces,
// parentheses and newlines included, comes back whole from a line the
// kernel could write.
func FuzzParseStat(f *testing.F) {
	addFixtures(f, "[0-9]*/stat")
	f.Add([]byte("1 ((((((((((((((() S 0 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 0"))
	f.Add([]byte("1 (a\n) S 0 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 0"))
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := parseStat(b)
		if err == nil {
			if st.PID <= 0 || st.PGID < 0 || st.PPID < 0 || st.Threads < 0 {
				t.Errorf("accepted %q as %+v", b, st)
			}
			if want := b[bytes.IndexByte(b, '(')+1 : bytes.LastIndexByte(b, ')')]; st.Command != string(want) {
				t.Errorf("command %q, want %q", st.Command, want)
			}
			_, _ = ticksToDuration(st.UTime)
		}

		// b as a command name.
		line := append([]byte("42 ("), b...)
		line = append(line, ") S 1 42 42 0 -1 4194560 98 0 0 0 7 3 0 0 20 0 5 0 1234 3133440 390\n"...)
		st, err = parseStat(line)
		if err != nil {
			t.Fatalf("command %q: %v", b, err)
		}
		if st.Command != string(b) || st.PID != 42 || st.PGID != 42 || st.UTime != 7 || st.STime != 3 || st.Threads != 5 || st.StartTime != 1234 {
			t.Errorf("command %q: got %+v", b, st)
		}
	})
}

// FuzzHostFiles checks that no content of the host's files or of a
// process's status and io makes a parser panic.
func FuzzHostFiles(f *testing.F) {
	for _, pattern := range []string{"stat", "meminfo", "diskstats", "net/dev", "uptime", "[0-9]*/status", "[0-9]*/io"} {
		addFixtures(f, pattern)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var h HostSample
		_ = parseCPU(b, &h)
		_ = parseMeminfo(b, &h)
		if parseDiskstats(b, &h) == nil {
			for name := range h.Disks {
				if virtualDisk(name) {
					t.Errorf("kept %s", name)
				}
			}
		}
		if parseNetDev(b, &h) == nil {
			if _, ok := h.Interfaces["lo"]; ok {
				t.Error("kept lo")
			}
		}
		if parseUptime(b, &h) == nil && h.Uptime < 0 {
			t.Errorf("uptime %v", h.Uptime)
		}
		_, _ = parseStatusRSS(b)
		_, _ = parseIO(b)
	})
}
