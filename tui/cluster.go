package tui

import (
	"fmt"
	"slices"
	"strings"

	"charm.land/lipgloss/v2"

	"rally/actor"
	"rally/control"
)

// bringUp lists the bring-up phases in order, for the progress dots.
var bringUp = []string{control.PhaseConnect, control.PhaseUpload, control.PhaseTunnel, control.PhaseStart, control.PhaseJoined}

// downPhase is where a teardown asked from the UI is.
type downPhase int

const (
	downIdle downPhase = iota
	downRunning
	downDone
)

// clusterView is the Cluster tab: one row per host with its bring-up
// progress and what its worker reports, and the teardown's outcome.
type clusterView struct {
	hosts []control.HostStatus // in inventory order

	down       downPhase
	downReport control.DownReport
	downErr    string
}

// setHosts replaces the hosts with a status snapshot.
func (c *clusterView) setHosts(hs []control.HostStatus) {
	c.hosts = append(c.hosts[:0:0], hs...)
}

// applyHost updates one host from a "host" event. It returns the host's
// phase before the event ("" for a host not seen yet).
func (c *clusterView) applyHost(ev control.Event) (before string) {
	i := slices.IndexFunc(c.hosts, func(h control.HostStatus) bool { return h.Name == ev.Host })
	if i < 0 {
		h := control.HostStatus{Name: ev.Host, Phase: ev.Phase, Error: ev.Text}
		if ev.HostStatus != nil {
			h = *ev.HostStatus
		}
		c.hosts = append(c.hosts, h)
		return ""
	}
	before = c.hosts[i].Phase
	if ev.HostStatus != nil {
		c.hosts[i] = *ev.HostStatus
		return before
	}
	if ev.Phase != "" {
		c.hosts[i].Phase = ev.Phase
	}
	c.hosts[i].Error = ev.Text
	return before
}

var clusterColumns = []column{
	{title: "HOST"}, {title: "ROLES"}, {title: "ADDRESS"}, {title: "PHASE"}, {title: "PLATFORM"},
	{title: "CPUS", right: true}, {title: "MEMORY", right: true}, {title: "RTT", right: true},
	{title: "HEARTBEAT", right: true}, {title: "PORT", right: true}, {title: "PID", right: true},
}

const phaseCol = 3

// roleProvisioner is the inventory's role of hosts that run Elasticsearch
// nodes (the status carries roles as the inventory spells them).
const roleProvisioner = "provisioner"

// lines draws the tab. members are the actor system's members by name,
// which give a host's CPUs, memory, round trip and last heartbeat.
func (c *clusterView) lines(rc renderCtx, st control.Status, members map[string]actor.MemberStatus) []string {
	th := rc.th
	if len(c.hosts) == 0 {
		return []string{"no hosts yet: waiting for the coordinator"}
	}
	rows := make([]row, 0, len(c.hosts)*2)
	for _, h := range c.hosts {
		m, isMember := members[h.Name]
		platform := h.Platform
		if platform == "" && m.Facts.OS != "" {
			platform = m.Facts.OS + "/" + m.Facts.Arch
		}
		cpus, mem, rtt, hb := "-", "-", "-", "-"
		if isMember {
			if m.Facts.CPUs > 0 {
				cpus = fmt.Sprint(m.Facts.CPUs)
			}
			if m.Facts.MemoryBytes > 0 {
				mem = humanBytes(m.Facts.MemoryBytes)
			}
			if m.RTT > 0 {
				rtt = shortDuration(m.RTT)
			}
			hb = age(rc.at, m.LastHeartbeat)
		}
		port := "-"
		if h.TunnelPort > 0 {
			port = fmt.Sprint(h.TunnelPort)
		}
		r := row{cells: []string{
			printable(h.Name), printable(strings.Join(h.Roles, ",")), printable(dash(h.Address)),
			phaseCell(h), printable(dash(platform)), cpus, mem, rtt, hb, port, dashInt(h.WorkerPID),
		}}
		phaseStyle := phaseStyle(th, h.Phase)
		r.paint = func(col int, s string) string {
			if col == phaseCol || col == -1 {
				return th.paint(phaseStyle, s)
			}
			return s
		}
		if h.Error != "" {
			r.spanFrom, r.tail = phaseCol, h.Phase+": "+printable(h.Error)
		}
		rows = append(rows, r)
		if slices.Contains(h.Roles, roleProvisioner) {
			rows = append(rows, nodeRows(th, h.Name, st.Nodes)...)
		}
	}
	out := renderTable(th, clusterColumns, rows)
	out = append(out, "", c.summary(st))
	if c.down != downIdle {
		out = append(out, "")
		out = append(out, c.downLines(rc, st.Cluster)...)
	}
	return out
}

// phaseCell shows bring-up progress as dots, upload with its percentage,
// and how often the host's worker was restarted.
func phaseCell(h control.HostStatus) string {
	phase := printable(h.Phase)
	if h.Phase == control.PhaseUpload && h.UploadTotal > 0 {
		phase = fmt.Sprintf("%s %d%%", phase, min(h.UploadSent*100/h.UploadTotal, 100))
	}
	if h.Restarts > 0 {
		phase = fmt.Sprintf("%s (%s)", phase, plural(h.Restarts, "restart"))
	}
	step := slices.Index(bringUp, h.Phase)
	if h.Phase == control.PhasePending {
		step = -1
	} else if step < 0 || h.Phase == control.PhaseJoined {
		return phase
	}
	dots := strings.Repeat("●", step+1) + strings.Repeat("○", len(bringUp)-step-1)
	return dots + " " + phase
}

func phaseStyle(th theme, phase string) lipgloss.Style {
	switch phase {
	case control.PhaseJoined:
		return th.ok
	case control.PhaseFailed, control.PhaseLost:
		return th.bad
	case control.PhaseStopped, control.PhaseTornDown:
		return th.dim
	}
	return th.warn
}

// summary counts hosts by phase, in bring-up order.
func (c *clusterView) summary(st control.Status) string {
	counts := map[string]int{}
	var order []string
	for _, h := range c.hosts {
		if counts[h.Phase] == 0 {
			order = append(order, h.Phase)
		}
		counts[h.Phase]++
	}
	rank := func(p string) int {
		if i := slices.Index(bringUp, p); i >= 0 {
			return i
		}
		return len(bringUp)
	}
	slices.SortStableFunc(order, func(a, b string) int { return rank(a) - rank(b) })
	parts := make([]string, len(order))
	for i, p := range order {
		parts[i] = fmt.Sprintf("%d %s", counts[p], printable(p))
	}
	s := plural(len(c.hosts), "host") + ": " + strings.Join(parts, ", ")
	if st.Uploads > 0 {
		s += fmt.Sprintf(" · %s uploaded (%s)", plural(st.Uploads, "worker build"), humanBytes(st.UploadedBytes))
	}
	return s
}

// downLines shows the teardown in progress, or what it did on each host.
func (c *clusterView) downLines(rc renderCtx, cluster string) []string {
	th := rc.th
	switch c.down {
	case downRunning:
		return []string{th.paint(th.warn, fmt.Sprintf("tearing down cluster %s…", printable(cluster)))}
	case downDone:
		if c.downErr != "" {
			return []string{th.paint(th.bad, "teardown failed: "+printable(c.downErr))}
		}
	default:
		return nil
	}
	out := []string{th.paint(th.title, fmt.Sprintf("cluster %s torn down", printable(dash(c.downReport.Cluster))))}
	for _, h := range c.downReport.Hosts {
		out = append(out, "  "+hostReportLine(th, h))
	}
	return out
}

// hostReportLine says what teardown did on one host.
func hostReportLine(th theme, h control.HostReport) string {
	if h.Error != "" && h.WorkersStopped == 0 && h.FilesRemoved == 0 && len(h.LogsFetched) == 0 {
		return printable(h.Name) + ": " + th.paint(th.bad, "error: "+printable(h.Error))
	}
	s := fmt.Sprintf("%s: stopped %s, removed %s", printable(h.Name), plural(h.WorkersStopped, "worker"), plural(h.FilesRemoved, "file"))
	if len(h.LogsFetched) > 0 {
		s += ", fetched " + printable(strings.Join(h.LogsFetched, ", "))
	}
	if h.Error != "" {
		s += ": " + th.paint(th.bad, "error: "+printable(h.Error))
	}
	return s
}

// nodeRows are a provisioner host's Elasticsearch or OpenSearch nodes,
// under its row.
func nodeRows(th theme, host string, nodes []control.NodeStatus) []row {
	dim := func(col int, s string) string { return th.paint(th.dim, s) }
	var rows []row
	for _, n := range nodes {
		if n.Host != host {
			continue
		}
		tail := fmt.Sprintf("└ node %s  %s %s  http %s  pid %s", printable(n.Name), printable(n.Engine), printable(n.Version), printable(n.HTTP), dashInt(n.PID))
		style := th.warn // not answering (yet)
		if n.HeapMax > 0 {
			tail += fmt.Sprintf("  %s  heap %s/%s  cpu %d%%", printable(n.Health), humanBytes(n.HeapUsed), humanBytes(n.HeapMax), n.CPUPercent)
			style = th.ok
			if n.Health != "green" {
				style = th.warn
			}
		}
		rows = append(rows, row{cells: []string{""}, spanFrom: 1, tail: tail,
			paint: func(col int, s string) string { return th.paint(style, s) }})
	}
	if len(rows) == 0 {
		rows = append(rows, row{cells: []string{""}, spanFrom: 1, tail: "└ no nodes (rally up with --distribution-path starts them)", paint: dim})
	}
	return rows
}
