package coordinator

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestStateFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "clusters", "demo", "state.json")

	t.Run("missing_file_reads_as_no_state", func(t *testing.T) {
		st, err := ReadState(path)
		if st != nil || err != nil {
			t.Fatalf("got %+v, %v", st, err)
		}
	})

	t.Run("updates_are_written_atomically_and_read_back", func(t *testing.T) {
		f := &stateFile{path: path, st: State{Cluster: "demo"}}
		if err := f.update(func(s *State) { s.host("h1").WorkerPID = 42 }); err != nil {
			t.Fatal(err)
		}
		if err := f.update(func(s *State) { s.host("h1").TunnelPort = 1900; s.host("h2").Workdir = "/root/.rally" }); err != nil {
			t.Fatal(err)
		}
		st, err := ReadState(path)
		if err != nil {
			t.Fatal(err)
		}
		if len(st.Hosts) != 2 || st.Hosts[0].WorkerPID != 42 || st.Hosts[0].TunnelPort != 1900 || st.Hosts[1].Workdir != "/root/.rally" {
			t.Errorf("state %+v", st)
		}
		entries, _ := os.ReadDir(filepath.Dir(path))
		if len(entries) != 1 {
			t.Errorf("temp files left: %v", entries)
		}
	})

	t.Run("a_corrupt_file_is_an_error_naming_it", func(t *testing.T) {
		bad := filepath.Join(dir, "bad.json")
		os.WriteFile(bad, []byte("{"), 0o600)
		if _, err := ReadState(bad); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("err = %v", err)
		}
	})
}

func TestSafeWorkdir(t *testing.T) {
	for wd, want := range map[string]bool{
		"/root/.rally": true, "/home/u/.rally": true, "/": false, "/root": false,
		"relative/.rally": false, "/root/../etc": false, "": false,
	} {
		if got := safeWorkdir(wd); got != want {
			t.Errorf("safeWorkdir(%q) = %v, want %v", wd, got, want)
		}
	}
}
