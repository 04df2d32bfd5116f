package actor

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files")

func sampleStatus() Status {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	return Status{
		Leader: LeaderStatus{Address: "laptop", Version: "0.1.0", Build: "feedface", Started: t0, HeartbeatInterval: time.Second, Expiry: 10 * time.Second},
		Members: []MemberStatus{
			{
				Name: "h1", Via: "h1", State: MemberJoined,
				Facts: HostFacts{Hostname: "h1.lab", OS: "linux", Arch: "amd64", Kernel: "6.1.0", CPUs: 8, MemoryBytes: 16 << 30},
				PID:   4242, Build: "cafe", Version: "0.1.0",
				Joined: t0.Add(2 * time.Second), LastHeartbeat: t0.Add(30 * time.Second),
				ExpiresIn: 9500 * time.Millisecond, RTT: 1250 * time.Microsecond, ClockOffset: -2*time.Second - 300*time.Microsecond,
				BytesIn: 10240, BytesOut: 20480, MessagesIn: 64, MessagesOut: 65,
				Overflow: 12, Duplicates: 3, OutOfOrder: 9,
			},
			{Name: "h2", State: MemberExpected},
		},
		Actors: []ActorStatus{
			{Name: CoordinatorName, Mailbox: 0, Received: 3, Sent: 5},
			{Name: "member/h1", Mailbox: 2, Received: 64, Sent: 65},
			{Name: "inbox/h1", Mailbox: 0, Received: 3},
		},
		Received:    map[string]int64{"hello": 1, "heartbeat": 30, "heartbeat-ack": 30, "task-done": 3},
		Sent:        map[string]int64{"welcome": 1, "heartbeat": 30, "heartbeat-ack": 30, "run-task": 4},
		Pending:     2,
		DeadLetters: 1, MailboxFull: 0, Overflow: 12, Duplicates: 3, OutOfOrder: 9, Rejected: 2, Malformed: 1, UnknownType: 1, EventsDropped: 7,
		BytesIn: 10240, BytesOut: 20480,
	}
}

// TestStatusJSON pins the JSON that `rally status --json` prints: field
// names and units are an interface for scripts.
func TestStatusJSON(t *testing.T) {
	got, err := json.MarshalIndent(sampleStatus(), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	golden := filepath.Join("testdata", "status.golden.json")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("status JSON differs from %s (run with -update if intended):\n%s", golden, got)
	}

	t.Run("decodes_back_to_the_same_status", func(t *testing.T) {
		var back Status
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(back, sampleStatus()) {
			t.Errorf("round trip changed the status:\n got %+v\nwant %+v", back, sampleStatus())
		}
	})
}
