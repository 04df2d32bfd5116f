package track

import (
	"fmt"
	"slices"
	"strings"

	"rally/spelling"
)

// TaskFilter is esrally's --include-tasks or --exclude-tasks, parsed: which
// tasks of a challenge's schedule run. The zero value filters nothing.
type TaskFilter struct {
	// Exclude is true for --exclude-tasks (the matching tasks are dropped),
	// false for --include-tasks (only the matching tasks are kept).
	Exclude bool `json:"exclude,omitempty"`
	// Match are the filter's entries; a task matches the filter when it
	// matches any of them.
	Match []TaskMatch `json:"match,omitempty"`
}

// TaskMatch is one entry of a task filter: a task name, type:<operation
// type> or tag:<tag>.
type TaskMatch struct {
	By    MatchBy `json:"by"`
	Value string  `json:"value"`
}

// MatchBy says what a TaskMatch compares.
type MatchBy string

// What a task filter's entry may match, as esrally's TaskNameFilter,
// TaskOpTypeFilter and TaskTagFilter do.
const (
	MatchName MatchBy = "name" // the task's name (a bare entry)
	MatchType MatchBy = "type" // the operation type of the task's operation
	MatchTag  MatchBy = "tag"  // one of the task's tags
)

// taskFilterSyntax is what an entry may look like, for error messages.
const taskFilterSyntax = "a task name, type:<operation-type> or tag:<tag>"

// ParseTaskFilter parses the value of --include-tasks (exclude false) or
// --exclude-tasks (exclude true): entries separated by commas, each a task
// name, type:<operation-type> or tag:<tag>, as esrally reads them. Blanks
// around entries are ignored; an empty value filters nothing.
func ParseTaskFilter(s string, exclude bool) (TaskFilter, error) {
	f := TaskFilter{Exclude: exclude}
	if strings.TrimSpace(s) == "" {
		return f, nil
	}
	for _, entry := range strings.Split(s, ",") {
		entry = strings.TrimSpace(entry)
		m, err := parseTaskMatch(entry)
		if err != nil {
			return TaskFilter{}, err
		}
		if !slices.Contains(f.Match, m) {
			f.Match = append(f.Match, m)
		}
	}
	return f, nil
}

func parseTaskMatch(entry string) (TaskMatch, error) {
	if entry == "" {
		return TaskMatch{}, fmt.Errorf("an empty entry; separate entries (%s) by single commas", taskFilterSyntax)
	}
	parts := strings.Split(entry, ":")
	switch len(parts) {
	case 1:
		return TaskMatch{By: MatchName, Value: entry}, nil
	case 2:
	default:
		return TaskMatch{}, fmt.Errorf("%q: want %s", entry, taskFilterSyntax)
	}
	by, value := MatchBy(strings.TrimSpace(parts[0])), strings.TrimSpace(parts[1])
	switch by {
	case MatchType, MatchTag:
	default:
		hint := ""
		if best, ok := spelling.Nearest(string(by), []string{string(MatchType), string(MatchTag)}, 2); ok {
			hint = fmt.Sprintf(" (did you mean %q?)", best+":"+value)
		}
		return TaskMatch{}, fmt.Errorf("%q: unknown filter %q%s; want %s", entry, by, hint, taskFilterSyntax)
	}
	if value == "" {
		example := "type:search"
		if by == MatchTag {
			example = "tag:write"
		}
		return TaskMatch{}, fmt.Errorf("%q: nothing after %q; want e.g. %s", entry, string(by)+":", example)
	}
	return TaskMatch{By: by, Value: value}, nil
}

// String is the entry as the user writes it.
func (m TaskMatch) String() string {
	if m.By == MatchName {
		return m.Value
	}
	return string(m.By) + ":" + m.Value
}

// Matches tells whether task t matches the entry.
func (m TaskMatch) Matches(t *Task) bool {
	switch m.By {
	case MatchName:
		return t.Name == m.Value
	case MatchType:
		return t.Operation.Type == m.Value
	case MatchTag:
		return slices.Contains(t.Tags, m.Value)
	}
	return false
}

// IsZero tells whether the filter filters nothing.
func (f TaskFilter) IsZero() bool { return len(f.Match) == 0 }

// String is the filter as its flag's value, e.g. "type:search,index-append".
func (f TaskFilter) String() string {
	entries := make([]string, len(f.Match))
	for i, m := range f.Match {
		entries[i] = m.String()
	}
	return strings.Join(entries, ",")
}

// flag is the filter's flag name, for error messages.
func (f TaskFilter) flag() string {
	if f.Exclude {
		return "--exclude-tasks"
	}
	return "--include-tasks"
}

// keeps tells whether the filter keeps task t.
func (f TaskFilter) keeps(t *Task) bool {
	for _, m := range f.Match {
		if m.Matches(t) {
			return !f.Exclude
		}
	}
	return f.Exclude
}

// Apply filters the schedules of challenges in place, as esrally's task
// filter does: --include-tasks keeps only the matching tasks, --exclude-tasks
// drops them. In a parallel block the filter applies to each of its tasks;
// a block left without tasks is dropped, and a block whose completed-by
// task was dropped waits for all the tasks it has left.
//
// An entry that matches no task of the challenges is an error naming it
// (with a "did you mean" where one is close), since a misspelt name would
// otherwise run, or skip, more than was meant; so is a filter that leaves
// none of the challenges a task to run. On error the challenges are left
// unchanged.
func (f TaskFilter) Apply(challenges ...*Challenge) error {
	if f.IsZero() {
		return nil
	}
	for _, m := range f.Match {
		switch m.By {
		case MatchName, MatchType, MatchTag:
		default:
			return fmt.Errorf("%s: %q: unknown filter %q; want %s", f.flag(), m.String(), m.By, taskFilterSyntax)
		}
	}
	var unmatched []string
	for _, m := range f.Match {
		if !matchesAny(m, challenges) {
			unmatched = append(unmatched, fmt.Sprintf("%q%s", m.String(), matchHint(m, challenges)))
		}
	}
	if len(unmatched) > 0 {
		return fmt.Errorf("%s: no task of %s matches %s", f.flag(), challengeNames(challenges), strings.Join(unmatched, ", nor "))
	}
	filtered := make([][]Step, len(challenges))
	left := 0
	for i, c := range challenges {
		filtered[i] = f.schedule(c.Schedule)
		left += len(filtered[i])
	}
	if left == 0 && len(challenges) > 0 {
		return fmt.Errorf("%s %s: leaves no task of %s to run", f.flag(), f.String(), challengeNames(challenges))
	}
	for i, c := range challenges {
		c.Schedule = filtered[i]
	}
	return nil
}

// schedule returns the steps of sched the filter keeps, with their kept
// tasks; sched itself is not changed.
func (f TaskFilter) schedule(sched []Step) []Step {
	var out []Step
	for _, s := range sched {
		var tasks []Task
		for i := range s.Tasks {
			if f.keeps(&s.Tasks[i]) {
				tasks = append(tasks, s.Tasks[i])
			}
		}
		if len(tasks) == 0 {
			continue
		}
		kept := s
		kept.Tasks = tasks
		if s.CompletedBy != "" && s.CompletedBy != "any" &&
			!slices.ContainsFunc(tasks, func(t Task) bool { return t.Name == s.CompletedBy }) {
			kept.CompletedBy = ""
		}
		out = append(out, kept)
	}
	return out
}

func matchesAny(m TaskMatch, challenges []*Challenge) bool {
	for _, c := range challenges {
		for _, s := range c.Schedule {
			for i := range s.Tasks {
				if m.Matches(&s.Tasks[i]) {
					return true
				}
			}
		}
	}
	return false
}

// matchHint suggests what an entry that matched nothing may have meant:
// the closest task name, operation type or tag of the challenges, else
// (for types and tags, usually few) the ones there are.
func matchHint(m TaskMatch, challenges []*Challenge) string {
	var known []string
	for _, c := range challenges {
		for _, s := range c.Schedule {
			for _, t := range s.Tasks {
				switch m.By {
				case MatchName:
					known = appendNew(known, t.Name)
				case MatchType:
					known = appendNew(known, t.Operation.Type)
				case MatchTag:
					for _, tag := range t.Tags {
						known = appendNew(known, tag)
					}
				}
			}
		}
	}
	if best, ok := spelling.Nearest(m.Value, known, max(2, len(m.Value)/3)); ok {
		return fmt.Sprintf(" (did you mean %q?)", TaskMatch{By: m.By, Value: best}.String())
	}
	switch {
	case m.By == MatchType:
		return " (operation types there: " + strings.Join(known, ", ") + ")"
	case m.By == MatchTag && len(known) == 0:
		return " (no task there has tags)"
	case m.By == MatchTag:
		return " (tags there: " + strings.Join(known, ", ") + ")"
	}
	return ""
}

func appendNew(list []string, s string) []string {
	if s == "" || slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

// challengeNames names the challenges for an error message.
func challengeNames(challenges []*Challenge) string {
	switch len(challenges) {
	case 0:
		return "no challenge"
	case 1:
		return fmt.Sprintf("challenge %q", challenges[0].Name)
	}
	names := make([]string, len(challenges))
	for i, c := range challenges {
		names[i] = fmt.Sprintf("%q", c.Name)
	}
	return "challenges " + strings.Join(names, ", ")
}
