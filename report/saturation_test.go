package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"rally/telemetry"
)

func TestSaturationWarning(t *testing.T) {
	busy := telemetry.DriverLoad{Wall: 10 * time.Second, CPUs: 1, Busy: 0.97, Waiting: 0.02}
	light := telemetry.DriverLoad{Wall: 10 * time.Second, CPUs: 2, Busy: 0.1}
	r := &Race{ID: "r1", Status: StatusCompleted, LoadDrivers: []DriverLoad{
		{Host: "ld-1", Step: 2, Tasks: []string{"search", "bulk"}, DriverLoad: busy, Saturation: busy.Saturation()},
		{Host: "ld-2", Step: 2, Tasks: []string{"search"}, DriverLoad: light, Saturation: light.Saturation()},
	}}
	for _, f := range []Format{Text, Markdown} {
		var b bytes.Buffer
		if err := WriteSummary(&b, r, f); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		want := "load driver ld-1 in step 2 (search, bulk): it kept 97% of its 1 CPU(s) busy"
		if !strings.Contains(out, want) || !strings.Contains(out, "may have been the bottleneck") {
			t.Fatalf("%s report lacks %q:\n%s", f, want, out)
		}
		if strings.Contains(out, "ld-2") {
			t.Fatalf("%s report warns about the light load driver:\n%s", f, out)
		}
	}
	r.LoadDrivers = r.LoadDrivers[1:]
	var b bytes.Buffer
	if err := WriteSummary(&b, r, Text); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "bottleneck") {
		t.Fatalf("a warning without a saturated load driver:\n%s", b.String())
	}
	// race.json keeps every load driver's figures.
	j, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(j, []byte(`"load-drivers":[{"host":"ld-2","step":2,"tasks":["search"],"wall-ns":10000000000,"cpus":2,"busy":0.1,"waiting":0}]`)) {
		t.Fatalf("race.json: %s", j)
	}
}
