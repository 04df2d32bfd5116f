package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"rally/lab"
	"rally/report"
)

// BenchmarkFortyLoadDrivers races the spread track from 40 lab load
// drivers, 80 clients holding 800 ops/s in total for 20 s, against the
// test target's canned mode on the lab's gateway, and reports the
// latency percentiles (from each request's intended start, so they hold
// the drivers' own lateness), the achieved throughput, the schedule lag
// p99 and how many drivers were called saturated. All 40 workers share
// this machine's cores with the target: a driver that spins or wakes too
// often shows here as latency.
//
//	go test -run '^$' -bench FortyLoadDrivers -benchtime 1x ./e2e/
func BenchmarkFortyLoadDrivers(b *testing.B) {
	const hosts = 40
	l := lab.Require(b, hosts)
	u := newUser(b)
	target := startTarget(b, "--listen", l.Gateway()+":0")
	inv := l.InventoryFile()
	b.Cleanup(func() { u.rally("down", "-i", inv) })
	u.must("up", "--detach", "-i", inv)
	var p50, p99, lag99, thr, saturated float64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := u.must("race", "--track-path", spreadTrack, "--target-hosts", target,
			"--track-params", "clients:80,period:20,rate:800", "--report-format", "json")
		var printed report.Race
		if err := json.Unmarshal([]byte(r.stdout), &printed); err != nil {
			b.Fatalf("race report: %v\n%s", err, r)
		}
		raw, err := os.ReadFile(filepath.Join(u.home, "races", printed.ID, "race.json"))
		if err != nil {
			b.Fatal(err)
		}
		var race report.Race
		if err := json.Unmarshal(raw, &race); err != nil {
			b.Fatal(err)
		}
		if race.Status != report.StatusCompleted || len(race.Hosts) != hosts {
			b.Fatalf("race %s on %d hosts (%s)", race.Status, len(race.Hosts), race.Error)
		}
		for _, ts := range race.Summary.Tasks {
			if ts.Task != spreadTask {
				continue
			}
			if ts.Errors > 0 {
				b.Fatalf("%d errors", ts.Errors)
			}
			p50 += ts.Latency["50"]
			p99 += ts.Latency["99"]
			lag99 += ts.ScheduleLag["99"]
			thr += ts.Throughput.Mean
		}
		for _, d := range race.LoadDrivers {
			if d.Saturation != "" {
				saturated++
			}
		}
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(p50/n, "latency-p50-ms")
	b.ReportMetric(p99/n, "latency-p99-ms")
	b.ReportMetric(lag99/n, "lag-p99-ms")
	b.ReportMetric(thr/n, "ops/s")
	b.ReportMetric(saturated/n, "saturated-drivers")
}
