package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"rally/actor"
	"rally/control"
)

func TestWriteStatus(t *testing.T) {
	now := time.Date(2026, 1, 25, 10, 15, 0, 0, time.UTC)
	st := control.Status{
		Cluster: "demo",
		Phase:   control.ClusterUp,
		Coordinator: control.CoordinatorInfo{
			PID: 4242, Version: "devel-1a2b3c4d5e6f", Socket: "/home/me/.rally/run/demo.sock",
			Started: now.Add(-5*time.Minute - 2*time.Second), Inventory: "/home/me/hosts.yaml",
		},
		Hosts: []control.HostStatus{
			{Name: "driver-1", Address: "10.0.0.11", Roles: []string{"load-driver"}, Phase: control.PhaseJoined, Platform: "linux/amd64", WorkerPID: 811, TunnelPort: 1900, Restarts: 2},
			{Name: "driver-2", Address: "10.0.0.12", Roles: []string{"load-driver"}, Phase: control.PhaseUpload, UploadSent: 3 << 20, UploadTotal: 12 << 20},
			{Name: "es-1", Address: "10.0.0.21", Roles: []string{"provisioner", "load-driver"}, Phase: control.PhaseFailed, Error: "connect: dial tcp 10.0.0.21:22:\n  i/o timeout"},
		},
		Uploads: 1, UploadedBytes: 12 << 20,
		Nodes: []control.NodeStatus{
			{Host: "es-1", Name: "es-1-node-0", HTTP: "10.0.0.21:24001", PID: 3131, Engine: "opensearch", Version: "2.19.1", JDK: "Java 17.0.15 (/usr/lib/jvm/java-17-openjdk-amd64)",
				Health: "green", HeapUsed: 300 << 20, HeapMax: 1 << 30, CPUPercent: 12},
			{Host: "es-1", Name: "es-1-node-1", HTTP: "10.0.0.21:24003", Engine: "opensearch", Version: "2.19.1"},
		},
		Actors: actor.Status{
			Members: []actor.MemberStatus{{
				Name: "driver-1", State: actor.MemberJoined, PID: 811, LastHeartbeat: now.Add(-400 * time.Millisecond),
				ExpiresIn: 9600 * time.Millisecond, RTT: 350 * time.Microsecond, ClockOffset: 844695 * time.Nanosecond,
				MessagesIn: 120, MessagesOut: 118, BytesIn: 12 << 10, BytesOut: 11 << 10,
			}},
			Actors:   []actor.ActorStatus{{Name: "coordinator", Mailbox: 0, Received: 12, Sent: 10}},
			Received: map[string]int64{"heartbeat": 118, "hello": 1, "pong": 1},
			Sent:     map[string]int64{"heartbeat": 117, "welcome": 1},
			BytesIn:  12 << 10, BytesOut: 11 << 10, DeadLetters: 2, MailboxFull: 1,
		},
	}
	var buf bytes.Buffer
	if err := writeStatus(&buf, st, now); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "status.golden")
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if buf.String() != string(want) {
		t.Errorf("writeStatus differs from %s (rerun with -update if intended):\n%s", golden, buf.String())
	}
}
