package report

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
)

// listEntry is a race as `rally list races --format json` prints it: the
// race without its summary.
type listEntry struct {
	ID                  string            `json:"id"`
	Created             time.Time         `json:"created"`
	Track               string            `json:"track"`
	Challenge           string            `json:"challenge"`
	Distribution        string            `json:"distribution,omitempty"`
	DistributionVersion string            `json:"distribution-version,omitempty"`
	TargetHosts         []string          `json:"target-hosts"`
	Status              string            `json:"status"`
	UserTags            map[string]string `json:"user-tags,omitempty"`
}

// WriteList writes races (`rally list races`) in format f: one row per race
// with its id, creation time, track, challenge, target, status and user
// tags, in the order given (Store.List gives newest first).
func WriteList(w io.Writer, races []*Race, f Format) error {
	if f == JSON {
		entries := make([]listEntry, 0, len(races))
		for _, r := range races {
			entries = append(entries, listEntry{
				ID: r.ID, Created: r.Created, Track: r.Track, Challenge: r.Challenge,
				Distribution: r.Distribution, DistributionVersion: r.DistributionVersion,
				TargetHosts: r.TargetHosts, Status: r.Status, UserTags: r.UserTags,
			})
		}
		return writeJSON(w, entries)
	}
	t := table{
		columns: []column{
			{header: "Race ID"}, {header: "Created"}, {header: "Track"}, {header: "Challenge"},
			{header: "Target"}, {header: "Status"}, {header: "User Tags"},
		},
		markdownLeft: true,
	}
	for _, r := range races {
		t.add(str(r.ID), str(r.Created.UTC().Format(time.RFC3339)), str(r.Track), str(r.Challenge),
			str(target(r)), str(r.Status), str(userTags(r.UserTags)))
	}
	if err := t.write(w, f); err != nil {
		return fmt.Errorf("write race list: %w", err)
	}
	return nil
}

// target describes what a race ran against: "elasticsearch 8.15.0 @
// 10.0.0.1:9200,10.0.0.2:9200".
func target(r *Race) string {
	what := strings.TrimSpace(r.Distribution + " " + r.DistributionVersion)
	hosts := strings.Join(r.TargetHosts, ",")
	switch {
	case what == "":
		return hosts
	case hosts == "":
		return what
	}
	return what + " @ " + hosts
}

// userTags renders tags as Rally does: "k1=v1, k2=v2", sorted by key.
func userTags(tags map[string]string) string {
	parts := make([]string, 0, len(tags))
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		parts = append(parts, k+"="+tags[k])
	}
	return strings.Join(parts, ", ")
}
