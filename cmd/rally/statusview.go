package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"rally/control"
)

// writeStatus prints a coordinator's status for people: the cluster, one
// row per host, one row per actor-system member, the actors' mailboxes and
// the system's counters. now is passed in so the output is testable.
func writeStatus(w io.Writer, st control.Status, now time.Time) error {
	c := st.Coordinator
	fmt.Fprintf(w, "cluster %s: %s (coordinator pid %d, rally %s, up %s)\n",
		st.Cluster, st.Phase, c.PID, c.Version, roundDuration(now.Sub(c.Started)))
	fmt.Fprintf(w, "  socket:    %s\n", c.Socket)
	if c.Inventory != "" {
		fmt.Fprintf(w, "  inventory: %s\n", c.Inventory)
	}
	if st.Uploads > 0 {
		fmt.Fprintf(w, "  uploads:   %s, %s\n", plural(st.Uploads, "worker build"), humanBytes(st.UploadedBytes))
	}

	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "HOST\tADDRESS\tROLES\tPHASE\tPLATFORM\tWORKER PID\tRESTARTS\tTUNNEL\tERROR")
	for _, h := range st.Hosts {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", h.Name, h.Address, strings.Join(h.Roles, ","), hostPhase(h),
			dash(h.Platform), dashInt(h.WorkerPID), dashInt(h.Restarts), dashPort(h.TunnelPort), dash(oneLine(h.Error)))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(st.Nodes) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(tw, "NODE\tHOST\tHTTP\tENGINE\tPID\tHEALTH\tHEAP\tCPU\tJAVA")
		for _, n := range st.Nodes {
			heap, cpu := "-", "-"
			if n.HeapMax > 0 {
				heap = humanBytes(n.HeapUsed) + "/" + humanBytes(n.HeapMax)
				cpu = fmt.Sprintf("%d%%", n.CPUPercent)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s %s\t%s\t%s\t%s\t%s\t%s\n", n.Name, n.Host, n.HTTP, n.Engine, n.Version, dashInt(n.PID),
				dash(n.Health), heap, cpu, dash(n.JDK))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}

	a := st.Actors
	if len(a.Members) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(tw, "MEMBER\tSTATE\tPID\tLAST HEARTBEAT\tEXPIRES IN\tRTT\tCLOCK OFFSET\tMESSAGES IN/OUT\tBYTES IN/OUT")
		for _, m := range a.Members {
			last := "-"
			if !m.LastHeartbeat.IsZero() {
				last = roundDuration(now.Sub(m.LastHeartbeat)) + " ago"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d/%d\t%s/%s\n", m.Name, m.State, dashInt(m.PID), last,
				roundDuration(m.ExpiresIn), roundDuration(m.RTT), signedDuration(m.ClockOffset),
				m.MessagesIn, m.MessagesOut, humanBytes(m.BytesIn), humanBytes(m.BytesOut))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if len(a.Actors) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(tw, "ACTOR\tMAILBOX\tRECEIVED\tSENT")
		for _, ac := range a.Actors {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\n", ac.Name, ac.Mailbox, ac.Received, ac.Sent)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}

	fmt.Fprintln(w)
	fmt.Fprintf(w, "messages received: %s\n", countsByType(a.Received))
	fmt.Fprintf(w, "messages sent:     %s\n", countsByType(a.Sent))
	fmt.Fprintf(w, "pending %d, dead letters %d (mailbox full %d), rejected %d, malformed %d, unknown type %d, events dropped %d\n",
		a.Pending, a.DeadLetters, a.MailboxFull, a.Rejected, a.Malformed, a.UnknownType, a.EventsDropped)
	_, err := fmt.Fprintf(w, "bytes in %s, out %s\n", humanBytes(a.BytesIn), humanBytes(a.BytesOut))
	return err
}

// hostPhase shows upload progress while a host is uploading.
func hostPhase(h control.HostStatus) string {
	if h.Phase == control.PhaseUpload && h.UploadTotal > 0 {
		return fmt.Sprintf("%s %d%%", h.Phase, h.UploadSent*100/h.UploadTotal)
	}
	return h.Phase
}

// countsByType lists message counts by type, most frequent first.
func countsByType(m map[string]int64) string {
	if len(m) == 0 {
		return "none"
	}
	types := slices.SortedFunc(maps.Keys(m), func(a, b string) int {
		if m[a] != m[b] {
			return int(m[b] - m[a])
		}
		return strings.Compare(a, b)
	})
	parts := make([]string, len(types))
	for i, t := range types {
		parts[i] = fmt.Sprintf("%s %d", t, m[t])
	}
	return strings.Join(parts, ", ")
}

// roundDuration shortens a duration for a table: 1h2m3s, 4.2s, 12.3ms,
// 845µs.
func roundDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "0s"
	case d >= time.Minute:
		return d.Round(time.Second).String()
	case d >= time.Second:
		return d.Round(100 * time.Millisecond).String()
	case d >= 100*time.Millisecond:
		return fmt.Sprintf("%.0fms", float64(d)/float64(time.Millisecond))
	case d >= 10*time.Millisecond:
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	case d >= time.Millisecond:
		return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
	case d >= time.Microsecond:
		return fmt.Sprintf("%.0fµs", float64(d)/float64(time.Microsecond))
	}
	return d.String()
}

// signedDuration is roundDuration with an explicit sign, for offsets.
func signedDuration(d time.Duration) string {
	if d < 0 {
		return "-" + roundDuration(-d)
	}
	return "+" + roundDuration(d)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func dashInt(n int) string {
	if n == 0 {
		return "-"
	}
	return fmt.Sprint(n)
}

func dashPort(p int) string {
	if p == 0 {
		return "-"
	}
	return fmt.Sprintf("127.0.0.1:%d", p)
}

func plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// oneLine keeps a table row on one line.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
