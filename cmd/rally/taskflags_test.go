package main

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"rally/track"
)

const geonames = "/work/shared/tracks/rally-tracks/geonames"

// infoJSON runs rally info --json in-process and decodes its output.
func infoJSON(t *testing.T, args ...string) track.DescribeJSON {
	t.Helper()
	var stdout, stderr bytes.Buffer
	args = append([]string{"info", "--json"}, args...)
	if code := run(t.Context(), args, strings.NewReader(""), &stdout, &stderr); code != 0 {
		t.Fatalf("rally %s: exit %d\n%s", strings.Join(args, " "), code, stderr.String())
	}
	var d track.DescribeJSON
	if err := json.Unmarshal(stdout.Bytes(), &d); err != nil {
		t.Fatalf("%v in:\n%s", err, stdout.String())
	}
	return d
}

// TestInfoTaskFilter: rally info shows the schedule the task filter
// leaves, in every challenge or the one chosen.
func TestInfoTaskFilter(t *testing.T) {
	t.Run("include_type_search_lists_only_search_tasks", func(t *testing.T) {
		full := infoJSON(t, "--track-path", geonames)
		d := infoJSON(t, "--track-path", geonames, "--include-tasks", "type:search")
		if len(d.Challenges) != len(full.Challenges) {
			t.Fatalf("%d challenges, want all %d", len(d.Challenges), len(full.Challenges))
		}
		searches, others := 0, 0
		for _, c := range full.Challenges {
			for _, s := range c.Schedule {
				for _, task := range s.Tasks {
					if task.OperationType == "search" {
						searches++
					} else {
						others++
					}
				}
			}
		}
		if searches == 0 || others == 0 {
			t.Fatalf("geonames has %d search and %d other tasks; the test needs both", searches, others)
		}
		n := 0
		for _, c := range d.Challenges {
			for _, s := range c.Schedule {
				for _, task := range s.Tasks {
					n++
					if task.OperationType != "search" {
						t.Errorf("challenge %s: task %s of type %s is shown", c.Name, task.Name, task.OperationType)
					}
				}
			}
		}
		if n != searches {
			t.Errorf("%d tasks shown, want the %d search tasks", n, searches)
		}
	})
	t.Run("exclude_in_the_text_view_of_one_challenge", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		args := []string{"info", "--track-path", "../../examples/tracks/tiny", "--challenge", "index-and-search",
			"--exclude-tasks", "index-append, type:search"}
		if code := run(t.Context(), args, strings.NewReader(""), &stdout, &stderr); code != 0 {
			t.Fatalf("exit %d\n%s", code, stderr.String())
		}
		for _, gone := range []string{"index-append", "search-kitchen"} {
			if strings.Contains(stdout.String(), gone) {
				t.Errorf("%s is shown:\n%s", gone, stdout.String())
			}
		}
		for _, kept := range []string{"delete-index", "refresh-after-index", "force-merge"} {
			if !strings.Contains(stdout.String(), kept) {
				t.Errorf("%s is not shown:\n%s", kept, stdout.String())
			}
		}
	})
	t.Run("a tag", func(t *testing.T) {
		d := infoJSON(t, "--track-path", "/work/shared/tracks/rally-tracks/http_logs", "--challenge", "append-no-conflicts", "--include-tasks", "tag:setup")
		for _, s := range d.Challenges[0].Schedule {
			for _, task := range s.Tasks {
				if !slices.Contains(task.Tags, "setup") {
					t.Errorf("task %s (tags %v) is shown", task.Name, task.Tags)
				}
			}
		}
		if len(d.Challenges[0].Schedule) == 0 {
			t.Error("no task shown")
		}
	})
}

// TestTaskFlagRefusals: bad task filters and load-driver hosts are bad
// usage (exit 2), named.
func TestTaskFlagRefusals(t *testing.T) {
	t.Setenv("RALLY_HOME", t.TempDir())
	const tiny = "../../examples/tracks/tiny"
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"a misspelt task name", []string{"info", "--track-path", tiny, "--include-tasks", "serch-kitchen"},
			`--include-tasks: no task of challenge "index-and-search" matches "serch-kitchen" (did you mean "search-kitchen"?)`},
		{"both filters", []string{"info", "--track-path", tiny, "--include-tasks", "a", "--exclude-tasks", "b"},
			"--include-tasks and --exclude-tasks can't be used together"},
		{"type without a type", []string{"info", "--track-path", tiny, "--exclude-tasks", "type:"},
			`--exclude-tasks: "type:": nothing after "type:"; want e.g. type:search`},
		{"an unknown prefix", []string{"race", "--track-path", tiny, "--target-hosts", "127.0.0.1:9", "--include-tasks", "op:search"},
			`--include-tasks: "op:search": unknown filter "op"`},
		{"a race with no cluster up from another host", []string{"race", "--track-path", tiny, "--target-hosts", "127.0.0.1:9", "--load-driver-hosts", "localhost,h2"},
			"--load-driver-hosts localhost,h2: this race's one load driver is this machine"},
		{"a race filter matching nothing", []string{"race", "--track-path", tiny, "--target-hosts", "127.0.0.1:9", "--exclude-tasks", "tag:slow"},
			`--exclude-tasks: no task of challenge "index-and-search" matches "tag:slow" (no task there has tags)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(t.Context(), tc.args, strings.NewReader(""), &stdout, &stderr)
			if code != exitUsage || !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("rally %s: exit %d, stderr %q; want exit 2 and %q", strings.Join(tc.args, " "), code, stderr.String(), tc.want)
			}
		})
	}
}
