package race

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"rally/driver"
	"rally/metrics"
	"rally/track"
)

// Plan is a race request checked and loaded on the coordinator.
type Plan struct {
	// ID is the race's id; Run makes one when empty.
	ID        string
	Request   Request
	Track     *track.Track
	Challenge *track.Challenge
	Targets   []driver.Target
	Options   driver.ClientOptions
	// TrackPaths says where a member finds the track on its own host when
	// that is not Request.TrackPath (the coordinator pushed it there).
	TrackPaths map[string]string
	// Corpora, when set, brings the race's corpora to the members before
	// they start (the coordinator's push); nil leaves them to the members.
	Corpora CorpusDelivery
}

// Check loads the track and options of a request and refuses, up front,
// what cannot run: a challenge that CheckChallenge refuses (with its
// problems, one line each), bad targets and options.
func Check(req Request) (*Plan, error) {
	if req.MinLoadDrivers < 0 {
		return nil, fmt.Errorf("min-load-drivers %d: want 0 (all) or more", req.MinLoadDrivers)
	}
	if err := checkLoadDriverHosts(req.LoadDriverHosts, req.MinLoadDrivers); err != nil {
		return nil, err
	}
	t, ch, err := CheckTrack(req)
	if err != nil {
		return nil, err
	}
	targets, err := driver.ParseTargetHosts(req.TargetHosts)
	if err != nil {
		return nil, err
	}
	opts := driver.DefaultClientOptions()
	if req.ClientOptions != "" {
		if opts, err = driver.ParseClientOptions(req.ClientOptions); err != nil {
			return nil, err
		}
	}
	switch req.OnError {
	case "", driver.OnErrorContinue, driver.OnErrorAbort:
	default:
		return nil, fmt.Errorf("on-error %q: want continue or abort", req.OnError)
	}
	return &Plan{Request: req, Track: t, Challenge: ch, Targets: targets, Options: opts}, nil
}

// CheckTrack loads the track of a request, picks its challenge, applies
// its task filter and refuses the challenge when CheckChallenge does. It
// is the part of Check that needs no target: the CLI calls it before it
// starts nodes or asks a coordinator, so that a challenge that cannot run
// is refused the same way everywhere.
func CheckTrack(req Request) (*track.Track, *track.Challenge, error) {
	if req.TrackPath == "" {
		return nil, nil, errors.New("no track: give --track-path DIR")
	}
	t, ch, err := loadChallenge(req.TrackPath, req.TrackParams, req.TestMode, req.Challenge, req.TaskFilter)
	if err != nil {
		return nil, nil, err
	}
	if err := CheckChallenge(t, ch).Err(); err != nil {
		return nil, nil, err
	}
	return t, ch, nil
}

// CheckChallenge says whether challenge c of t can run with this load
// driver and, if not, why (track.Check with the driver's operation types
// and parameter checks). It is the one answer to "can this challenge
// run": `rally info` shows it for every challenge, and a race refuses
// with its lines.
func CheckChallenge(t *track.Track, c *track.Challenge) track.Status {
	d := newLoadDriver()
	st := track.Check(t, c, d)
	if st.Runnable() {
		// What only the whole schedule shows (e.g. a parallel block's
		// completed-by); every task passed on its own.
		if err := driver.Validate(t, c); err != nil {
			st.Problems = append(st.Problems, track.Problem{Kind: track.ProblemDriver, Message: d.trim(err.Error(), c.Name, "")})
		}
	}
	return st
}

// loadDriver is what track.Check needs to know of package driver.
type loadDriver struct {
	types map[string]bool
}

var _ track.Driver = loadDriver{}

func newLoadDriver() loadDriver {
	d := loadDriver{types: map[string]bool{}}
	for _, typ := range driver.OperationTypes() {
		d.types[typ] = true
	}
	return d
}

func (d loadDriver) RunsOperationType(typ string) bool { return d.types[typ] }

// CheckTask asks driver.Validate about a challenge of this task alone.
func (d loadDriver) CheckTask(t *track.Track, task *track.Task) error {
	one := *task
	one.CompletesParent = false
	c := &track.Challenge{Name: task.Name, Schedule: []track.Step{{Tasks: []track.Task{one}}}}
	if err := driver.Validate(t, c); err != nil {
		return errors.New(d.trim(err.Error(), c.Name, task.Name))
	}
	return nil
}

// trim drops the challenge and task driver.Validate's messages start with:
// the checker's lines name them already.
func (loadDriver) trim(msg, challenge, task string) string {
	msg = strings.TrimPrefix(msg, fmt.Sprintf("challenge %q cannot run: ", challenge))
	if task != "" {
		msg = strings.TrimPrefix(msg, fmt.Sprintf("task %q: ", task))
	}
	return msg
}

// loadChallenge loads the track a race runs and picks its challenge, with
// the task filter applied. The coordinator's plan (Check) and every
// member's schedule (Start) come from here, so that the step and task
// indexes of a race/step message mean the same on both sides.
func loadChallenge(path string, params map[string]any, testMode bool, challenge string, filter track.TaskFilter) (*track.Track, *track.Challenge, error) {
	t, err := track.Load(track.LoadOptions{Path: path, Params: params, TestMode: testMode})
	if err != nil {
		return nil, nil, err
	}
	ch, err := t.Challenge(challenge)
	if err != nil {
		return nil, nil, err
	}
	if err := filter.Apply(ch); err != nil {
		return nil, nil, fmt.Errorf("track %s: %w", t.Name, err)
	}
	return t, ch, nil
}

// checkLoadDriverHosts refuses a --load-driver-hosts list with an empty or
// repeated entry, or with fewer hosts than --min-load-drivers asks for.
// Which hosts the names mean is the coordinator's to say: it has the
// inventory.
func checkLoadDriverHosts(hosts []string, min int) error {
	for i, h := range hosts {
		if strings.TrimSpace(h) == "" {
			return errors.New("--load-driver-hosts: an empty entry; separate host names or addresses by single commas")
		}
		if slices.Contains(hosts[:i], h) {
			return fmt.Errorf("--load-driver-hosts: %s is named twice", h)
		}
	}
	if len(hosts) > 0 && min > len(hosts) {
		return fmt.Errorf("--min-load-drivers %d: --load-driver-hosts names only %d (%s)", min, len(hosts), strings.Join(hosts, ","))
	}
	return nil
}

// localHosts are the names --load-driver-hosts may give a race on this
// machine: esrally's default, localhost, and its address.
var localHosts = []string{"localhost", "127.0.0.1"}

// CheckLocalLoadDrivers refuses --load-driver-hosts for a race on this
// machine (no cluster up, or nodes started here from a distribution: its
// one load driver is this process) unless it names this machine only, as
// localhost or 127.0.0.1.
func CheckLocalLoadDrivers(hosts []string) error {
	if err := checkLoadDriverHosts(hosts, 0); err != nil {
		return err
	}
	for _, h := range hosts {
		if !slices.Contains(localHosts, h) {
			return fmt.Errorf("--load-driver-hosts %s: this race's one load driver is this machine (localhost), as no cluster of load drivers runs it; to race from %s, bring up a cluster that has it (rally up -i hosts.yaml)", strings.Join(hosts, ","), h)
		}
	}
	return nil
}

// onError is the plan's --on-error policy with its default.
func (p *Plan) onError() string {
	if p.Request.OnError == "" {
		return driver.OnErrorContinue
	}
	return p.Request.OnError
}

// spread assigns each task's clients round-robin over the members,
// continuing the rotation across the tasks of a step so that a parallel
// block of one-client tasks spreads too. Client indexes are the task's own;
// the driver derives ramp-up and seeds from them, so a client behaves the
// same whichever member runs it.
func spread(step track.Step, members []string) map[string][]TaskShare {
	out := map[string][]TaskShare{}
	rr := 0
	for ti, t := range step.Tasks {
		n := max(t.Clients, 1)
		byMember := map[string][]int{}
		for k := 0; k < n; k++ {
			m := members[rr%len(members)]
			byMember[m] = append(byMember[m], k)
			rr++
		}
		for _, m := range members {
			if len(byMember[m]) == 0 {
				continue
			}
			out[m] = append(out[m], TaskShare{Task: ti, ClientIndexes: byMember[m]})
		}
	}
	return out
}

// clientLimits splits a parallel block's "clients" limit over the members
// that run its clients, in proportion to their clients and at least one
// each; nil when the block has no limit below its clients' sum.
func clientLimits(step track.Step, shares map[string][]TaskShare, members []string) map[string]int {
	total := 0
	for _, t := range step.Tasks {
		total += max(t.Clients, 1)
	}
	if step.Clients <= 0 || step.Clients >= total {
		return nil
	}
	limits := map[string]int{}
	given := 0
	for _, m := range members {
		n := 0
		for _, sh := range shares[m] {
			n += len(sh.ClientIndexes)
		}
		if n == 0 {
			continue
		}
		l := max(step.Clients*n/total, 1)
		limits[m] = l
		given += l
	}
	// Hand out what rounding left, one each, in member order.
	for given < step.Clients {
		progressed := false
		for _, m := range members {
			if _, ok := limits[m]; ok && given < step.Clients {
				limits[m]++
				given++
				progressed = true
			}
		}
		if !progressed {
			break
		}
	}
	return limits
}

// reportable lists the tasks to report, in schedule order: every task
// with include-in-reporting that finished somewhere or has measurements
// (a step cut short by an abort or a lost host still reports what it
// measured).
func reportable(p *Plan, results map[string]*driver.TaskResult, measured func(task string) bool) []metrics.TaskInfo {
	var out []metrics.TaskInfo
	for si := range p.Challenge.Schedule {
		for ti := range p.Challenge.Schedule[si].Tasks {
			t := &p.Challenge.Schedule[si].Tasks[ti]
			if r, ok := results[t.Name]; ok {
				if r.IncludeInReporting {
					out = append(out, r.Info)
				}
				continue
			}
			if t.IncludeInReporting && measured(t.Name) {
				out = append(out, driver.TaskInfoOf(p.Track, t))
			}
		}
	}
	return out
}

// mergeResult adds one member's share of a task to the task's result.
func mergeResult(all map[string]*driver.TaskResult, r *driver.TaskResult) {
	cur, ok := all[r.Info.Task]
	if !ok {
		cp := *r
		all[r.Info.Task] = &cp
		return
	}
	cur.Clients += r.Clients
	cur.Requests += r.Requests
	cur.Errors += r.Errors
	if r.Started.Before(cur.Started) {
		cur.Started = r.Started
	}
	if r.Ended.After(cur.Ended) {
		cur.Ended = r.Ended
	}
	if r.Status != driver.StatusCompleted && cur.Status == driver.StatusCompleted {
		cur.Status, cur.Error = r.Status, r.Error
	}
}
