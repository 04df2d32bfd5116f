package coordinator

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func portOf(st *State, name string) int {
	for _, h := range st.Hosts {
		if h.Name == name {
			return h.TunnelPort
		}
	}
	return 0
}

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

	t.Run("concurrent_updates_all_reach_the_file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "state.json")
		f := &stateFile{path: path, st: State{Cluster: "demo"}}
		var wg sync.WaitGroup
		for i := range 40 {
			wg.Go(func() {
				name := fmt.Sprintf("h%d", i)
				for step := range 4 {
					if err := f.update(func(s *State) { s.host(name).TunnelPort = step + 1 }); err != nil {
						t.Error(err)
						return
					}
					// What update returned for is on disk already.
					st, err := ReadState(path)
					if err != nil {
						t.Error(err)
						return
					}
					if got := portOf(st, name); got < step+1 {
						t.Errorf("%s: on disk port %d after update %d returned", name, got, step+1)
					}
				}
			})
		}
		wg.Wait()
		st, err := ReadState(path)
		if err != nil {
			t.Fatal(err)
		}
		if len(st.Hosts) != 40 {
			t.Fatalf("%d hosts on disk, want 40", len(st.Hosts))
		}
		for _, h := range st.Hosts {
			if h.TunnelPort != 4 {
				t.Errorf("%s: port %d on disk, want its last update's 4", h.Name, h.TunnelPort)
			}
		}
	})

	t.Run("removed_file_is_not_written_again", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "state.json")
		f := &stateFile{path: path}
		if err := f.update(func(s *State) { s.host("h1") }); err != nil {
			t.Fatal(err)
		}
		f.remove()
		if err := f.update(func(s *State) { s.host("h2") }); !errors.Is(err, errTearingDown) {
			t.Errorf("update after remove: %v, want errTearingDown", err)
		}
		if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("state file after remove: %v", err)
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
