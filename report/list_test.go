package report

import (
	"bytes"
	"testing"
	"time"
)

func listRaces() []*Race {
	failed := fixedRace()
	failed.ID = "20261124T090000Z-000001"
	failed.Created = time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	failed.Track, failed.Challenge = "nyc_taxis", "update"
	failed.Distribution, failed.DistributionVersion = "opensearch", "2.17.1"
	failed.TargetHosts = []string{"search.example:9200"}
	failed.Status, failed.Error = StatusFailed, "driver-2 (10.0.0.12): lost"
	failed.UserTags = nil
	return []*Race{contenderRace(), fixedRace(), failed}
}

func TestWriteList(t *testing.T) {
	for _, f := range Formats {
		t.Run(string(f)+"_matches_golden_file", func(t *testing.T) {
			var b bytes.Buffer
			if err := WriteList(&b, listRaces(), f); err != nil {
				t.Fatal(err)
			}
			golden(t, "list."+string(f), b.Bytes())
		})
	}
	t.Run("empty_list_has_headers_only", func(t *testing.T) {
		var b bytes.Buffer
		if err := WriteList(&b, nil, CSV); err != nil {
			t.Fatal(err)
		}
		if got, want := b.String(), "Race ID,Created,Track,Challenge,Target,Status,User Tags\n"; got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	})
}

func TestTarget(t *testing.T) {
	tests := []struct {
		name string
		r    Race
		want string
	}{
		{"distribution_version_and_hosts", Race{Distribution: "elasticsearch", DistributionVersion: "8.15.0", TargetHosts: []string{"a:9200", "b:9200"}}, "elasticsearch 8.15.0 @ a:9200,b:9200"},
		{"hosts_only", Race{TargetHosts: []string{"a:9200"}}, "a:9200"},
		{"distribution_only", Race{Distribution: "opensearch"}, "opensearch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := target(&tt.r); got != tt.want {
				t.Fatalf("target = %q, want %q", got, tt.want)
			}
		})
	}
}
