package main

import (
	"strings"

	"rally/control"
	"rally/track"
)

// taskFilterFlags are esrally's --include-tasks and --exclude-tasks, shared
// by `rally race` (which tasks run) and `rally info` (the schedule such a
// race runs). Package track filters; this only parses.
type taskFilterFlags struct {
	IncludeTasks string `xor:"task-filter" placeholder:"TASKS" help:"Keep only these tasks of the schedule, separated by commas: task names, type:<operation-type> or tag:<tag>, e.g. index-append,type:search or tag:read. In a parallel block only its matching tasks run. An entry that matches no task is an error."`
	ExcludeTasks string `xor:"task-filter" placeholder:"TASKS" help:"Keep every task of the schedule but these, in the same form as --include-tasks, e.g. type:force-merge,tag:slow. A parallel block left with no task is skipped."`
}

// filter parses the flag that was given.
func (f taskFilterFlags) filter() (track.TaskFilter, error) {
	spec, exclude, flag := f.IncludeTasks, false, "--include-tasks"
	if f.ExcludeTasks != "" {
		spec, exclude, flag = f.ExcludeTasks, true, "--exclude-tasks"
	}
	tf, err := track.ParseTaskFilter(spec, exclude)
	if err != nil {
		return tf, usageErrorf("%s: %v", flag, err)
	}
	return tf, nil
}

// apply filters challenge c of t, or every challenge of t when c is nil.
func (f taskFilterFlags) apply(t *track.Track, c *track.Challenge) error {
	tf, err := f.filter()
	if err != nil {
		return err
	}
	challenges := []*track.Challenge{c}
	if c == nil {
		challenges = nil
		for i := range t.Challenges {
			challenges = append(challenges, &t.Challenges[i])
		}
	}
	if err := tf.Apply(challenges...); err != nil {
		return &usageError{err: err} // the filter is the user's input
	}
	return nil
}

// raceTaskFlags say which tasks a race runs (the task filter) and from
// which load-driver hosts (esrally's --load-driver-hosts).
type raceTaskFlags struct {
	taskFilterFlags
	LoadDriverHosts string `placeholder:"HOSTS" help:"Race from these load-driver hosts of the cluster only, by inventory name or address, separated by commas, e.g. h1,10.0.0.12 (default: all of them). Clients are spread over these hosts alone, and --min-load-drivers counts among them. With no cluster up the race runs on this machine, which only localhost or 127.0.0.1 names."`
}

// apply puts the flags into a race request.
func (f raceTaskFlags) apply(req *control.RaceRequest) error {
	tf, err := f.filter()
	if err != nil {
		return err
	}
	req.TaskFilter = tf
	req.LoadDriverHosts = nil
	if strings.TrimSpace(f.LoadDriverHosts) != "" {
		for _, h := range strings.Split(f.LoadDriverHosts, ",") {
			req.LoadDriverHosts = append(req.LoadDriverHosts, strings.TrimSpace(h))
		}
	}
	return nil
}
