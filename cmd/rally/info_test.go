package main

import (
	"strings"
	"testing"
)

// customScheduler is a test track whose challenge spiky needs a scheduler
// from its track.py and whose challenge plain needs nothing rally lacks.
const customScheduler = "../../track/testdata/custom-scheduler"

// TestInfoAndRaceAgree: for a challenge that does not exist and for one that
// cannot run, rally info and rally race both exit 2 with the same message
// (after the command's name), one line per problem; the race refuses before
// it connects to anything.
func TestInfoAndRaceAgree(t *testing.T) {
	home := t.TempDir()
	for _, tc := range []struct {
		name, challenge string
		want            string
	}{
		{"unknown_challenge", "nope", `track custom-scheduler: unknown challenge "nope"; available: plain (default), spiky` + "\n"},
		{"challenge_that_cannot_run", "spiky", "challenge spiky of track custom-scheduler cannot run here:\n" +
			`  challenges/spiky.json:12:19: task bursts: schedule "bursty" is a scheduler from track.py:21, which rally does not run` + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			info := runIn(t, home, "info", "--track-path", customScheduler, "--challenge", tc.challenge)
			race := runIn(t, home, "race", "--track-path", customScheduler, "--challenge", tc.challenge, "--target-hosts", "127.0.0.1:1")
			if info.code != 2 || race.code != 2 {
				t.Fatalf("want exit 2 from both\ninfo: %s\nrace: %s", info, race)
			}
			if got := strings.TrimPrefix(info.stderr, "rally info: "); got != tc.want {
				t.Errorf("info says:\n%s\nwant:\n%s", got, tc.want)
			}
			if got := strings.TrimPrefix(race.stderr, "rally race: "); got != tc.want {
				t.Errorf("race says:\n%s\nwant:\n%s", got, tc.want)
			}
			if race.stdout != "" {
				t.Errorf("race wrote a report: %s", race.stdout)
			}
		})
	}
}

// TestInfoShowsWhichChallengesCanRun: without --challenge, rally info
// describes every challenge with a status line and its problems under it,
// and exits 0: the track is fine, one challenge of it cannot run here.
func TestInfoShowsWhichChallengesCanRun(t *testing.T) {
	r := runIn(t, t.TempDir(), "info", "--track-path", customScheduler)
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("want exit 0, got %s", r)
	}
	out := r.stdout
	for _, want := range []string{
		"Challenges   2 (1 can run here)\n",
		"Challenge plain (default)\n  Searches at a steady pace (esrally's deterministic schedule).\n  Can run here: yes\n",
		"Challenge spiky\n  Searches in bursts, paced by the track's own scheduler (track.py).\n  Can run here: no, 1 problem\n" +
			`    challenges/spiky.json:12:19: task bursts: schedule "bursty" is a scheduler from track.py:21, which rally does not run` + "\n",
		"needs track.py scheduler: bursty",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	d := infoJSON(t, "--track-path", customScheduler)
	for _, c := range d.Challenges {
		runnable := c.Runnable != nil && *c.Runnable
		if runnable != (c.Name == "plain") || runnable != (len(c.Problems) == 0) {
			t.Errorf("challenge %s: runnable %v, problems %+v", c.Name, c.Runnable, c.Problems)
		}
	}
	// The challenge that can run is described without complaint.
	if r := runIn(t, t.TempDir(), "info", "--track-path", customScheduler, "--challenge", "plain"); r.code != 0 {
		t.Errorf("info --challenge plain: want exit 0, got %s", r)
	}
}
