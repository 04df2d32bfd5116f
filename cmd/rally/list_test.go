package main

import (
	"encoding/json"
	"os"
	"path/filepath"
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
