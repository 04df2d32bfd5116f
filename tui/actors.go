package tui

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"rally/actor"
)

// actorsView is the Actors tab: the actor system's Thespian-like status as
// of the last poll.
type actorsView struct {
	status actor.Status
	// at is when the status was fetched (the model's clock), so expiry
	// counts down between polls.
	at    time.Time
	known bool
}

func (a *actorsView) set(st actor.Status, at time.Time) {
	a.status, a.at, a.known = st, at, true
}

// members indexes the members by name for the Cluster tab.
func (a *actorsView) members() map[string]actor.MemberStatus {
	m := make(map[string]actor.MemberStatus, len(a.status.Members))
	for _, ms := range a.status.Members {
		m[ms.Name] = ms
	}
	return m
}

var (
	memberColumns = []column{
		{title: "MEMBER"}, {title: "STATE"}, {title: "PID", right: true}, {title: "HEARTBEAT", right: true},
		{title: "EXPIRES", right: true}, {title: "RTT", right: true}, {title: "OFFSET", right: true},
		{title: "MSGS IN/OUT", right: true}, {title: "BYTES IN/OUT", right: true},
	}
	actorColumns = []column{
		{title: "ACTOR"}, {title: "MAILBOX", right: true}, {title: "RECEIVED", right: true}, {title: "SENT", right: true},
	}
	typeColumns = []column{
		{title: "MESSAGE TYPE"}, {title: "RECEIVED", right: true}, {title: "SENT", right: true},
	}
)

func (a *actorsView) lines(rc renderCtx) []string {
	th := rc.th
	if !a.known {
		return []string{"no actor status yet: waiting for the coordinator"}
	}
	st := a.status
	l := st.Leader
	out := []string{
		fmt.Sprintf("leader %s · rally %s · up %s", printable(dash(l.Address)), printable(dash(l.Version)), upFor(rc.at, l.Started)),
		fmt.Sprintf("heartbeat every %s · members expire after %s without one", shortDuration(l.HeartbeatInterval), shortDuration(l.Expiry)),
	}
	// The counters come first: they say whether anything is going wrong.
	undelivered := fmt.Sprintf("pending %d · dead letters %s (mailbox full %s) · rejected %s",
		st.Pending, thousands(st.DeadLetters), thousands(st.MailboxFull), thousands(st.Rejected))
	if st.DeadLetters+st.Rejected > 0 {
		undelivered = th.paint(th.warn, undelivered)
	}
	bad := fmt.Sprintf("malformed %s · unknown types %s · events dropped %s",
		thousands(st.Malformed), thousands(st.UnknownType), thousands(st.EventsDropped))
	if st.Malformed+st.UnknownType+st.EventsDropped > 0 {
		bad = th.paint(th.warn, bad)
	}
	out = append(out, undelivered, bad+fmt.Sprintf(" · bytes in %s, out %s", humanBytes(st.BytesIn), humanBytes(st.BytesOut)), "")

	since := max(rc.at.Sub(a.at), 0)
	rows := make([]row, 0, len(st.Members))
	for _, m := range st.Members {
		expires := "-"
		if m.State == actor.MemberJoined {
			expires = shortDuration(max(m.ExpiresIn-since, 0))
		}
		rtt, offset := "-", "-"
		if m.RTT > 0 {
			rtt, offset = shortDuration(m.RTT), signedDuration(m.ClockOffset)
		}
		stateStyle := th.warn
		switch m.State {
		case actor.MemberJoined:
			stateStyle = th.ok
		case actor.MemberLost:
			stateStyle = th.bad
		case actor.MemberLeft:
			stateStyle = th.dim
		}
		rows = append(rows, row{
			cells: []string{
				printable(m.Name), printable(m.State), dashInt(m.PID), age(rc.at, m.LastHeartbeat), expires, rtt, offset,
				thousands(m.MessagesIn) + "/" + thousands(m.MessagesOut), humanBytes(m.BytesIn) + "/" + humanBytes(m.BytesOut),
			},
			paint: func(col int, s string) string {
				if col == 1 {
					return th.paint(stateStyle, s)
				}
				return s
			},
		})
	}
	if len(rows) == 0 {
		out = append(out, "no members")
	} else {
		out = append(out, renderTable(th, memberColumns, rows)...)
	}

	out = append(out, "")
	rows = rows[:0]
	for _, ac := range st.Actors {
		r := row{cells: []string{printable(ac.Name), fmt.Sprint(ac.Mailbox), thousands(ac.Received), thousands(ac.Sent)}}
		if ac.Mailbox > 0 {
			r.paint = func(col int, s string) string {
				if col == 1 {
					return th.paint(th.warn, s)
				}
				return s
			}
		}
		rows = append(rows, r)
	}
	out = append(out, renderTable(th, actorColumns, rows)...)

	out = append(out, "")
	rows = rows[:0]
	for _, t := range messageTypes(st.Received, st.Sent) {
		rows = append(rows, row{cells: []string{printable(t), thousands(st.Received[t]), thousands(st.Sent[t])}})
	}
	if len(rows) == 0 {
		out = append(out, "no messages yet")
	} else {
		out = append(out, renderTable(th, typeColumns, rows)...)
	}

	return out
}

// messageTypes lists the types seen either way, busiest first.
func messageTypes(received, sent map[string]int64) []string {
	all := maps.Clone(received)
	if all == nil {
		all = map[string]int64{}
	}
	for t, n := range sent {
		all[t] += n
	}
	return slices.SortedFunc(maps.Keys(all), func(a, b string) int {
		if all[a] != all[b] {
			if all[a] > all[b] {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	})
}

// upFor says how long something has been up, "-" when it never started.
func upFor(at, started time.Time) string {
	if started.IsZero() {
		return "-"
	}
	return shortDuration(at.Sub(started))
}
