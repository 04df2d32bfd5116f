package provision

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"rally/provision/plugintest"
)

func TestParsePlugins(t *testing.T) {
	cwd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, list string
		want       []Plugin
		err        string // a part of the error; empty: none
	}{
		{"empty_list_is_no_plugins", "  ", nil, ""},
		{"official_name", "analysis-icu", []Plugin{{"analysis-icu", "analysis-icu"}}, ""},
		{"items_are_trimmed_and_kept_in_order", " mapper-size ,analysis-icu ",
			[]Plugin{{"mapper-size", "mapper-size"}, {"analysis-icu", "analysis-icu"}}, ""},
		{"https_url_is_named_by_its_file", "https://example.org/p/x-1.0.zip?sig=1",
			[]Plugin{{"x-1.0", "https://example.org/p/x-1.0.zip?sig=1"}}, ""},
		{"file_url_is_kept", "file:///opt/p/y.zip", []Plugin{{"y", "file:///opt/p/y.zip"}}, ""},
		{"absolute_path_becomes_a_file_url", "/opt/p/z.ZIP", []Plugin{{"z", "file:///opt/p/z.ZIP"}}, ""},
		{"relative_path_is_made_absolute", "build/z.zip", []Plugin{{"z", "file://" + cwd + "/build/z.zip"}}, ""},
		{"bare_zip_is_a_path_not_a_name", "z.zip", []Plugin{{"z", "file://" + cwd + "/z.zip"}}, ""},
		{"path_is_escaped_in_the_url", "/opt/my plugins/z.zip", []Plugin{{"z", "file:///opt/my%20plugins/z.zip"}}, ""},

		{"empty_item", "analysis-icu,,mapper-size", nil, "item 2 is empty"},
		{"trailing_comma", "analysis-icu,", nil, "item 2 is empty"},
		{"listed_twice", "analysis-icu, analysis-icu", nil, `"analysis-icu" is listed twice`},
		{"path_and_url_of_one_file", "/opt/p/z.zip,file:///opt/p/z.zip", nil, `"/opt/p/z.zip" and "file:///opt/p/z.zip" are the same plugin`},
		{"two_zips_of_one_name", "/a/z.zip,/b/z.zip", nil, `"/a/z.zip" and "/b/z.zip" both name plugin "z"`},
		{"name_and_zip_of_one_name", "analysis-icu,/a/analysis-icu.zip", nil, `both name plugin "analysis-icu"`},
		{"unknown_scheme", "ftp://example.org/z.zip", nil, `"ftp://example.org/z.zip": URL scheme "ftp"`},
		{"url_without_host", "https:///z.zip", nil, "URL without a host"},
		{"url_without_file", "https://example.org/", nil, "URL names no file"},
		{"file_url_of_another_host", "file://server/z.zip", nil, "another host"},
		{"tilde_is_not_expanded", "~/z.zip", nil, "does not expand ~"},
		{"path_of_no_zip", "./plugins/z", nil, "must be a .zip file"},
		{"team_plugin_configuration", "x-pack:security", nil, `"x-pack:security": want an official plugin's name`},
		{"maven_coordinates", "org.example:z:1.0", nil, "Maven coordinates are not supported"},
		{"not_a_name", "analysis icu", nil, `"analysis icu": want an official plugin's name`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParsePlugins(c.list)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("ParsePlugins(%q) = %v, %v; want an error with %q", c.list, got, err, c.err)
				}
				return
			}
			if err != nil || !slices.Equal(got, c.want) {
				t.Fatalf("ParsePlugins(%q) = %v, %v; want %v", c.list, got, err, c.want)
			}
		})
	}
}

func TestPluginToolOutputIsFolded(t *testing.T) {
	out := "-> Installing x\n-> Rolled back x\n" +
		"Exception in thread \"main\" java.nio.file.NoSuchFileException: /i/plugins/.installing-1/plugin-descriptor.properties\n" +
		"\tat java.base/sun.nio.fs.UnixException.translateToIOException(UnixException.java:92)\n" +
		"\tat org.opensearch.plugins.PluginCli.main(PluginCli.java:60)\n" +
		"Caused by: java.io.IOException: deeper\n" +
		"\tat a.B.c(B.java:1)\n" +
		"\t... 4 more\n\n"
	want := "-> Installing x\n-> Rolled back x\n" +
		"Exception in thread \"main\" java.nio.file.NoSuchFileException: /i/plugins/.installing-1/plugin-descriptor.properties\n" +
		"\t... (2 stack frames left out)\n" +
		"Caused by: java.io.IOException: deeper\n" +
		"\t... (2 stack frames left out)"
	if got := foldedTail([]byte(out), 20); got != want {
		t.Errorf("foldedTail =\n%s\nwant\n%s", got, want)
	}
	if got := foldedTail([]byte(out), 2); got != "Caused by: java.io.IOException: deeper\n\t... (2 stack frames left out)" {
		t.Errorf("foldedTail(2) = %q", got)
	}
	if got := foldedTail(nil, 20); got != "(no output)" {
		t.Errorf("foldedTail(nil) = %q", got)
	}
	var w tailWriter
	for range 3 {
		w.Write([]byte(strings.Repeat("x", maxToolOutput/2) + "\n"))
	}
	w.Write([]byte("last\n"))
	if len(w.Bytes()) != maxToolOutput || !strings.HasSuffix(string(w.Bytes()), "\nlast\n") {
		t.Errorf("tailWriter kept %d bytes ending %q", len(w.Bytes()), w.Bytes()[len(w.Bytes())-8:])
	}
}

func TestInstalledPlugins(t *testing.T) {
	install := t.TempDir()
	if got, err := InstalledPlugins(install); err != nil || got != nil {
		t.Errorf("InstalledPlugins without plugins/ = %v, %v; want none", got, err)
	}
	write := func(rel, content string) {
		t.Helper()
		p := filepath.Join(install, "plugins", rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("zeta/plugin-descriptor.properties", "# written by gradle\ndescription=z\nname = zeta-plugin\nversion=1\n")
	write("alpha/plugin-descriptor.properties", "name: alpha\n")
	write(".installing-123/plugin-descriptor.properties", "name=half-installed\n")
	write("README.txt", "not a plugin")
	got, err := InstalledPlugins(install)
	if err != nil || !slices.Equal(got, []string{"alpha", "zeta-plugin"}) {
		t.Errorf("InstalledPlugins = %v, %v; want [alpha zeta-plugin]", got, err)
	}
	if err := os.Mkdir(filepath.Join(install, "plugins", "broken"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := InstalledPlugins(install); err == nil || !strings.Contains(err.Error(), "broken") {
		t.Errorf("InstalledPlugins with a plugin lacking its descriptor = %v; want an error naming it", err)
	}
}

// fakePluginTool installs a shell script as install/bin/opensearch-plugin
// that records its arguments and environment, then behaves as
// FAKE_TOOL (passed through env) says: "ok", "fail" (leaves a staging
// directory, half a plugin and its configuration, prints a stack trace,
// exits 1) or "hang" (waits on a child, whose pid it writes).
func fakePluginTool(t *testing.T) (install string) {
	t.Helper()
	install = t.TempDir()
	script := `#!/bin/sh
env > tool-env
echo "$@" > tool-args
case "$FAKE_TOOL" in
fail)
	mkdir -p plugins/.installing-1 plugins/half config/half
	echo "-> Installing $3"
	echo 'Exception in thread "main" java.lang.IllegalStateException: boom' >&2
	printf '\tat a.B.c(B.java:1)\n\tat d.E.f(E.java:2)\n' >&2
	exit 1;;
hang)
	sleep 600 &
	echo $! > child.pid
	wait;;
esac
`
	for _, d := range []string{"bin", "plugins/kept", "config"} {
		if err := os.MkdirAll(filepath.Join(install, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(install, "bin", "opensearch-plugin"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return install
}

func TestInstallPluginsWithAFakeTool(t *testing.T) {
	t.Setenv("RALLY_PLUGIN_CANARY", "from the caller")
	zipFile := filepath.Join(t.TempDir(), "x.zip")
	if err := os.WriteFile(zipFile, []byte("PK"), 0o644); err != nil {
		t.Fatal(err)
	}
	plugins, err := ParsePlugins(zipFile)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("runs_the_tool_with_only_path_and_the_env_given", func(t *testing.T) {
		install := fakePluginTool(t)
		if err := InstallPlugins(t.Context(), install, EngineOpenSearch, []string{"FAKE_TOOL=ok", "OPENSEARCH_JAVA_HOME=/jdk"}, "", plugins); err != nil {
			t.Fatal(err)
		}
		args, _ := os.ReadFile(filepath.Join(install, "tool-args"))
		if got, want := strings.TrimSpace(string(args)), "install --batch file://"+zipFile; got != want {
			t.Errorf("tool arguments %q, want %q", got, want)
		}
		env, _ := os.ReadFile(filepath.Join(install, "tool-env"))
		lines := strings.Split(string(env), "\n")
		for _, want := range []string{"PATH=" + nodePath, "OPENSEARCH_JAVA_HOME=/jdk"} {
			if !slices.Contains(lines, want) {
				t.Errorf("tool environment lacks %s:\n%s", want, env)
			}
		}
		if strings.Contains(string(env), "RALLY_PLUGIN_CANARY") {
			t.Errorf("the caller's environment reached the tool:\n%s", env)
		}
	})
	t.Run("failure_names_the_plugin_quotes_the_tool_and_removes_its_leftovers", func(t *testing.T) {
		install := fakePluginTool(t)
		err := InstallPlugins(t.Context(), install, EngineOpenSearch, []string{"FAKE_TOOL=fail"}, "", plugins)
		if err == nil {
			t.Fatal("InstallPlugins succeeded with a failing tool")
		}
		for _, want := range []string{
			"plugin x (file://" + zipFile + "): opensearch-plugin install: exit status 1",
			"-> Installing file://" + zipFile,
			"java.lang.IllegalStateException: boom\n\t... (2 stack frames left out)",
		} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error lacks %q:\n%v", want, err)
			}
		}
		if got := dirNames(filepath.Join(install, "plugins")); !slices.Equal(got, []string{"kept"}) {
			t.Errorf("plugins/ after the failure: %v, want [kept]", got)
		}
		if got := dirNames(filepath.Join(install, "config")); len(got) != 0 {
			t.Errorf("config/ after the failure: %v, want nothing", got)
		}
	})
	t.Run("ctx_ends_the_tool_and_its_children", func(t *testing.T) {
		install := fakePluginTool(t)
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		begin := time.Now()
		err := InstallPlugins(ctx, install, EngineOpenSearch, []string{"FAKE_TOOL=hang"}, "", plugins)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("InstallPlugins = %v, want the context's deadline", err)
		}
		if d := time.Since(begin); d > 4*time.Second {
			t.Errorf("returned after %v: the tool's child held it up", d)
		}
		pidText, _ := os.ReadFile(filepath.Join(install, "child.pid"))
		pid, err := strconv.Atoi(strings.TrimSpace(string(pidText)))
		if err != nil {
			t.Fatalf("no pid of the tool's child: %v", err)
		}
		deadline := time.Now().Add(2 * time.Second)
		for !errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) && !isZombie(pid) {
			if time.Now().After(deadline) {
				t.Fatalf("the tool's child %d is still running", pid)
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
	t.Run("a_missing_zip_is_named_before_the_tool_runs", func(t *testing.T) {
		install := fakePluginTool(t)
		missing := []Plugin{{Name: "gone", Source: "file:///nonexistent/gone.zip"}}
		err := InstallPlugins(t.Context(), install, EngineOpenSearch, nil, "", missing)
		if err == nil || !strings.Contains(err.Error(), "plugin gone (file:///nonexistent/gone.zip): stat /nonexistent/gone.zip") {
			t.Errorf("InstallPlugins = %v, want an error naming the missing file", err)
		}
		if _, err := os.Stat(filepath.Join(install, "tool-args")); err == nil {
			t.Error("the tool ran")
		}
	})
	t.Run("unknown_engine_and_missing_tool", func(t *testing.T) {
		if err := InstallPlugins(t.Context(), t.TempDir(), "solr", nil, "", plugins); err == nil || !strings.Contains(err.Error(), `engine "solr"`) {
			t.Errorf("unknown engine: %v", err)
		}
		if err := InstallPlugins(t.Context(), t.TempDir(), EngineElasticsearch, nil, "", plugins); err == nil || !strings.Contains(err.Error(), "bin/elasticsearch-plugin") {
			t.Errorf("missing tool: %v", err)
		}
	})
}

// pluginEngines are the real engines TestPluginsOnRealEngines installs a
// plugin into.
var pluginEngines = []string{"opensearch-2.19.1", "elasticsearch-7.17.28"}

// TestPluginsOnRealEngines builds a plugin of one empty class with javac
// against the engine's server jar (the one in the unpacked install's lib/,
// the very jar the node loads), installs it with the engine's own tool and
// checks that a node started from the install lists it.
func TestPluginsOnRealEngines(t *testing.T) {
	runAs := requireNodeUser(t)
	for _, e := range realEngines {
		if !slices.Contains(pluginEngines, e.name()) {
			continue
		}
		t.Run(e.name(), func(t *testing.T) {
			archive := requireEngine(t, e)
			javac := filepath.Join(e.javaHome, "bin", "javac")
			if _, err := os.Stat(javac); err != nil {
				msg := fmt.Sprintf("%s: no javac in %s (a JDK, not only a JRE): get one with: bash scripts/engines.sh", e.name(), e.javaHome)
				if os.Getenv("RALLY_ENGINES") == "skip" {
					t.Skip(msg + " (skipped: RALLY_ENGINES=skip)")
				}
				t.Fatal(msg + " (or set RALLY_ENGINES=skip to skip real-engine tests)")
			}
			setup := time.Now()
			n := engineNode(t, e, archive, runAs)
			t.Cleanup(func() { stopForCleanup(t, n) })
			dir := t.TempDir()
			good, bad := plugintest.Build(t, javac, filepath.Join(n.InstallDir, "lib", e.engine+"-"+e.version+".jar"), e.engine, e.version, dir)
			env := JavaEnv(e.engine, e.version, JDK{Home: e.javaHome})
			tool := e.engine + "-plugin"
			t.Logf("unpack and javac took %v", time.Since(setup).Round(10*time.Millisecond))

			t.Run("a_zip_without_descriptor_fails_with_the_tool_output_and_leaves_nothing", func(t *testing.T) {
				plugins, err := ParsePlugins(bad)
				if err != nil {
					t.Fatal(err)
				}
				before := toolDirs(n.InstallDir)
				begin := time.Now()
				err = InstallPlugins(t.Context(), n.InstallDir, e.engine, env, runAs, plugins)
				t.Logf("failed install took %v", time.Since(begin).Round(10*time.Millisecond))
				if err == nil {
					t.Fatal("InstallPlugins succeeded without a descriptor")
				}
				t.Logf("the error:\n%v", err)
				for _, want := range []string{
					"plugin no-descriptor (" + plugins[0].Source + "): " + tool + " install: exit status 1",
					"-> Rolled back " + plugins[0].Source,
					"NoSuchFileException", "plugin-descriptor.properties",
				} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error lacks %q:\n%v", want, err)
					}
				}
				if after := toolDirs(n.InstallDir); !slices.Equal(after, before) {
					t.Errorf("the failed install left something: before %v, after %v", before, after)
				}
			})
			t.Run("a_node_started_from_the_install_lists_the_plugin", func(t *testing.T) {
				plugins, err := ParsePlugins(good)
				if err != nil {
					t.Fatal(err)
				}
				begin := time.Now()
				if err := InstallPlugins(t.Context(), n.InstallDir, e.engine, env, runAs, plugins); err != nil {
					t.Fatal(err)
				}
				t.Logf("install took %v", time.Since(begin).Round(10*time.Millisecond))
				if got, err := InstalledPlugins(n.InstallDir); err != nil || !slices.Equal(got, []string{"rally-test"}) {
					t.Fatalf("InstalledPlugins = %v, %v; want [rally-test]", got, err)
				}
				// A second install of the same plugin fails (the tool
				// refuses an existing directory) and must not remove the
				// plugin that is there.
				err = InstallPlugins(t.Context(), n.InstallDir, e.engine, env, runAs, plugins)
				if err == nil || !strings.Contains(err.Error(), "already exists") {
					t.Errorf("installing it again = %v, want the tool's refusal", err)
				}
				if got, err := InstalledPlugins(n.InstallDir); err != nil || !slices.Equal(got, []string{"rally-test"}) {
					t.Fatalf("after installing it again: InstalledPlugins = %v, %v; want [rally-test]", got, err)
				}

				if err := n.Start(t.Context()); err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
				defer cancel()
				begin = time.Now()
				if err := n.WaitReady(ctx, "green", 1); err != nil {
					t.Fatal(err)
				}
				t.Logf("start to ready: %v", time.Since(begin).Round(10*time.Millisecond))
				if got := catPlugins(t, n); !slices.Equal(got, []string{"rally-test"}) {
					t.Errorf("GET /_cat/plugins lists %v, want [rally-test]", got)
				}
				if err := n.Stop(ctx, 30*time.Second); err != nil {
					t.Fatal(err)
				}
			})
		})
	}
}

// toolDirs lists what the plugin tool may write into: the entries of
// plugins/, bin/ and config/.
func toolDirs(install string) []string {
	var all []string
	for _, d := range pluginToolDirs {
		for _, name := range dirNames(filepath.Join(install, d)) {
			all = append(all, d+"/"+name)
		}
	}
	return all
}

// catPlugins asks the node which plugins it runs.
func catPlugins(t *testing.T, n *Node) []string {
	t.Helper()
	resp, err := http.Get("http://" + n.HTTPAddr() + "/_cat/plugins?format=json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /_cat/plugins: HTTP %d: %s", resp.StatusCode, body)
	}
	var rows []struct {
		Name      string `json:"name"`
		Component string `json:"component"`
	}
	if err := json.Unmarshal(body, &rows); err != nil {
		t.Fatalf("GET /_cat/plugins: %v: %s", err, body)
	}
	var components []string
	for _, r := range rows {
		if r.Name == n.Name {
			components = append(components, r.Component)
		}
	}
	return components
}
