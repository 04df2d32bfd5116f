package tui

import (
	"strings"

	tea "charm.land/bubbletea/v2"
)

// horizontalStep is how far ← and → move.
const horizontalStep = 8

// onKey handles a key press. A pending question takes y or n (or esc)
// and nothing else but the quit keys.
func (m *Model) onKey(msg tea.KeyPressMsg) tea.Cmd {
	key := msg.String()
	if key == "ctrl+c" || key == "q" {
		return m.quit()
	}
	if m.confirm != confirmNone {
		asked := m.confirm
		switch key {
		case "y", "Y":
			m.confirm = confirmNone
			return m.confirmed(asked)
		case "n", "N", "esc":
			m.confirm = confirmNone
		}
		return nil
	}
	switch key {
	case "?":
		m.help = !m.help
	case "esc":
		m.help = false
	case "1", "2", "3", "4":
		m.show(tab(key[0] - '1'))
	case "tab":
		m.show((m.tab + 1) % numTabs)
	case "shift+tab":
		m.show((m.tab + numTabs - 1) % numTabs)
	case "r":
		return m.startChosenRace()
	case "enter":
		if m.picking() {
			return m.startChosenRace()
		}
	case "n":
		if m.tab == tabRace && !m.help && m.race.finished() {
			m.race.dismissed = true
			m.scroll[tabRace].y = 0
		}
	case "a":
		m.confirm = confirmAbort
	case "d":
		switch m.cluster.down {
		case downRunning:
			m.setNotice(false, "teardown is already running")
		case downDone:
			if m.tornDown {
				m.setNotice(false, "cluster %s is already torn down", m.clusterName())
				break
			}
			m.confirm = confirmDown
		default:
			m.confirm = confirmDown
		}
	case "f":
		if m.tab == tabLogs && !m.help {
			m.logs.cycleFilter()
		}
	case "up", "k":
		if m.picking() {
			m.moveCursor(-1)
			break
		}
		m.scrollBy(-1)
	case "down", "j":
		if m.picking() {
			m.moveCursor(1)
			break
		}
		m.scrollBy(1)
	case "pgup", "b":
		m.scrollBy(-max(m.bodyHeight()-1, 1))
	case "pgdown", "space":
		m.scrollBy(max(m.bodyHeight()-1, 1))
	case "home", "g":
		if m.picking() {
			m.moveCursor(-1 << 30)
			break
		}
		m.scrollBy(-1 << 30)
	case "end", "G":
		if m.picking() {
			m.moveCursor(1 << 30)
			break
		}
		m.scrollBy(1 << 30)
	case "left", "h":
		m.scroll[m.tab].x = max(m.scroll[m.tab].x-horizontalStep, 0)
	case "right", "l":
		m.scroll[m.tab].x = min(m.scroll[m.tab].x+horizontalStep, 1<<12)
	}
	return nil
}

// startChosenRace starts a race with raceRequest, unless no track path is set.
func (m *Model) startChosenRace() tea.Cmd {
	req := m.raceRequest()
	if req.TrackPath == "" {
		m.setNotice(true, "cannot start a race: no track path is set")
		return nil
	}
	m.show(tabRace)
	if req.Challenge != "" {
		m.setNotice(false, "starting a race with %s, challenge %s…", req.TrackPath, req.Challenge)
	} else {
		m.setNotice(false, "starting a race with %s…", req.TrackPath)
	}
	return m.startRace(req)
}

// picking says the keys go to the Race tab's challenge picker: it is on
// screen, help is not.
func (m *Model) picking() bool {
	return m.tab == tabRace && !m.help && m.opts.Race.TrackPath != "" && m.race.picking()
}

// moveCursor moves the picker's cursor and scrolls the tab so that the
// cursor's line shows.
func (m *Model) moveCursor(delta int) {
	m.race.moveCursor(delta)
	line := m.race.cursorLine(m.renderCtx(max(m.width, 1)), m.raceRequest())
	h := max(m.bodyHeight(), 1)
	sp := &m.scroll[tabRace]
	sp.y = min(max(sp.y, line-h+1), line)
}

func (m *Model) show(t tab) {
	m.tab = t
	m.help = false
}

// quit ends the program and whatever it has in flight; it never asks the
// coordinator for anything.
func (m *Model) quit() tea.Cmd {
	m.confirm = confirmNone
	m.cancel()
	return tea.Quit
}

func (m *Model) confirmed(asked confirmKind) tea.Cmd {
	switch asked {
	case confirmAbort:
		m.setNotice(false, "aborting the race…")
		return m.abortRace()
	case confirmDown:
		m.show(tabCluster)
		m.cluster.down, m.cluster.downErr = downRunning, ""
		m.log("", "tearing down cluster "+m.clusterName())
		return m.tearDown()
	}
	return nil
}

// scrollBy moves the current tab delta lines down (negative: up), within
// its content.
func (m *Model) scrollBy(delta int) {
	if m.help {
		return
	}
	h := m.bodyHeight()
	if m.tab == tabLogs {
		// The Logs tab counts from the newest line back: up is older.
		m.logs.scroll(-delta, h)
		return
	}
	n := len(m.content(m.tab, max(m.width, 1)))
	sp := &m.scroll[m.tab]
	sp.y = min(max(sp.y+delta, 0), max(n-h, 0))
}

func (m *Model) helpLines() []string {
	req := m.raceRequest()
	race := "start a race with the track " + printable(dash(req.TrackPath))
	if req.Challenge != "" {
		race += ", challenge " + printable(req.Challenge) + ","
	}
	if req.TargetHosts != "" {
		race += " against " + printable(req.TargetHosts)
	}
	k := func(keys, what string) string {
		return "  " + m.th.paint(m.th.key, keys) + strings.Repeat(" ", max(28-len([]rune(keys)), 1)) + what
	}
	return []string{
		m.th.paint(m.th.header, "KEYS"),
		k("1 2 3 4  tab  shift+tab", "switch view: Cluster, Actors, Race, Logs"),
		k("↑ ↓  pgup pgdn  home end", "scroll (also k j, b space, g G)"),
		k("← →", "scroll sideways (also h l)"),
		k("r", race),
		k("↑ ↓  enter", "Race: choose a challenge, start it (also r)"),
		k("n", "Race: put a finished race away, pick anew"),
		k("a", "abort the running race (asks y/n)"),
		k("d", "tear the cluster down (asks y/n)"),
		k("f", "Logs: show one host, the next, ..., all"),
		k("?  esc", "show or hide this help"),
		k("q  ctrl+c", "quit the UI; the cluster keeps running"),
	}
}
