package provision

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestClusterRecordRoundTrip(t *testing.T) {
	dir := t.TempDir()
	c := &Cluster{Name: "c1", Engine: EngineOpenSearch, Version: "2.19.1", JDK: JDK{Home: "/jdk", Major: 17}, dir: dir,
		Nodes: []*Node{{Name: "h3-node-0", Engine: EngineOpenSearch, ClusterName: "c1", InstallDir: "/i", DataDir: "/d",
			LogDir: "/l", PIDFile: "/p/node.pid", HTTPHost: "10.0.0.3", HTTPPort: 20001, TransportPort: 20002, RunAs: "es",
			Env: []string{"OPENSEARCH_JAVA_HOME=/jdk"}}}}
	if err := c.save(); err != nil {
		t.Fatal(err)
	}
	got, err := LoadCluster(dir)
	if err != nil {
		t.Fatal(err)
	}
	n := got.Nodes[0]
	if got.Name != "c1" || got.Version != "2.19.1" || got.JDK.Major != 17 || got.Dir() != dir || len(got.Nodes) != 1 ||
		n.Name != "h3-node-0" || n.HTTPAddr() != "10.0.0.3:20001" || n.PIDFile != "/p/node.pid" || n.RunAs != "es" || len(n.Env) != 1 {
		t.Errorf("loaded %+v, node %+v", got, n)
	}
	if _, err := LoadCluster(t.TempDir()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a directory without a record: %v, want ErrNotExist", err)
	}
	if err := os.WriteFile(filepath.Join(dir, clusterFile), []byte(`{"nodes":[null]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadCluster(dir); err == nil || !strings.Contains(err.Error(), "null") {
		t.Errorf("a null node: %v", err)
	}
	// StopHost of a directory that never got a record is no error.
	if res, err := StopHost(t.Context(), t.TempDir(), 0); err != nil || len(res.Nodes) != 0 {
		t.Errorf("StopHost of an empty dir: %+v, %v", res, err)
	}
}

func TestCheckRunAs(t *testing.T) {
	for _, tc := range []struct {
		runAs string
		euid  int
		want  string // "" means no error
	}{
		{"", 0, "refuse"},
		{"root", 0, "refuse"},
		{"", 1000, ""},
		{"no-such-user-of-rally", 0, "no-such-user-of-rally"},
	} {
		err := CheckRunAs(tc.runAs, tc.euid)
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("CheckRunAs(%q, %d) = %v, want %q", tc.runAs, tc.euid, err, tc.want)
		}
	}
}

func TestCheckHostLimits(t *testing.T) {
	proc := t.TempDir()
	if err := os.MkdirAll(filepath.Join(proc, "sys", "vm"), 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(v string) {
		if err := os.WriteFile(filepath.Join(proc, "sys", "vm", "max_map_count"), []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("65530\n")
	if err := checkHostLimits("127.0.0.1", proc); err != nil {
		t.Errorf("a loopback transport is not checked: %v", err)
	}
	err := checkHostLimits("10.0.0.3", proc)
	if err == nil || !strings.Contains(err.Error(), "vm.max_map_count is 65530") || !strings.Contains(err.Error(), "sysctl -w vm.max_map_count=262144") {
		t.Errorf("a low max_map_count: %v", err)
	}
	write("262144\n")
	if err := checkHostLimits("10.0.0.3", proc); err != nil && !strings.Contains(err.Error(), "open-files limit") {
		t.Errorf("a sufficient max_map_count: %v", err)
	}
}

func TestPrepareHostRefusesBadInput(t *testing.T) {
	for _, req := range []PrepareRequest{
		{Cluster: "c", Workdir: "/w", NetworkHost: "", Nodes: 1},
		{Cluster: "c", Workdir: "/w", NetworkHost: "not-an-ip", Nodes: 1},
		{Cluster: "c", Workdir: "/w", NetworkHost: "127.0.0.1", Nodes: 0},
	} {
		if os.Geteuid() == 0 {
			req.RunAs = "nobody"
		}
		if _, err := PrepareHost(req); err == nil {
			t.Errorf("PrepareHost(%+v) accepted", req)
		}
	}
	req := PrepareRequest{Cluster: "c", Workdir: t.TempDir(), NetworkHost: "127.0.0.1", Nodes: 2}
	if os.Geteuid() == 0 {
		req.RunAs = "nobody"
	}
	res, err := PrepareHost(req)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Nodes) != 2 || res.Nodes[0].HTTPPort == res.Nodes[1].HTTPPort || res.NetworkHost != "127.0.0.1" || res.Dir == "" {
		t.Errorf("PrepareHost = %+v", res)
	}
}
