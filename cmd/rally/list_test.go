package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestListCars(t *testing.T) {
	t.Run("default_team_as_a_table", func(t *testing.T) {
		r := rally(t, "list", "cars")
		if r.code != 0 || r.stderr != "" {
			t.Fatalf("want exit 0 and nothing on stderr, got %s", r)
		}
		lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
		if len(lines) != 12 || !strings.HasPrefix(lines[0], "NAME ") ||
			!strings.HasPrefix(lines[1], "defaults         car    ") || !strings.HasPrefix(lines[6], "16gheap          mixin  ") {
			t.Errorf("unexpected table:\n%s", r.stdout)
		}
	})
	t.Run("team_path_as_json", func(t *testing.T) {
		r := rally(t, "list", "cars", "--json", "--team-path", filepath.Join("..", "..", "provision", "testdata", "team"))
		if r.code != 0 {
			t.Fatalf("want exit 0, got %s", r)
		}
		var cars []map[string]string
		if err := json.Unmarshal([]byte(r.stdout), &cars); err != nil {
			t.Fatalf("%v in:\n%s", err, r.stdout)
		}
		if len(cars) != 4 || cars[0]["name"] != "base" || cars[0]["type"] != "car" || cars[0]["description"] != "A car of the test team" {
			t.Errorf("unexpected cars: %v", cars)
		}
	})
	t.Run("broken_team_names_file_and_line", func(t *testing.T) {
		dir := t.TempDir()
		writeTeamFile(t, filepath.Join(dir, "cars", "v1", "x.ini"), "[meta]\ntype = truck\n")
		r := rally(t, "list", "cars", "--team-path", dir)
		want := filepath.Join(dir, "cars", "v1", "x.ini") + `:2: meta.type: "truck": want car or mixin`
		// A broken team is bad input: exit 2, as for a broken track.
		if r.code != 2 || !strings.Contains(r.stderr, want) {
			t.Errorf("want exit 2 and %q on stderr, got %s", want, r)
		}
	})
}

func writeTeamFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestListRaces: the races of the local race directory, or of a metrics
// store when one is given, newest first, filtered as esrally filters
// them, the source named on the first line.
func TestListRaces(t *testing.T) {
	home := t.TempDir()
	races := cliRaces(t, home)
	s, url := newSearchStore(t, races)
	ids := func(out string) []string {
		var got []string
		for _, line := range strings.Split(out, "\n") {
			if f := strings.Fields(line); len(f) > 0 && strings.HasPrefix(f[0], "2026") {
				got = append(got, f[0])
			}
		}
		return got
	}
	newest := []string{races[2].ID, races[1].ID, races[0].ID}

	t.Run("local_races_newest_first", func(t *testing.T) {
		r := runIn(t, home, "list", "races")
		if want := "Races in " + filepath.Join(home, "races") + ":\n\nRace ID "; r.code != 0 || !strings.HasPrefix(r.stdout, want) {
			t.Fatalf("want exit 0 and %q first, got %s", want, r)
		}
		if got := ids(r.stdout); !slices.Equal(got, newest) {
			t.Errorf("listed %v, want %v", got, newest)
		}
	})
	t.Run("store_races_newest_first", func(t *testing.T) {
		t.Setenv("RALLY_METRICS_STORE_USER", "rally")
		t.Setenv("RALLY_METRICS_STORE_PASSWORD", "s3cret")
		r := runIn(t, t.TempDir(), "list", "races", "--metrics-store", url)
		if want := "Races in the metrics store at " + url + " (environment local):\n\nRace ID "; r.code != 0 || !strings.HasPrefix(r.stdout, want) {
			t.Fatalf("want exit 0 and %q first, got %s", want, r)
		}
		if got := ids(r.stdout); !slices.Equal(got, newest) {
			t.Errorf("listed %v, want %v", got, newest)
		}
		if !strings.Contains(r.stdout, "opensearch 2.19.1 @ 127.0.0.1:9200  completed  intention=contender") {
			t.Errorf("the target, status and tags of the races are missing:\n%s", r.stdout)
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if auth := s.auth[len(s.auth)-1]; auth != "Basic cmFsbHk6czNjcmV0" {
			t.Errorf("Authorization %q, want the credentials of the environment", auth)
		}
	})
	t.Run("json_is_the_same_from_both", func(t *testing.T) {
		local := runIn(t, home, "list", "races", "--json")
		stored := runIn(t, t.TempDir(), "list", "races", "--json", "--metrics-store", url)
		if local.code != 0 || stored.code != 0 || local.stdout != stored.stdout {
			t.Fatalf("want the same JSON:\n--- local: %s\n--- store: %s", local, stored)
		}
		var listed []map[string]any
		if err := json.Unmarshal([]byte(stored.stdout), &listed); err != nil || len(listed) != 3 {
			t.Fatalf("%v: %s", err, stored.stdout)
		}
	})
	t.Run("filters_and_limit", func(t *testing.T) {
		args := []string{"list", "races", "--track", "geonames", "--from-date", "20261202", "--user-tags", "intention:contender", "--limit", "5"}
		local := runIn(t, home, args...)
		if got := ids(local.stdout); local.code != 0 || !slices.Equal(got, []string{races[1].ID}) {
			t.Errorf("local: listed %v, want %s: %s", got, races[1].ID, local)
		}
		stored := runIn(t, t.TempDir(), append(args, "--metrics-store", url)...)
		if stored.code != 0 {
			t.Fatal(stored)
		}
		s.mu.Lock()
		q := s.searches[len(s.searches)-1]
		s.mu.Unlock()
		for _, want := range []string{`"size":5`, `{"term":{"track":"geonames"}}`, `{"term":{"user-tags.intention":"contender"}}`,
			`"gte":"20261202T000000Z"`, `{"term":{"environment":"local"}}`} {
			if !strings.Contains(q, want) {
				t.Errorf("the store's search lacks %s: %s", want, q)
			}
		}
		if got := ids(runIn(t, home, "list", "races", "--limit", "1").stdout); !slices.Equal(got, newest[:1]) {
			t.Errorf("--limit 1: %v", got)
		}
	})
	t.Run("unreachable_store_fails_naming_it", func(t *testing.T) {
		gone := goneStore(t)
		r := runIn(t, home, "list", "races", "--metrics-store", gone)
		want := "rally list races: metrics store " + gone + ": list races: POST /rally-races-*/_search: dial tcp "
		if r.code != 1 || r.stdout != "" || !strings.HasPrefix(r.stderr, want) || !strings.Contains(r.stderr, "connection refused") {
			t.Errorf("want exit 1 and %q... connection refused, got %s", want, r)
		}
	})
	t.Run("bad_date_is_bad_usage", func(t *testing.T) {
		r := runIn(t, home, "list", "races", "--to-date", "2026-12-01")
		if want := `--to-date "2026-12-01": want a day as YYYYMMDD`; r.code != 2 || !strings.Contains(r.stderr, want) {
			t.Errorf("want exit 2 and %q, got %s", want, r)
		}
	})
}
