package tui

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"rally/actor"
	"rally/control"
)

// bigStatus is a cluster of n hosts, all joined members.
func bigStatus(n int, now time.Time) control.Status {
	st := fixtureStatus()
	st.Hosts = st.Hosts[:0]
	st.Actors.Members = st.Actors.Members[:0]
	st.Actors.Actors = st.Actors.Actors[:1]
	for i := range n {
		name := fmt.Sprintf("driver-%03d", i)
		st.Hosts = append(st.Hosts, control.HostStatus{Name: name, Address: fmt.Sprintf("10.0.%d.%d", i/250, i%250+1),
			Roles: []string{"load-driver"}, Phase: control.PhaseJoined, Platform: "linux/amd64", TunnelPort: 1900, WorkerPID: 1000 + i})
		st.Actors.Members = append(st.Actors.Members, actor.MemberStatus{Name: name, State: actor.MemberJoined, PID: 1000 + i,
			Facts:         actor.HostFacts{OS: "linux", Arch: "amd64", CPUs: 16, MemoryBytes: 64 << 30},
			LastHeartbeat: now.Add(-300 * time.Millisecond), ExpiresIn: 9700 * time.Millisecond,
			RTT: time.Duration(200+i) * time.Microsecond, ClockOffset: time.Duration(i-50) * time.Microsecond,
			MessagesIn: int64(1000 * i), MessagesOut: int64(990 * i)})
		st.Actors.Actors = append(st.Actors.Actors, actor.ActorStatus{Name: "member/" + name, Received: int64(1000 * i), Sent: int64(990 * i)})
	}
	return st
}

// benchEvent is the i-th event of a realistic mix: mostly worker log
// lines, then host snapshots, actor events and race progress.
func benchEvent(i int, st *control.Status, race *control.RaceProgress, now time.Time) control.Event {
	host := st.Hosts[i%len(st.Hosts)].Name
	switch i % 10 {
	case 7:
		hs := st.Hosts[i%len(st.Hosts)]
		return control.Event{Time: now, Kind: control.EventHost, Host: host, Phase: hs.Phase, HostStatus: &hs}
	case 8:
		return control.Event{Time: now, Kind: control.EventActor, Host: host, Phase: actor.EventMessage, Text: "task-progress"}
	case 9:
		p := *race
		return control.Event{Time: now, Kind: control.EventRace, Race: &p}
	}
	return control.Event{Time: now, Kind: control.EventLog, Host: host, Text: fmt.Sprintf("client %d: bulk of 5000 docs in %dms", i%64, 30+i%20)}
}

// rateSource streams events at a fixed rate until ctx ends.
type rateSource struct {
	fakeSource
	perSecond int
	st        control.Status
	race      control.RaceProgress
}

func (s *rateSource) Events(ctx context.Context, fn func(control.Event)) error {
	// Timers are coarse (about 1 ms at best), so events go out in groups
	// of perSecond/100 every 10 ms, each stamped when it is made.
	const tick = 10 * time.Millisecond
	per := max(s.perSecond/100, 1)
	t := time.NewTicker(tick)
	defer t.Stop()
	for i := 0; ; {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		for range per {
			fn(benchEvent(i, &s.st, &s.race, time.Now()))
			i++
		}
	}
}

// BenchmarkStream feeds 1000 events a second from a cluster of 100
// members through the real event path (stream goroutine, channel, batching
// command) into Update and View, one frame per iteration, and reports the
// frames per second, the events per frame, the work per frame and the lag
// from an event's creation to its being in the model.
//
//	go test ./tui -run '^$' -bench Stream -benchtime 200x
func BenchmarkStream(b *testing.B) {
	src := &rateSource{perSecond: 1000, st: bigStatus(100, time.Now()), race: fixtureRace()}
	m := New(src, Options{NoColor: true})
	defer m.Close()
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	m.Update(statusMsg{status: src.st})
	m.Init() // starts the stream goroutine; its commands are run by hand below

	lags := make([]time.Duration, 0, 64*b.N)
	var events int
	var work time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		msg, ok := m.pump.next(m.ctx)().(eventsMsg)
		if !ok {
			b.Fatal("the stream ended")
		}
		w0 := time.Now()
		m.Update(msg)
		seen := time.Now()
		for _, it := range msg.items {
			if it.err == nil {
				lags = append(lags, seen.Sub(it.ev.Time))
			}
		}
		m.tab = tab(i/30) % numTabs // every tab gets drawn
		_ = m.View()
		work += time.Since(w0)
		events += len(msg.items)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	slices.Sort(lags)
	pct := func(p float64) float64 {
		if len(lags) == 0 {
			return 0
		}
		return ms(lags[min(int(p*float64(len(lags))), len(lags)-1)])
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "frames/s")
	b.ReportMetric(float64(events)/float64(b.N), "events/frame")
	b.ReportMetric(float64(events)/elapsed.Seconds(), "events/s")
	b.ReportMetric(ms(work)/float64(b.N), "work-ms/frame")
	b.ReportMetric(pct(0.5), "lag-p50-ms")
	b.ReportMetric(pct(0.99), "lag-p99-ms")
}

// BenchmarkFrame is one frame's work without the pacing: Update with a
// frame's worth of events (33 at 1000/s and 30 fps) and View, per tab, for
// a cluster of 100 members.
func BenchmarkFrame(b *testing.B) {
	now := time.Now()
	st := bigStatus(100, now)
	race := fixtureFinishedRace()
	batch := eventsMsg{}
	for i := range 33 {
		batch.items = append(batch.items, pumpItem{ev: benchEvent(i, &st, &race, now)})
	}
	for t := range numTabs {
		b.Run(tabNames[t], func(b *testing.B) {
			m := New(&fakeSource{}, Options{NoColor: true, Now: func() time.Time { return now }})
			defer m.Close()
			m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
			m.Update(statusMsg{status: st})
			for range 70 { // fill the log buffer
				m.Update(batch)
			}
			m.tab = t
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				m.Update(batch)
				_ = m.View()
			}
		})
	}
}
