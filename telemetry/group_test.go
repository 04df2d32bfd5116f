package telemetry

import (
	"slices"
	"testing"
)

func TestGroupPIDs(t *testing.T) {
	requireLinux(t)
	for _, tc := range []struct {
		name string
		pgid int
		want []int
	}{
		{"launcher and server but not their zombie", 4240, []int{4240, 4242}},
		{"members with and without io", 4300, []int{4300, 4301}},
		{"a group of one", 4500, []int{4500}},
		{"a group with no process is empty", 999, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := GroupPIDs(fixtureProc, tc.pgid)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("GroupPIDs(%d) = %v, want %v", tc.pgid, got, tc.want)
			}
		})
	}
}

func TestGroupPIDs_unreadable_root_is_an_error(t *testing.T) {
	requireLinux(t)
	if _, err := GroupPIDs("testdata/no-such-proc", 1); err == nil {
		t.Fatal("no error")
	}
}
