package provision

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// golden compares got with testdata/<name>.golden, or rewrites the file
// with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (run with -update if the change is intended)\n--- got\n%s\n--- want\n%s", p, got, want)
	}
}

// oneNode is a single-node cluster's node.
func oneNode() NodeVars {
	return NodeVars{
		ClusterName: "rally-benchmark", NodeName: "rally-node-0", NetworkHost: "127.0.0.1",
		HTTPPort: 39200, TransportPort: 39300,
		DataPaths: []string{"/srv/rally/node-0/data"}, LogPath: "/srv/rally/node-0/logs",
		HeapDumpPath: "/srv/rally/node-0/heapdump", InstallRoot: "/srv/rally/node-0/install",
		SeedHosts: []string{"127.0.0.1:39300"}, MasterNodes: []string{"rally-node-0"},
	}
}

// threeNodes is the second node of a three-node cluster.
func threeNodes() NodeVars {
	n := oneNode()
	n.NodeName, n.NetworkHost = "rally-node-1", "10.0.0.2"
	n.DataPaths = []string{"/data1/rally", "/data2/rally"}
	n.SeedHosts = []string{"10.0.0.1:39300", "10.0.0.2:39300", "10.0.0.3:39300"}
	n.MasterNodes = []string{"rally-node-0", "rally-node-1", "rally-node-2"}
	n.ClusterSettings = map[string]any{"plugins.security.disabled": true, "plugin.mandatory": []any{"analysis-icu"}}
	return n
}

// dump joins rendered files into one text for golden files.
func dump(files []File) []byte {
	var b bytes.Buffer
	for _, f := range files {
		fmt.Fprintf(&b, "=== %s (%v)\n", f.Path, f.Mode)
		if f.Template {
			b.Write(f.Data)
		} else {
			fmt.Fprintf(&b, "%q\n", f.Data)
		}
	}
	return b.Bytes()
}

func TestDefaultTeamGolden(t *testing.T) {
	team, err := DefaultTeam()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		car, engine, version string
		node                 NodeVars
		name                 string
	}{
		{"defaults", EngineElasticsearch, "8.17.0", oneNode(), ""},
		{"defaults,4gheap,g1gc", EngineElasticsearch, "8.17.0", oneNode(), ""},
		{"defaults,ea,lean-watermarks", EngineElasticsearch, "8.17.0", oneNode(), ""},
		{"defaults", EngineOpenSearch, "2.19.1", oneNode(), ""},
		{"defaults,4gheap,g1gc", EngineOpenSearch, "2.19.1", oneNode(), ""},
		{"defaults,ea,lean-watermarks", EngineOpenSearch, "2.19.1", oneNode(), ""},
		{"defaults", EngineElasticsearch, "7.17.28", oneNode(), ""},
		{"defaults,zgc", EngineElasticsearch, "9.2.0", oneNode(), ""},
		{"defaults,parallelgc", EngineOpenSearch, "3.0.0", threeNodes(), "three-nodes"},
		{"defaults,2gheap", EngineElasticsearch, "8.17.0", threeNodes(), "three-nodes"},
	}
	for _, tt := range tests {
		name := fmt.Sprintf("%s-%s-%s", tt.engine, tt.version, strings.ReplaceAll(tt.car, ",", "+"))
		if tt.name != "" {
			name += "-" + tt.name
		}
		t.Run(name, func(t *testing.T) {
			car, err := team.Car(tt.car, nil)
			if err != nil {
				t.Fatal(err)
			}
			files, err := car.RenderFiles(tt.engine, tt.version, tt.node)
			if err != nil {
				t.Fatal(err)
			}
			var paths []string
			for _, f := range files {
				paths = append(paths, f.Path)
			}
			want := []string{"config/jvm.options", "config/log4j2.properties", "config/" + tt.engine + ".yml"}
			sort.Strings(want)
			if !reflect.DeepEqual(paths, want) {
				t.Errorf("files = %v, want %v", paths, want)
			}
			golden(t, filepath.Join("render", name), dump(files))
		})
	}
}

func TestDefaultTeamRendersOneCollector(t *testing.T) {
	team, err := DefaultTeam()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		car    string
		params map[string]any
		want   string
	}{
		{"defaults", nil, "-XX:+UseG1GC"},
		{"defaults,zgc", nil, "-XX:+UseZGC"},
		{"defaults,zgc,g1gc", nil, "-XX:+UseG1GC"},
		{"defaults,g1gc,parallelgc", nil, "-XX:+UseParallelGC"},
		{"defaults,parallelgc", map[string]any{"use_parallel_gc": false, "use_zgc": true}, "-XX:+UseZGC"},
	} {
		t.Run(strings.ReplaceAll(tt.car, ",", "+"), func(t *testing.T) {
			car, err := team.Car(tt.car, tt.params)
			if err != nil {
				t.Fatal(err)
			}
			files, err := car.RenderFiles(EngineElasticsearch, "8.17.0", oneNode())
			if err != nil {
				t.Fatal(err)
			}
			jvm := string(files[1].Data) // elasticsearch.yml, jvm.options, log4j2.properties
			var gcs []string
			for _, line := range strings.Split(jvm, "\n") {
				if strings.HasPrefix(line, "-XX:+Use") && strings.HasSuffix(line, "GC") {
					gcs = append(gcs, line)
				}
			}
			if !reflect.DeepEqual(gcs, []string{tt.want}) {
				t.Errorf("collectors = %v, want [%s]", gcs, tt.want)
			}
		})
	}
}

func TestRender(t *testing.T) {
	team := testTeam(t)
	car, err := team.Car("base,more", map[string]any{"heap_size": "3g"})
	if err != nil {
		t.Fatal(err)
	}
	install := t.TempDir()
	// A file of the distribution that the car renders is replaced, not
	// appended to; one it does not render stays.
	writeFiles(t, install, map[string]string{
		"config/opensearch.yml": "from the distribution\n",
		"config/java.security":  "kept\n",
	})
	written, err := car.Render(install, EngineOpenSearch, "2.19.1", oneNode())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"bin/tool.bin", "config/jvm.options", "config/opensearch.yml", "config/part.txt"}
	if !reflect.DeepEqual(written, want) {
		t.Fatalf("written = %v, want %v", written, want)
	}
	for name, want := range map[string]string{
		// A later base's template is appended, as in Rally.
		"config/opensearch.yml": "color: blue\nshape: round\nheap: 3g\nhttp: 39200\nseeds: [\"127.0.0.1:39300\"]\nextra: blue\n",
		// Includes resolve next to the including template.
		"config/jvm.options":   "-Xmx3g\n",
		"config/part.txt":      "-Xmx3g\n",
		"config/java.security": "kept\n",
		"bin/tool.bin":         "\x00\x01{{ not a template }}\xff",
	} {
		got, err := os.ReadFile(filepath.Join(install, filepath.FromSlash(name)))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	st, err := os.Stat(filepath.Join(install, "bin", "tool.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm()&0o100 == 0 {
		t.Errorf("bin/tool.bin mode %v: the executable bit was lost", st.Mode())
	}
	if _, err := os.Stat(filepath.Join(install, "config", "elasticsearch.yml")); err == nil {
		t.Error("config/elasticsearch.yml written for OpenSearch")
	}
}

func TestRenderErrors(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string
		engine  string
		version string
		node    func(*NodeVars)
		wantErr string
	}{
		{"syntax_error_names_file_and_line", map[string]string{"cars/v1/b/templates/config/jvm.options": "ok\n{% if x %}\n{{ y }\n"},
			EngineElasticsearch, "8.17.0", nil, filepath.Join("b", "templates", "config", "jvm.options") + `: template syntax error: Unable to parse controlStructure "if": '}}' expected here`},
		{"unknown_engine", nil, "solr", "9.0.0", nil, `engine "solr": want elasticsearch or opensearch`},
		{"bad_version", nil, EngineElasticsearch, "8", nil, `elasticsearch version "8": want major.minor.patch`},
		{"no_data_paths", nil, EngineElasticsearch, "8.17.0", func(n *NodeVars) { n.DataPaths = nil }, `node "rally-node-0": no data paths`},
		{"bad_port", nil, EngineElasticsearch, "8.17.0", func(n *NodeVars) { n.HTTPPort = 70000 }, "HTTP port 70000: want 1 to 65535"},
		{"several_nodes_need_masters", nil, EngineElasticsearch, "8.17.0",
			func(n *NodeVars) { n.SeedHosts = append(n.SeedHosts, "10.0.0.9:9300"); n.MasterNodes = nil }, "2 seed hosts and no master nodes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			files := map[string]string{"cars/v1/c.ini": "[config]\nbase = b\n", "cars/v1/b/templates/config/elasticsearch.yml": "x: 1\n"}
			for k, v := range tt.files {
				files[k] = v
			}
			writeFiles(t, dir, files)
			team, err := LoadTeam(dir)
			if err != nil {
				t.Fatal(err)
			}
			car, err := team.Car("c", nil)
			if err != nil {
				t.Fatal(err)
			}
			node := oneNode()
			if tt.node != nil {
				tt.node(&node)
			}
			_, err = car.RenderFiles(tt.engine, tt.version, node)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}
