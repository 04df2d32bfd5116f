package track

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseTaskFilter(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      string
		want    []TaskMatch
		wantErr string
	}{
		{"empty filters nothing", "  ", nil, ""},
		{"a bare entry is a task name", "index-append", []TaskMatch{{MatchName, "index-append"}}, ""},
		{"type and tag, blanks ignored", " type:search , tag: write ,q1", []TaskMatch{{MatchType, "search"}, {MatchTag, "write"}, {MatchName, "q1"}}, ""},
		{"an entry given twice counts once", "q1,q1", []TaskMatch{{MatchName, "q1"}}, ""},
		{"type without a type", "type:", nil, `"type:": nothing after "type:"; want e.g. type:search`},
		{"tag without a tag", "q1,tag: ", nil, `"tag:": nothing after "tag:"; want e.g. tag:write`},
		{"a misspelt prefix gets a hint", "typ:search", nil, `"typ:search": unknown filter "typ" (did you mean "type:search"?); want a task name, type:<operation-type> or tag:<tag>`},
		{"an unknown prefix", "operation:search", nil, `"operation:search": unknown filter "operation"; want a task name, type:<operation-type> or tag:<tag>`},
		{"two colons", "tag:a:b", nil, `"tag:a:b": want a task name, type:<operation-type> or tag:<tag>`},
		{"an empty entry", "q1,,q2", nil, "an empty entry; separate entries"},
		{"a trailing comma", "q1,", nil, "an empty entry"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := ParseTaskFilter(tc.in, true)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !f.Exclude || !reflect.DeepEqual(f.Match, tc.want) {
				t.Errorf("got %+v, want exclude with %+v", f, tc.want)
			}
		})
	}
}

// filterChallenge is a schedule with plain tasks, a parallel block with a
// completed-by task and one without, and tags.
func filterChallenge() *Challenge {
	task := func(name, opType string, tags ...string) Task {
		return Task{Name: name, Operation: Operation{Name: name, Type: opType}, Clients: 1, Tags: tags}
	}
	short := task("q-short", "search", "read", "short")
	short.CompletesParent = true
	return &Challenge{Name: "mixed", Schedule: []Step{
		{Tasks: []Task{task("delete-index", "delete-index")}},
		{Tasks: []Task{task("create-index", "create-index")}},
		{Tasks: []Task{task("index-append", "bulk", "write")}},
		{Parallel: true, CompletedBy: "q-short", Clients: 4, Tasks: []Task{task("q-long", "search", "read"), short}},
		{Parallel: true, Tasks: []Task{task("stats", "node-stats"), task("bulk-more", "bulk", "write")}},
		{Tasks: []Task{task("q-final", "search")}},
	}}
}

// scheduleString shows a schedule compactly: steps separated by " | ", a
// parallel block in brackets with its completed-by.
func scheduleString(c *Challenge) string {
	var steps []string
	for _, s := range c.Schedule {
		var names []string
		for _, t := range s.Tasks {
			names = append(names, t.Name)
		}
		str := strings.Join(names, " ")
		if s.Parallel {
			str = "[" + str + "]"
			if s.CompletedBy != "" {
				str += " by " + s.CompletedBy
			}
		}
		steps = append(steps, str)
	}
	return strings.Join(steps, " | ")
}

func TestTaskFilterApply(t *testing.T) {
	for _, tc := range []struct {
		name    string
		include string
		exclude string
		want    string
	}{
		{"include a task by name", "index-append", "", "index-append"},
		{"include by operation type keeps the matching tasks of a block", "type:search", "",
			"[q-long q-short] by q-short | q-final"},
		{"include by tag", "tag:write", "", "index-append | [bulk-more]"},
		{"include several entries: any of them", "create-index,tag:short,type:node-stats", "", "create-index | [q-short] by q-short | [stats]"},
		{"include a block's other task drops its completed-by", "q-long", "", "[q-long]"},
		{"exclude by operation type", "", "type:search", "delete-index | create-index | index-append | [stats bulk-more]"},
		{"exclude a block's completed-by task: it waits for the rest", "", "q-short", "delete-index | create-index | index-append | [q-long] | [stats bulk-more] | q-final"},
		{"exclude emptying blocks drops them", "", "type:search,type:bulk,stats", "delete-index | create-index"},
		{"exclude by tag", "", "tag:read", "delete-index | create-index | index-append | [stats bulk-more] | q-final"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec, exclude := tc.include, false
			if tc.exclude != "" {
				spec, exclude = tc.exclude, true
			}
			f, err := ParseTaskFilter(spec, exclude)
			if err != nil {
				t.Fatal(err)
			}
			c := filterChallenge()
			if err := f.Apply(c); err != nil {
				t.Fatal(err)
			}
			if got := scheduleString(c); got != tc.want {
				t.Errorf("schedule %q, want %q", got, tc.want)
			}
		})
	}
	t.Run("a block keeps its client limit", func(t *testing.T) {
		c := filterChallenge()
		if err := (TaskFilter{Match: []TaskMatch{{MatchType, "search"}}}).Apply(c); err != nil {
			t.Fatal(err)
		}
		if c.Schedule[0].Clients != 4 || !c.Schedule[0].Parallel {
			t.Errorf("block %+v, want parallel with its 4 clients", c.Schedule[0])
		}
	})
	t.Run("the zero filter changes nothing", func(t *testing.T) {
		c := filterChallenge()
		if err := (TaskFilter{}).Apply(c); err != nil || !reflect.DeepEqual(c, filterChallenge()) {
			t.Errorf("err %v, schedule %s", err, scheduleString(c))
		}
	})
}

func TestTaskFilterRefusals(t *testing.T) {
	other := &Challenge{Name: "other", Schedule: []Step{{Tasks: []Task{{Name: "q9", Operation: Operation{Type: "search"}}}}}}
	for _, tc := range []struct {
		name       string
		filter     string
		exclude    bool
		challenges []*Challenge
		want       string
	}{
		{"a misspelt task name", "q-shrot", false, nil,
			`--include-tasks: no task of challenge "mixed" matches "q-shrot" (did you mean "q-short"?)`},
		{"an operation type no task has lists those there are", "type:scroll-search", false, nil,
			`--include-tasks: no task of challenge "mixed" matches "type:scroll-search" (operation types there: delete-index, create-index, bulk, search, node-stats)`},
		{"a misspelt operation type", "type:serch", true, nil,
			`--exclude-tasks: no task of challenge "mixed" matches "type:serch" (did you mean "type:search"?)`},
		{"a tag no task has", "q-long,tag:nightly", false, nil,
			`--include-tasks: no task of challenge "mixed" matches "tag:nightly" (tags there: write, read, short)`},
		{"every entry that matches nothing is named", "nope,tag:nightly", false, nil,
			`matches "nope", nor "tag:nightly" (tags there: write, read, short)`},
		{"tags when no task has any", "tag:x", false, []*Challenge{other}, `(no task there has tags)`},
		{"several challenges are named", "nope", false, []*Challenge{filterChallenge(), other},
			`--include-tasks: no task of challenges "mixed", "other" matches "nope"`},
		{"excluding every task", "type:search,type:bulk,type:node-stats,delete-index,create-index", true, nil,
			`--exclude-tasks type:search,type:bulk,type:node-stats,delete-index,create-index: leaves no task of challenge "mixed" to run`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := ParseTaskFilter(tc.filter, tc.exclude)
			if err != nil {
				t.Fatal(err)
			}
			challenges := tc.challenges
			if challenges == nil {
				challenges = []*Challenge{filterChallenge()}
			}
			before := scheduleString(challenges[0])
			err = f.Apply(challenges...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
			if after := scheduleString(challenges[0]); after != before {
				t.Errorf("a refused filter changed the schedule: %q, was %q", after, before)
			}
		})
	}
	t.Run("an unknown kind from the wire", func(t *testing.T) {
		var f TaskFilter
		if err := json.Unmarshal([]byte(`{"match":[{"by":"operation","value":"search"}]}`), &f); err != nil {
			t.Fatal(err)
		}
		if err := f.Apply(filterChallenge()); err == nil || !strings.Contains(err.Error(), `unknown filter "operation"`) {
			t.Errorf("err %v", err)
		}
	})
	t.Run("some challenges left empty are fine while one has tasks", func(t *testing.T) {
		f, _ := ParseTaskFilter("q9", false)
		mixed := filterChallenge()
		if err := f.Apply(mixed, other); err != nil || len(mixed.Schedule) != 0 || scheduleString(other) != "q9" {
			t.Errorf("err %v; mixed %q, other %q", err, scheduleString(mixed), scheduleString(other))
		}
	})
}

// TestTaskFilterOnALoadedTrack: tags as a track gives them (a string or a
// list) select tasks.
func TestTaskFilterOnALoadedTrack(t *testing.T) {
	dir := t.TempDir()
	doc := `{"version": 2, "indices": [{"name": "idx"}],
  "operations": [{"name": "q", "operation-type": "search", "index": "idx"}],
  "schedule": [
    {"operation": {"operation-type": "create-index"}, "tags": "setup"},
    {"parallel": {"tasks": [
      {"name": "q1", "operation": "q", "tags": ["read", "slow"]},
      {"name": "q2", "operation": "q", "tags": ["read"]}]}},
    {"name": "q3", "operation": "q"}]}`
	if err := os.WriteFile(filepath.Join(dir, "track.json"), []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	tr, err := Load(LoadOptions{Path: dir})
	if err != nil {
		t.Fatal(err)
	}
	c, err := tr.Challenge("")
	if err != nil {
		t.Fatal(err)
	}
	f, err := ParseTaskFilter("tag:setup,tag:slow", true)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Apply(c); err != nil {
		t.Fatal(err)
	}
	if got := scheduleString(c); got != "[q2] | q3" {
		t.Errorf("schedule %q, want %q", got, "[q2] | q3")
	}
}

// FuzzParseTaskFilter: no input panics, and a parsed filter written back
// with String parses to the same filter.
func FuzzParseTaskFilter(f *testing.F) {
	for _, s := range []string{"q1", "type:search,tag:write", "tag:a:b", ",", "type:", " typ : x ,q"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tf, err := ParseTaskFilter(s, false)
		if err != nil {
			return
		}
		again, err := ParseTaskFilter(tf.String(), false)
		if err != nil || !reflect.DeepEqual(again, tf) {
			t.Errorf("%q parsed to %+v, its String %q to %+v (%v)", s, tf, tf.String(), again, err)
		}
	})
}
