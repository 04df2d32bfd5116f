package provision

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// Plugin is one item of esrally's --elasticsearch-plugins list: what the
// engine's own plugin tool is asked to install.
type Plugin struct {
	// Name is what messages call the plugin: an official plugin's name
	// ("analysis-icu"), else the zip's file name without ".zip". The
	// installed plugin's own name is the one its descriptor gives.
	Name string `json:"name"`
	// Source is the argument of "<engine>-plugin install": an official
	// plugin's name, or an http, https or file URL of a zip (a local path
	// is turned into a file URL).
	Source string `json:"source"`
}

func (p Plugin) String() string {
	if p.Source == p.Name {
		return "plugin " + p.Name
	}
	return fmt.Sprintf("plugin %s (%s)", p.Name, p.Source)
}

// ParsePlugins reads a comma-separated plugin list such as
// "analysis-icu, https://example.org/x-1.0.zip, ./build/y.zip". Each item,
// trimmed, is the name of an official plugin, an http, https or file URL
// of a zip, or the path of a local zip file (one containing a slash or
// ending in .zip), which is made absolute against the current directory
// and turned into a file URL. An empty list is no plugins; an empty item,
// an item listed twice and two zips of the same file name are refused, as
// are Rally's team plugin configurations ("name:config"), which rally does
// not support.
func ParsePlugins(list string) ([]Plugin, error) {
	if strings.TrimSpace(list) == "" {
		return nil, nil
	}
	var plugins []Plugin
	items := map[string]string{} // Source and Name → the item that gave it
	for i, raw := range strings.Split(list, ",") {
		item := strings.TrimSpace(raw)
		if item == "" {
			return nil, fmt.Errorf("plugin list %q: item %d is empty", list, i+1)
		}
		p, err := parsePlugin(item)
		if err != nil {
			return nil, fmt.Errorf("plugin list: %q: %w", item, err)
		}
		if prev, ok := items["source "+p.Source]; ok {
			if prev == item {
				return nil, fmt.Errorf("plugin list: %q is listed twice", item)
			}
			return nil, fmt.Errorf("plugin list: %q and %q are the same plugin (%s)", prev, item, p.Source)
		}
		if prev, ok := items["name "+p.Name]; ok {
			return nil, fmt.Errorf("plugin list: %q and %q both name plugin %q", prev, item, p.Name)
		}
		items["source "+p.Source], items["name "+p.Name] = item, item
		plugins = append(plugins, p)
	}
	return plugins, nil
}

func parsePlugin(item string) (Plugin, error) {
	switch {
	case strings.Contains(item, "://"):
		return parsePluginURL(item)
	case strings.HasPrefix(item, "~"):
		return Plugin{}, errors.New("the shell does not expand ~ inside a list: write the home directory out")
	case strings.Contains(item, "/") || hasZipSuffix(item):
		if !hasZipSuffix(item) {
			return Plugin{}, errors.New("a plugin given by path must be a .zip file")
		}
		abs, err := filepath.Abs(item)
		if err != nil {
			return Plugin{}, err
		}
		u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}
		return Plugin{Name: zipBase(abs), Source: u.String()}, nil
	case strings.Contains(item, ":"):
		return Plugin{}, errors.New("want an official plugin's name, a URL or the path of a .zip file (Rally's team plugin configurations, name:config, and Maven coordinates are not supported)")
	case !isPluginName(item):
		return Plugin{}, errors.New("want an official plugin's name (letters, digits, '-', '_', '.'), a URL or the path of a .zip file")
	}
	return Plugin{Name: item, Source: item}, nil
}

// parsePluginURL checks a URL item: http and https URLs need a host, file
// URLs an absolute path on this host, and both a file name to call the
// plugin by.
func parsePluginURL(item string) (Plugin, error) {
	u, err := url.Parse(item)
	if err != nil {
		return Plugin{}, err
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		if u.Host == "" {
			return Plugin{}, errors.New("URL without a host")
		}
	case "file":
		if u.Host != "" && u.Host != "localhost" {
			return Plugin{}, fmt.Errorf("file URL of another host (%s): write file:///path", u.Host)
		}
	default:
		return Plugin{}, fmt.Errorf("URL scheme %q: want http, https or file", u.Scheme)
	}
	name := zipBase(u.Path)
	if name == "" || name == "." || name == "/" {
		return Plugin{}, errors.New("URL names no file")
	}
	return Plugin{Name: name, Source: item}, nil
}

func hasZipSuffix(s string) bool {
	return len(s) > len(".zip") && strings.EqualFold(s[len(s)-len(".zip"):], ".zip")
}

// zipBase is a slash or OS path's file name without a .zip suffix.
func zipBase(p string) string {
	b := path.Base(filepath.ToSlash(p))
	if hasZipSuffix(b) {
		b = b[:len(b)-len(".zip")]
	}
	return b
}

func isPluginName(s string) bool {
	for i, c := range s {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || i > 0 && (c == '-' || c == '_' || c == '.')
		if !ok {
			return false
		}
	}
	return s != ""
}

// InstallPlugins installs plugins, in order, into the distribution
// unpacked at installDir with the engine's own plugin tool:
// bin/<engine>-plugin install --batch <source> (--batch grants the
// permissions a plugin asks for without a prompt). env is the node's
// KEY=value list (JavaEnv: the tool runs on the engine's Java); it gets
// nodePath as PATH and nothing else of the caller's environment.
//
// The tool runs as the caller, also when the caller is root; then, when
// runAs names the user the nodes run as, config/ (where the tool puts a
// plugin's configuration files) is handed to that user with
// PrepareForUser, as the install path does after rendering. Running the
// tool as runAs instead would mean handing plugins/ and bin/ (the tool
// writes a plugin's scripts to bin/<plugin>/) to the node's user
// beforehand, which would let a node rewrite its own start script and
// plugin code. As the caller, plugin files stay the caller's, and the
// tool sets their modes itself (directories 0755, files 0644, whatever
// the umask), so the node's user reads them. Root runs no plugin code
// this way: the tool reads a plugin's descriptor, jars and security
// policy, but loads none of its classes.
//
// A failing install stops the list and returns an error naming the
// plugin and quoting the last lines of the tool's output (Java stack
// frames folded into one line). The tool rolls back a failed install
// itself; InstallPlugins also removes whatever the failed run left in
// plugins/, bin/ and config/ (what is left when ctx ends and the tool is
// killed mid-install). Plugins installed before the failing one stay.
// Official plugins are downloaded by the tool, from the engine's artifact
// site; proxy variables of the caller do not reach it.
func InstallPlugins(ctx context.Context, installDir, engine string, env []string, runAs string, plugins []Plugin) error {
	if engine != EngineElasticsearch && engine != EngineOpenSearch {
		return fmt.Errorf("install plugins: engine %q: want %s or %s", engine, EngineElasticsearch, EngineOpenSearch)
	}
	if len(plugins) == 0 {
		return nil
	}
	tool := filepath.Join(installDir, "bin", engine+"-plugin")
	if fi, err := os.Stat(tool); err != nil {
		return fmt.Errorf("install plugins: %w", err)
	} else if fi.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("install plugins: %s is not executable", tool)
	}
	for _, p := range plugins {
		if err := installPlugin(ctx, installDir, tool, env, p); err != nil {
			return err
		}
	}
	if runAs != "" && os.Geteuid() == 0 {
		if err := PrepareForUser(installDir, runAs, "config"); err != nil {
			return fmt.Errorf("install plugins: %w", err)
		}
	}
	return nil
}

// pluginToolDirs are the directories of an install the plugin tool
// writes into.
var pluginToolDirs = []string{"plugins", "bin", "config"}

func installPlugin(ctx context.Context, installDir, tool string, env []string, p Plugin) error {
	if u, err := url.Parse(p.Source); err == nil && strings.EqualFold(u.Scheme, "file") {
		// The tool would answer with a stack trace.
		if _, err := os.Stat(u.Path); err != nil {
			return fmt.Errorf("%v: %w", p, err)
		}
	}
	before := map[string][]string{}
	for _, d := range pluginToolDirs {
		before[d] = dirNames(filepath.Join(installDir, d))
	}
	var out tailWriter
	cmd := exec.CommandContext(ctx, tool, "install", "--batch", p.Source)
	cmd.Dir = installDir
	cmd.Env = append([]string{"PATH=" + nodePath}, env...)
	cmd.Stdout, cmd.Stderr = &out, &out
	// bin/<engine>-plugin runs the CLI script as a child (which execs
	// java): a group of its own lets ctx end both.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	if err == nil {
		return nil
	}
	var left []string
	for _, d := range pluginToolDirs {
		for _, name := range dirNames(filepath.Join(installDir, d)) {
			if !slices.Contains(before[d], name) {
				left = append(left, filepath.Join(installDir, d, name))
			}
		}
	}
	cleanup := ""
	for _, l := range left {
		if rerr := os.RemoveAll(l); rerr != nil {
			cleanup = fmt.Sprintf(" (and removing what it left: %v)", rerr)
		}
	}
	if ctx.Err() != nil {
		err = fmt.Errorf("%w (%v)", ctx.Err(), err)
	}
	return fmt.Errorf("%v: %s install: %w%s; last lines of its output:\n%s",
		p, filepath.Base(tool), err, cleanup, foldedTail(out.Bytes(), 20))
}

// dirNames lists a directory's entries; a missing directory has none.
func dirNames(dir string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name()
	}
	return names
}

// tailWriter keeps the last maxToolOutput bytes written to it: enough for
// the lines an error quotes, bounded whatever the tool prints.
type tailWriter struct{ buf []byte }

const maxToolOutput = 64 << 10

func (w *tailWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	if over := len(w.buf) - maxToolOutput; over > 0 {
		w.buf = append(w.buf[:0], w.buf[over:]...)
	}
	return len(p), nil
}

func (w *tailWriter) Bytes() []byte { return w.buf }

// foldedTail returns the last n lines of a tool's output, each run of Java
// stack frames ("\tat ...", "\t... 3 more") folded into one line: the
// exception's message above them says what went wrong.
func foldedTail(out []byte, n int) string {
	var lines []string
	frames := 0
	flush := func() {
		if frames > 0 {
			lines = append(lines, fmt.Sprintf("\t... (%d stack frames left out)", frames))
			frames = 0
		}
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 0, 4096), maxToolOutput+1)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), " \t\r")
		if t := strings.TrimLeft(line, " \t"); t != line && (strings.HasPrefix(t, "at ") || strings.HasPrefix(t, "... ") && strings.HasSuffix(t, " more")) {
			frames++
			continue
		}
		flush()
		if line != "" {
			lines = append(lines, line)
		}
	}
	flush()
	if len(lines) == 0 {
		return "(no output)"
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// InstalledPlugins lists the plugins installed in installDir, sorted: the
// name in each plugins/<dir>/plugin-descriptor.properties. Hidden
// entries (the tool's .installing-* staging directories) and plain files
// are skipped; a plugin directory without a readable descriptor, which
// the engine would refuse to start with, is an error. A distribution
// without plugins/ has none.
func InstalledPlugins(installDir string) ([]string, error) {
	dir := filepath.Join(installDir, "plugins")
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("installed plugins: %w", err)
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		descriptor := filepath.Join(dir, e.Name(), "plugin-descriptor.properties")
		f, err := os.Open(descriptor)
		if err != nil {
			return nil, fmt.Errorf("installed plugins: %w", err)
		}
		// A descriptor is a few lines; the name comes early.
		data, err := io.ReadAll(io.LimitReader(f, 64<<10))
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("installed plugins: %s: %w", descriptor, err)
		}
		name := propertiesValue(data, "name")
		if name == "" {
			return nil, fmt.Errorf("installed plugins: %s: no name", descriptor)
		}
		names = append(names, name)
	}
	slices.Sort(names)
	return names, nil
}

// propertiesValue reads key from a Java properties file in the simple
// form plugin descriptors are written in: one key=value (or key: value)
// per line, # and ! starting comments. Continuation lines and escapes are
// not interpreted.
func propertiesValue(data []byte, key string) string {
	for line := range strings.SplitSeq(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' || line[0] == '!' {
			continue
		}
		i := strings.IndexAny(line, "=:")
		if i < 0 {
			continue
		}
		if strings.TrimSpace(line[:i]) == key {
			return strings.TrimSpace(line[i+1:])
		}
	}
	return ""
}
