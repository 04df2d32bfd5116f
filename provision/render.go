package provision

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/nikolalohinski/gonja/v2"
	"github.com/nikolalohinski/gonja/v2/builtins"
	"github.com/nikolalohinski/gonja/v2/exec"
	"github.com/nikolalohinski/gonja/v2/loaders"
	"github.com/nikolalohinski/gonja/v2/parser"
)

// NodeVars are what a car's templates need to know about one node, beyond
// the car's own variables. The caller computes them for each node of the
// cluster; the template variable each one becomes is the one Rally's
// provisioner defines, so third-party teams render unchanged.
type NodeVars struct {
	// ClusterName is cluster_name.
	ClusterName string
	// NodeName is node_name; unique in the cluster.
	NodeName string
	// NetworkHost is the address the node binds to and publishes:
	// network_host (and node_ip).
	NetworkHost string
	// HTTPPort and TransportPort are http_port and transport_port (strings
	// in the templates, as in Rally).
	HTTPPort, TransportPort int
	// DataPaths is data_paths, a list. A car may ask for its own with the
	// variable data_paths (Car.Vars); choosing is the caller's job.
	DataPaths []string
	// LogPath is log_path, the directory the node logs to.
	LogPath string
	// HeapDumpPath is heap_dump_path; empty leaves it undefined.
	HeapDumpPath string
	// InstallRoot is install_root_path, the unpacked distribution; empty
	// leaves it undefined.
	InstallRoot string
	// SeedHosts are the transport addresses (host:port) of every node of
	// the cluster, this one included: all_node_ips (a YAML flow list, as
	// Rally writes it) and all_node_ips_count. One seed host means a
	// single-node cluster.
	SeedHosts []string
	// MasterNodes are the names of the master-eligible nodes that bootstrap
	// the cluster (cluster-manager nodes on OpenSearch): all_node_names and
	// minimum_master_nodes. Needed when there are several seed hosts.
	MasterNodes []string
	// ClusterSettings are more node settings the caller knows the node
	// needs, e.g. plugin.mandatory, or plugins.security.disabled when an
	// OpenSearch distribution bundles the security plugin: cluster_settings,
	// a map the templates write out one per line.
	ClusterSettings map[string]any
}

// File is one rendered or copied file of a node's configuration.
type File struct {
	// Path is relative to the install directory, slash-separated, e.g.
	// "config/jvm.options".
	Path string
	// Data is the content.
	Data []byte
	// Mode is the permission bits to write it with.
	Mode fs.FileMode
	// Template tells rendered text from a copied binary file.
	Template bool
}

// textExtensions are the files Rally renders as templates (provisioner.py
// plain_text); everything else under templates/ is copied as it is.
var textExtensions = []string{".ini", ".txt", ".json", ".yml", ".yaml", ".options", ".properties"}

// nodeSettingsFiles are the names a template of the node's settings file
// may have. Elasticsearch reads config/elasticsearch.yml and OpenSearch
// config/opensearch.yml; a template under either name is written under the
// engine's, so Rally's teams (which only know elasticsearch.yml) and a team
// written for OpenSearch both serve either engine.
var nodeSettingsFiles = []string{"config/elasticsearch.yml", "config/opensearch.yml"}

// Render renders the car for one node into installDir, the node's unpacked
// distribution, at the same relative paths as under the base directories'
// templates/ (templates/config/jvm.options becomes
// <installDir>/config/jvm.options). It returns the paths written, relative
// and sorted. engine is EngineElasticsearch or EngineOpenSearch and version
// its version ("8.17.0"). Files the car does not render keep the
// distribution's content; a file it renders is replaced, not appended to.
func (c *Car) Render(installDir, engine, version string, node NodeVars) ([]string, error) {
	files, err := c.RenderFiles(engine, version, node)
	if err != nil {
		return nil, err
	}
	written := make([]string, 0, len(files))
	for _, f := range files {
		dst := filepath.Join(installDir, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return written, fmt.Errorf("car %s: %w", c.Name(), err)
		}
		// Remove first: a distribution's file may be read-only, and a
		// symlink there must not redirect the write.
		if err := os.Remove(dst); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return written, fmt.Errorf("car %s: %w", c.Name(), err)
		}
		if err := os.WriteFile(dst, f.Data, f.Mode); err != nil {
			return written, fmt.Errorf("car %s: %w", c.Name(), err)
		}
		written = append(written, f.Path)
	}
	return written, nil
}

// RenderFiles renders the car for one node in memory; Render writes what
// it returns. Text templates of later base directories are appended to the
// same file of earlier ones, as in Rally (a mixin adds lines to
// elasticsearch.yml this way); a copied binary file of a later base
// replaces an earlier one. The files are sorted by path.
func (c *Car) RenderFiles(engine, version string, node NodeVars) ([]File, error) {
	vars, err := c.templateVars(engine, version, node)
	if err != nil {
		return nil, err
	}
	byPath := map[string]*File{}
	for _, b := range c.Bases {
		root := path.Join(b.Path, "templates")
		if _, err := fs.Stat(c.team.fsys, root); errors.Is(err, fs.ErrNotExist) {
			continue // a base may only carry config.ini variables
		}
		err := fs.WalkDir(c.team.fsys, root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				return nil
			}
			if !d.Type().IsRegular() {
				return fmt.Errorf("%s: not a regular file", c.team.display(p))
			}
			rel := strings.TrimPrefix(p, root+"/")
			if contains(nodeSettingsFiles, rel) {
				rel = "config/" + engine + ".yml"
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			if !contains(textExtensions, path.Ext(p)) {
				data, err := fs.ReadFile(c.team.fsys, p)
				if err != nil {
					return err
				}
				byPath[rel] = &File{Path: rel, Data: data, Mode: 0o644 | info.Mode().Perm()&0o111}
				return nil
			}
			out, err := c.renderTemplate(p, vars)
			if err != nil {
				return err
			}
			if f, ok := byPath[rel]; ok && f.Template {
				f.Data = append(f.Data, out...)
				return nil
			}
			byPath[rel] = &File{Path: rel, Data: []byte(out), Mode: 0o644, Template: true}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("car %s: %w", c.Name(), err)
		}
	}
	files := make([]File, 0, len(byPath))
	for _, f := range byPath {
		files = append(files, *f)
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	return files, nil
}

// templateVars are the car's variables with the node's on top: as in
// Rally, what the provisioner computes wins over what a car sets.
func (c *Car) templateVars(engine, version string, node NodeVars) (map[string]any, error) {
	if engine != EngineElasticsearch && engine != EngineOpenSearch {
		return nil, fmt.Errorf("car %s: engine %q: want %s or %s", c.Name(), engine, EngineElasticsearch, EngineOpenSearch)
	}
	v, err := parseDistVersion(version)
	if err != nil {
		return nil, fmt.Errorf("car %s: %s %w", c.Name(), engine, err)
	}
	if err := node.validate(); err != nil {
		return nil, fmt.Errorf("car %s: node %q: %w", c.Name(), node.NodeName, err)
	}
	vars := make(map[string]any, len(c.Vars)+20)
	for k, val := range c.Vars {
		vars[k] = val
	}
	dataPaths := make([]any, len(node.DataPaths))
	for i, p := range node.DataPaths {
		dataPaths[i] = p
	}
	settings := make(map[string]any, len(node.ClusterSettings))
	for k, val := range node.ClusterSettings {
		settings[k] = val
	}
	for k, val := range map[string]any{
		"cluster_name":         node.ClusterName,
		"node_name":            node.NodeName,
		"network_host":         node.NetworkHost,
		"node_ip":              node.NetworkHost,
		"http_port":            strconv.Itoa(node.HTTPPort),
		"transport_port":       strconv.Itoa(node.TransportPort),
		"data_paths":           dataPaths,
		"log_path":             node.LogPath,
		"all_node_ips":         flowList(node.SeedHosts),
		"all_node_names":       flowList(node.MasterNodes),
		"all_node_ips_count":   len(node.SeedHosts),
		"minimum_master_nodes": len(node.MasterNodes)/2 + 1,
		"cluster_settings":     settings,
		// Not Rally's: a team serving both engines branches on these.
		"engine":               engine,
		"engine_version":       v.String(),
		"engine_major_version": v.major,
	} {
		vars[k] = val
	}
	if node.HeapDumpPath != "" {
		vars["heap_dump_path"] = node.HeapDumpPath
	}
	if node.InstallRoot != "" {
		vars["install_root_path"] = node.InstallRoot
	}
	return vars, nil
}

func (n NodeVars) validate() error {
	for _, f := range []struct{ name, value string }{
		{"cluster name", n.ClusterName}, {"node name", n.NodeName},
		{"network host", n.NetworkHost}, {"log path", n.LogPath},
	} {
		if f.value == "" {
			return fmt.Errorf("no %s", f.name)
		}
	}
	for _, p := range []struct {
		name string
		port int
	}{{"HTTP port", n.HTTPPort}, {"transport port", n.TransportPort}} {
		if p.port < 1 || p.port > 65535 {
			return fmt.Errorf("%s %d: want 1 to 65535", p.name, p.port)
		}
	}
	if len(n.DataPaths) == 0 {
		return errors.New("no data paths")
	}
	if len(n.SeedHosts) == 0 {
		return errors.New("no seed hosts: list every node's transport address, this one's included")
	}
	if len(n.SeedHosts) > 1 && len(n.MasterNodes) == 0 {
		return fmt.Errorf("%d seed hosts and no master nodes: a cluster of several nodes needs the names of the nodes that bootstrap it", len(n.SeedHosts))
	}
	return nil
}

// flowList writes strings as a YAML flow list, ["a","b"], the form Rally
// gives all_node_ips and all_node_names.
func flowList(items []string) string {
	if items == nil {
		items = []string{}
	}
	b, _ := json.Marshal(items) // strings always marshal
	return string(b)
}

// renderTemplate renders the template at p (a path in the team's fs) as
// Rally does: Jinja2 defaults, includes relative to the template's
// directory, and a newline forced at the end (Jinja drops the template's
// last one).
func (c *Car) renderTemplate(p string, vars map[string]any) (out string, err error) {
	display := c.team.display(p)
	defer func() {
		// gonja is a third-party engine fed with a team's text; a panic in
		// it must not take the process down.
		if r := recover(); r != nil {
			out, err = "", fmt.Errorf("%s: template engine failed: %v", display, r)
		}
	}()
	loader := &teamLoader{fsys: c.team.fsys, root: "/" + path.Dir(p)}
	env := &exec.Environment{
		Context:           gonja.DefaultContext,
		Filters:           builtins.Filters,
		Tests:             builtins.Tests,
		ControlStructures: builtins.ControlStructures,
		Methods:           builtins.Methods,
	}
	tpl, err := exec.NewTemplate(path.Base(p), gonja.DefaultConfig.Inherit(), loader, env)
	if err != nil {
		return "", templateError(display, err)
	}
	ctxVars := make(map[string]any, len(vars))
	for k, v := range vars {
		ctxVars[k] = v
	}
	out, err = tpl.ExecuteToString(exec.NewContext(ctxVars))
	if err != nil {
		return "", templateError(display, err)
	}
	return out + "\n", nil
}

var atLineRE = regexp.MustCompile(`at line (\d+)`)

// parseFailedRE matches the start of gonja's parse errors, which quote
// the whole template text before the reason.
var parseFailedRE = regexp.MustCompile(`(?s)^failed to parse template '.*': `)

// templateError places a gonja error at its line where gonja says it, and
// drops the template text gonja quotes.
func templateError(display string, err error) error {
	var se *parser.SyntaxError
	if errors.As(err, &se) && se.Line > 0 {
		return fmt.Errorf("%s:%d: template syntax error: %s", display, se.Line, se.Message)
	}
	msg := err.Error()
	if loc := parseFailedRE.FindStringIndex(msg); loc != nil {
		return fmt.Errorf("%s: template syntax error: %s", display, msg[loc[1]:])
	}
	if m := atLineRE.FindStringSubmatch(msg); m != nil {
		return fmt.Errorf("%s:%s: template error: %s", display, m[1], msg)
	}
	return fmt.Errorf("%s: template error: %s", display, msg)
}

// teamLoader gives gonja the templates of a team's fs, relative to the
// directory of the template being rendered, as Jinja's FileSystemLoader in
// Rally.
type teamLoader struct {
	fsys fs.FS
	root string
}

var _ loaders.Loader = (*teamLoader)(nil)

// Read opens a template by name; names are slash paths of the team's fs,
// absolute ("/cars/v1/...") once resolved.
func (l *teamLoader) Read(name string) (io.Reader, error) {
	p, err := l.Resolve(name)
	if err != nil {
		return nil, err
	}
	f, err := l.fsys.Open(strings.TrimPrefix(p, "/"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxTemplateBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxTemplateBytes {
		return nil, fmt.Errorf("%s: larger than %d bytes", name, maxTemplateBytes)
	}
	return strings.NewReader(string(data)), nil
}

// maxTemplateBytes bounds a template: configuration files are kilobytes.
const maxTemplateBytes = 4 << 20

// Resolve makes name absolute: relative names are relative to the
// directory of the template that names them.
func (l *teamLoader) Resolve(name string) (string, error) {
	p := name
	if !strings.HasPrefix(name, "/") {
		p = path.Join(l.root, name)
	}
	p = path.Clean("/" + strings.TrimPrefix(p, "/"))
	if !fs.ValidPath(strings.TrimPrefix(p, "/")) {
		return "", fmt.Errorf("template %q: outside the team", name)
	}
	return p, nil
}

// Inherit gives an included template its own directory for the names it
// includes in turn.
func (l *teamLoader) Inherit(from string) (loaders.Loader, error) {
	if from == "" {
		return l, nil
	}
	p, err := l.Resolve(from)
	if err != nil {
		return nil, err
	}
	return &teamLoader{fsys: l.fsys, root: path.Dir(p)}, nil
}
