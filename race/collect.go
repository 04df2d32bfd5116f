package race

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	"rally/metrics"
	"rally/report"
)

// run is the race under way. The fields below the channels are guarded by
// Conductor.mu; the members' messages arrive on their own dispatchers
// (concurrently across members, in order for each), change this state
// and wake the race's loop through notify, never blocking.
type run struct {
	id     string
	epoch  time.Time
	agg    *metrics.Aggregator
	notify chan struct{}

	progress Progress
	perHost  map[string]map[string]int64 // task → member → requests
	ready    map[string]Ready

	// The current step: its index, the members that run a share of it and
	// those that reported it done; ending is set once a member completed
	// the block and every member was told to end it.
	step      int
	shares    map[string][]TaskShare
	done      map[string]StepDone
	ending    bool
	endedBy   string
	lost      map[string]*report.LostHost
	lostOrder []string

	// deltas holds which metric deltas of each member and task arrived.
	deltas     map[hostTask]*seqSet
	duplicates int64
	gaps       map[hostTask][]uint64
}

type hostTask struct{ host, task string }

// seqSet is the sequence numbers of one member's deltas of one task.
type seqSet struct {
	got map[uint64]bool
	max uint64
}

func newRun(id string, now time.Time) *run {
	return &run{
		id: id, epoch: now, agg: metrics.NewAggregator(now), notify: make(chan struct{}, 1),
		perHost: map[string]map[string]int64{}, ready: map[string]Ready{},
		step: -1, done: map[string]StepDone{}, lost: map[string]*report.LostHost{},
		deltas: map[hostTask]*seqSet{}, gaps: map[hostTask][]uint64{},
	}
}

// wake tells the race's loop that its state changed; it never blocks.
func (r *run) wake() {
	select {
	case r.notify <- struct{}{}:
	default:
	}
}

func (c *Conductor) current(id string) *run {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur == nil || c.cur.id != id {
		return nil // no race, or a message of another (or no) race
	}
	return c.cur
}

func (c *Conductor) onReady(from string, body json.RawMessage) {
	r, err := decode[Ready](body)
	if err != nil {
		c.log.Warn("bad race ready", "from", from, "err", err)
		return
	}
	cur := c.current(r.RaceID)
	if cur == nil {
		return
	}
	c.mu.Lock()
	cur.ready[from] = r
	c.mu.Unlock()
	cur.wake()
}

func (c *Conductor) onPrepare(from string, body json.RawMessage) {
	pr, err := decode[Preparing](body)
	if err != nil {
		return
	}
	cur := c.current(pr.RaceID)
	if cur == nil {
		return
	}
	line := fmt.Sprintf("%s %s %s", pr.Kind, pr.File, sizeProgress(pr.Done, pr.Total))
	if pr.Final {
		line = fmt.Sprintf("%s %s done (%s)", pr.Kind, pr.File, sizeProgress(pr.Done, 0))
	}
	c.mu.Lock()
	if cur.progress.Preparing == nil {
		cur.progress.Preparing = map[string]string{}
	}
	cur.progress.Preparing[from] = line
	p := cur.progress
	p.Preparing = maps.Clone(p.Preparing)
	p.Lost = maps.Clone(p.Lost)
	c.mu.Unlock()
	if c.cfg.Progress != nil {
		c.cfg.Progress(p)
	}
}

// sizeProgress is "12.3 of 45.6 MiB (27%)", or "12.3 MiB" without a total.
func sizeProgress(done, total int64) string {
	mib := func(n int64) float64 { return float64(n) / (1 << 20) }
	if total <= 0 {
		return fmt.Sprintf("%.1f MiB", mib(done))
	}
	return fmt.Sprintf("%.1f of %.1f MiB (%.0f%%)", mib(done), mib(total), 100*float64(done)/float64(total))
}

// onMetrics merges a member's delta once: a sequence number seen before is
// a duplicate and dropped (counted). Deltas of a member already lost are
// merged too: what it measured up to its last delta is kept. Decoding and
// merging run on the sending member's own dispatcher.
func (c *Conductor) onMetrics(from string, body json.RawMessage) {
	m, err := decode[Metrics](body)
	if err != nil || m.Delta == nil {
		c.log.Warn("bad race metrics", "from", from, "err", err)
		return
	}
	cur := c.current(m.RaceID)
	if cur == nil {
		return
	}
	key := hostTask{from, m.Delta.Task}
	c.mu.Lock()
	set := cur.deltas[key]
	if set == nil {
		set = &seqSet{got: map[uint64]bool{}}
		cur.deltas[key] = set
	}
	if set.got[m.Seq] {
		cur.duplicates++
		c.mu.Unlock()
		c.log.Warn("duplicate metrics delta dropped", "from", from, "task", m.Delta.Task, "seq", m.Seq)
		return
	}
	set.got[m.Seq] = true
	set.max = max(set.max, m.Seq)
	c.mu.Unlock()
	// The member's epoch is the race epoch in its own clock: bucket
	// seconds are relative to it, so they align once the epochs agree.
	m.Delta.Epoch = cur.epoch
	if err := cur.agg.Add(m.Delta); err != nil {
		c.log.Warn("race metrics not merged", "from", from, "err", err)
		return
	}
	c.mu.Lock()
	if cur.perHost[m.Delta.Task] == nil {
		cur.perHost[m.Delta.Task] = map[string]int64{}
	}
	cur.perHost[m.Delta.Task][from] += m.Delta.Requests + m.Delta.WarmupRequests
	c.mu.Unlock()
}

// onTaskComplete ends the current block on every member that runs a share
// of it, once, when one member completed it.
func (c *Conductor) onTaskComplete(from string, body json.RawMessage) {
	tc, err := decode[TaskComplete](body)
	if err != nil {
		c.log.Warn("bad task-complete", "from", from, "err", err)
		return
	}
	cur := c.current(tc.RaceID)
	if cur == nil {
		return
	}
	c.mu.Lock()
	if tc.Step != cur.step || cur.ending {
		c.mu.Unlock()
		return
	}
	cur.ending, cur.endedBy = true, tc.Task
	var to []string
	for m := range cur.shares {
		if cur.lost[m] == nil {
			to = append(to, m)
		}
	}
	c.mu.Unlock()
	slices.Sort(to)
	c.log.Info("block completed; ending it on every load driver", "race", tc.RaceID, "step", tc.Step, "task", tc.Task, "by", from)
	for _, m := range to {
		if err := c.cfg.System.SendReliable(m, MsgEndStep, EndStep{RaceID: tc.RaceID, Step: tc.Step}); err != nil {
			c.log.Warn("end step not sent", "member", m, "err", err)
		}
	}
	cur.wake()
}

func (c *Conductor) onStepDone(from string, body json.RawMessage) {
	d, err := decode[StepDone](body)
	if err != nil {
		c.log.Warn("bad step-done", "from", from, "err", err)
		return
	}
	cur := c.current(d.RaceID)
	if cur == nil {
		return
	}
	c.mu.Lock()
	if d.Index == cur.step {
		if _, seen := cur.done[from]; !seen {
			cur.done[from] = d
			cur.checkSeqsLocked(from, d.LastSeq)
		}
	}
	c.mu.Unlock()
	cur.wake()
}

// checkSeqsLocked names the deltas below a member's last sequence number
// that never arrived. A member's messages are handled in order, so by its
// StepDone every delta it sent before was seen.
func (r *run) checkSeqsLocked(host string, last map[string]uint64) {
	for task, n := range last {
		key := hostTask{host, task}
		set := r.deltas[key]
		var missing []uint64
		for s := uint64(1); s <= n; s++ {
			if set == nil || !set.got[s] {
				missing = append(missing, s)
			}
		}
		if len(missing) > 0 {
			r.gaps[key] = missing
		}
	}
}

// holesLocked names the gaps below the highest delta that arrived from a
// member whose StepDone never came (it was lost).
func (r *run) holesLocked(host string) {
	for key, set := range r.deltas {
		if key.host != host {
			continue
		}
		var missing []uint64
		for s := uint64(1); s < set.max; s++ {
			if !set.got[s] {
				missing = append(missing, s)
			}
		}
		if len(missing) > 0 {
			r.gaps[key] = missing
		}
	}
}

// lastDeltaLocked is, by task, the highest delta merged from host.
func (r *run) lastDeltaLocked(host string) map[string]uint64 {
	out := map[string]uint64{}
	for key, set := range r.deltas {
		if key.host == host {
			out[key.task] = set.max
		}
	}
	return out
}

// gapList is the race's gaps in a stable order.
func (r *run) gapListLocked() []report.Gap {
	var out []report.Gap
	for key, missing := range r.gaps {
		out = append(out, report.Gap{Host: key.host, Task: key.task, Missing: missing})
	}
	slices.SortFunc(out, func(a, b report.Gap) int {
		return cmp.Or(cmp.Compare(a.Host, b.Host), cmp.Compare(a.Task, b.Task))
	})
	return out
}
