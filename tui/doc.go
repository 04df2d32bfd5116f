// Package tui is rally's interactive terminal UI (Bubble Tea v2): it shows
// what a running coordinator publishes — hosts and their bring-up, the
// actor system, the race in progress with its report, and the logs — and
// sends the user's requests (start or abort a race, tear the cluster down)
// back to it.
//
// The coordinator is a Source (the control client in production, a fake in
// tests). The root Model composes one view model per tab (Cluster, Actors,
// Race, Logs). Status is polled once a second by a command; events arrive
// through a goroutine that feeds a channel, and a command drains it in
// batches of whatever arrived since the previous frame, at most about 30
// batches a second, so a burst of events costs a few renders rather than
// one per event. Update and View never do I/O; View is a function of the
// model (its clock included), so views are golden-tested at fixed sizes.
// Every string that comes from a host is stripped of control characters
// before it reaches the terminal.
//
// Keys: 1-4 or tab/shift+tab switch tabs, ? shows help, arrows (and
// pgup/pgdn/home/end) scroll, ← → scroll sideways, r starts a race with
// Options.Race, a aborts it and d tears the cluster down (both ask y/n), f
// filters the logs by host, q or ctrl+c quits.
//
// The Race tab, when no race runs, shows what r would start (track path,
// target hosts, challenge). When the caller lists more than one of the
// track's challenges in Options.Challenges, it also shows them as a
// picker: ↑ ↓ (k j, home end) move its cursor, which stops at the first
// and last entry, and r or enter start a race with the chosen challenge.
// While a race runs, and after it ended, the tab shows that race and the
// arrows scroll it; n puts a finished race away and brings the picker
// back. The package never reads a track itself.
//
// This package must not tear anything down or start anything on its own:
// quitting the UI leaves the cluster as it is. It knows nothing of SSH,
// inventories or the actor wire; it reads the control package's types.
// It never reads the environment: the caller turns NO_COLOR into
// Options.NoColor.
package tui
