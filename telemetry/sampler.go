package telemetry

import (
	"errors"
	"fmt"
	"sync"
	"time"
)

// DefaultInterval is the time between samples when NewSampler is given
// none, Rally's default for its telemetry devices.
const DefaultInterval = time.Second

// Target is what a Sampler watches: a node, by the name the summary uses,
// and the process group of its processes.
type Target struct {
	Name string
	PGID int
}

// Sampler samples the host and its targets from Start to Stop and sums
// them up. It keeps running figures, not samples.
type Sampler struct {
	procRoot string
	interval time.Duration
	targets  func() []Target
	now      func() time.Time // time.Now; tests set their own clock

	mu      sync.Mutex // serialises Start and Stop
	state   samplerState
	stop    chan struct{}
	done    chan struct{}
	w       *window // owned by the sampling goroutine while it runs
	summary Summary
}

type samplerState int

const (
	samplerNew samplerState = iota
	samplerRunning
	samplerStopped
)

// NewSampler returns a Sampler reading procRoot ("/proc" if empty) every
// interval (DefaultInterval if not positive). targets is called at every
// sample, from the Sampler's goroutine, to learn what to watch: a node
// started mid-race is picked up, one left out is no longer sampled (and is
// flagged gone if it stays left out). It must be quick and safe to call
// concurrently with its owner; nil watches only the host. A name listed
// twice counts once, the first listing winning.
func NewSampler(procRoot string, interval time.Duration, targets func() []Target) *Sampler {
	if procRoot == "" {
		procRoot = "/proc"
	}
	if interval <= 0 {
		interval = DefaultInterval
	}
	return &Sampler{
		procRoot: procRoot,
		interval: interval,
		targets:  targets,
		now:      time.Now,
		w:        newWindow(interval),
	}
}

// Start takes the first sample, before it returns, so that the window
// starts now, then samples every interval on a goroutine of its own until
// Stop. Starting again does nothing.
func (s *Sampler) Start() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != samplerNew {
		return
	}
	s.state = samplerRunning
	s.sample()
	s.stop = make(chan struct{})
	s.done = make(chan struct{})
	go s.loop()
}

// Stop ends the sampling goroutine, takes a last sample so that the window
// ends now, and returns the summary. Stopping again returns the same
// summary; stopping a Sampler never started returns an empty one.
func (s *Sampler) Stop() Summary {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch s.state {
	case samplerNew:
		s.summary = s.w.summary()
	case samplerRunning:
		close(s.stop)
		<-s.done
		s.sample()
		s.summary = s.w.summary()
	}
	s.state = samplerStopped
	return s.summary
}

// loop samples on every tick until stop. A sample that takes longer than an
// interval makes the ticker drop ticks rather than queue them.
func (s *Sampler) loop() {
	defer close(s.done)
	ticker := time.NewTicker(s.interval)
	defer ticker.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-ticker.C:
			s.sample()
		}
	}
}

// sample reads the host and the targets once and folds the reading into
// the window.
func (s *Sampler) sample() {
	t := reading{at: s.now()}
	t.host, t.hostErr = ReadHost(s.procRoot)

	var listed []Target
	if s.targets != nil {
		listed = s.targets()
	}
	want := map[int]bool{}
	seen := map[string]bool{}
	for _, target := range listed {
		if seen[target.Name] {
			continue
		}
		seen[target.Name] = true
		if target.PGID <= 0 {
			t.errs = append(t.errs, fmt.Errorf("target %s: process group %d is not a valid group", target.Name, target.PGID))
			continue
		}
		t.targets = append(t.targets, target)
		want[target.PGID] = true
	}

	groups, err := scanGroups(s.procRoot, want)
	if err != nil {
		t.scanErr = fmt.Errorf("targets: %w", err)
		s.w.observe(t)
		return
	}
	t.procs = make(map[string][]ProcessSample, len(t.targets))
	t.procsAt = s.now()
	for _, target := range t.targets {
		var procs []ProcessSample
		for _, pid := range groups[target.PGID] {
			p, err := ReadProcess(s.procRoot, pid)
			switch {
			case errors.Is(err, ErrProcessGone):
				continue
			case err != nil:
				t.errs = append(t.errs, fmt.Errorf("target %s: %w", target.Name, err))
				continue
			}
			// Between the scan and this read the process may have left
			// the group, died, or its PID gone to another process.
			if p.PGID != target.PGID || !alive(p.State) {
				continue
			}
			procs = append(procs, p)
		}
		t.procs[target.Name] = procs
	}
	s.w.observe(t)
}
