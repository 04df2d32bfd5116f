package provision

import (
	"fmt"
	"sort"
	"strings"

	"rally/spelling"
)

// CarType tells a car from a mixin, as the [meta] type of its ini file.
type CarType string

// The two kinds of car files. A car is what one usually names first in
// --car; a mixin only adds variables or base directories. Rally treats them
// the same when combining, and so does this package: the type is for
// listings.
const (
	CarTypeCar   CarType = "car"
	CarTypeMixin CarType = "mixin"
)

// CarInfo describes one car file of a team, for listings.
type CarInfo struct {
	Name        string  `json:"name"`
	Type        CarType `json:"type"`
	Description string  `json:"description"`
}

// Car is a car with its mixins, combined: the variables its templates are
// rendered with and the base directories they come from.
type Car struct {
	// Names are the car files combined, in the order given.
	Names []string
	// Vars are the combined variables: base directories' config.ini first,
	// then each car file in order, then the car parameters. Values read from
	// ini files are strings, as Rally's configparser reads them; car
	// parameters keep their own types.
	Vars map[string]any
	// Bases are the base directories, in the order their templates are
	// applied, each at most once.
	Bases []Base

	team *Team
}

// Base is one base directory of a team (a [config] base entry), relative
// to the team's cars/v1 directory.
type Base struct {
	// Name is the entry as the car file wrote it, e.g. "vanilla".
	Name string
	// Path is where it lives: a directory on disk, or a path in the
	// embedded default team.
	Path string
}

// Name is the car's display name: its car files joined by "+", as Rally
// writes it.
func (c *Car) Name() string { return strings.Join(c.Names, "+") }

// carFile is one parsed cars/v1/<name>.ini.
type carFile struct {
	name        string
	file        string // display path
	description string
	typ         CarType
	bases       []string
	basesLine   int
	vars        []iniEntry
}

// metaKeys and configKeys are the keys Rally reads from [meta] and
// [config]. Rally ignores anything else there; rally refuses it instead,
// because a misspelt "base" would otherwise silently render nothing.
var (
	metaKeys   = []string{"description", "type"}
	configKeys = []string{"base"}
)

// parseCarFile reads a car or mixin file.
func parseCarFile(name, display string, data []byte) (*carFile, error) {
	doc, err := parseINI(display, data)
	if err != nil {
		return nil, err
	}
	cf := &carFile{name: name, file: display, typ: CarTypeCar}
	for _, sec := range []struct {
		name  string
		known []string
	}{{"meta", metaKeys}, {"config", configKeys}} {
		s := doc.section(sec.name)
		if s == nil {
			continue
		}
		for _, e := range s.entries {
			if !contains(sec.known, e.key) {
				return nil, &ConfigError{File: display, Line: e.line, Key: sec.name + "." + e.key,
					Msg: "unknown key" + suggest(e.key, sec.known)}
			}
		}
	}
	if e, ok := doc.lookup("meta", "description"); ok {
		v, err := doc.value("meta", e)
		if err != nil {
			return nil, err
		}
		cf.description = v
	}
	if e, ok := doc.lookup("meta", "type"); ok {
		v, err := doc.value("meta", e)
		if err != nil {
			return nil, err
		}
		switch CarType(v) {
		case CarTypeCar, CarTypeMixin:
			cf.typ = CarType(v)
		default:
			return nil, &ConfigError{File: display, Line: e.line, Key: "meta.type",
				Msg: fmt.Sprintf("%q: want car or mixin", v)}
		}
	}
	if e, ok := doc.lookup("config", "base"); ok {
		v, err := doc.value("config", e)
		if err != nil {
			return nil, err
		}
		cf.basesLine = e.line
		// Rally splits on commas and skips empty entries; it does not trim,
		// but a space after a comma is an easy slip and never part of a
		// directory name in a team.
		for _, b := range strings.Split(v, ",") {
			if b = strings.TrimSpace(b); b != "" {
				if !validBaseName(b) {
					return nil, &ConfigError{File: display, Line: e.line, Key: "config.base",
						Msg: fmt.Sprintf("%q: want a directory below cars/v1", b)}
				}
				cf.bases = append(cf.bases, b)
			}
		}
	}
	vars, err := doc.sectionValues("variables")
	if err != nil {
		return nil, err
	}
	cf.vars = vars
	return cf, nil
}

// validBaseName accepts a relative path that stays inside cars/v1.
func validBaseName(b string) bool {
	if strings.HasPrefix(b, "/") || strings.Contains(b, "\\") {
		return false
	}
	for _, part := range strings.Split(b, "/") {
		if part == "" || part == "." || part == ".." {
			return false
		}
	}
	return true
}

// Car combines the named car files of spec ("defaults,4gheap,ea"): later
// files win for variables, base directories accumulate in order, and params
// (--car-params) win over everything, as in Rally. An unknown name is an
// error with the closest known names; a base directory with install hooks
// (config.py) is refused, naming the car and the file, because rally does
// not run a team's Python.
func (t *Team) Car(spec string, params map[string]any) (*Car, error) {
	var names []string
	for _, n := range strings.Split(spec, ",") {
		if n = strings.TrimSpace(n); n != "" {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("car %q: name at least one car", spec)
	}
	car := &Car{Names: names, Vars: map[string]any{}, team: t}
	baseVars := map[string]any{}
	carVars := map[string]any{}
	seen := map[string]bool{}
	for _, n := range names {
		cf, ok := t.cars[n]
		if !ok {
			return nil, t.unknownCar(n)
		}
		for _, b := range cf.bases {
			base, err := t.base(cf, b)
			if err != nil {
				return nil, err
			}
			for _, e := range base.vars {
				baseVars[e.key] = e.value
			}
			if !seen[b] {
				seen[b] = true
				car.Bases = append(car.Bases, Base{Name: b, Path: base.path})
			}
		}
		for _, e := range cf.vars {
			carVars[e.key] = e.value
		}
	}
	if len(car.Bases) == 0 {
		return nil, fmt.Errorf("car %s: no base directory: name a car whose [config] base lists one (mixins alone have no templates)", car.Name())
	}
	// Car variables always take precedence over config base variables
	// (Rally's load_car), and car parameters over both.
	for _, m := range []map[string]any{baseVars, carVars, params} {
		for k, v := range m {
			car.Vars[k] = v
		}
	}
	return car, nil
}

// unknownCar names the closest car files to a misspelt name.
func (t *Team) unknownCar(name string) error {
	known := make([]string, 0, len(t.cars))
	for n := range t.cars {
		known = append(known, n)
	}
	sort.Strings(known)
	msg := fmt.Sprintf("unknown car %q in %s", name, t.display("cars/v1"))
	if s := suggest(name, known); s != "" {
		return fmt.Errorf("%s%s", msg, s)
	}
	return fmt.Errorf("%s (see rally list cars)", msg)
}

// suggest returns ` (did you mean "x"?)` for the closest of known, or
// nothing when none is close.
func suggest(word string, known []string) string {
	// A third of the word's length, at least 2: "4gheep" finds "4gheap",
	// "defualts" finds "defaults", "xpack" finds nothing.
	best, ok := spelling.Nearest(word, known, max(2, len(word)/3))
	if !ok {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// ConfigError is a mistake in a team's ini file, at a line and key.
type ConfigError struct {
	File string
	Line int
	Key  string // "section.key"; empty for a line that is no entry at all
	Msg  string
}

func (e *ConfigError) Error() string {
	if e.Key == "" {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s:%d: %s: %s", e.File, e.Line, e.Key, e.Msg)
}

// The ini files of a team are read the way Rally reads them: Python's
// configparser with ExtendedInterpolation and case-sensitive keys. A Go ini
// library (gopkg.in/ini.v1) differs on exactly the points teams rely on
// (it strips inline comments, folds case and continuation lines its own
// way) and cannot tell which line a key came from, which every error here
// must name. So this is a small parser of that one dialect:
//   - "[section]" headers; "key = value" or "key: value" (the first = or :
//     splits); keys and values trimmed; a key needs a value;
//   - whole-line comments starting with # or ;, no inline comments;
//   - a line indented deeper than its key continues the value, joined with
//     newlines; empty lines inside a value are kept, trailing ones dropped;
//   - [DEFAULT] values appear in every section;
//   - a section or a key twice is an error (configparser's strict mode);
//   - values interpolate ${key} (same section or DEFAULT) and
//     ${section:key}; $$ is a literal $, any other $ is an error.

// iniEntry is one key of a section with its raw (not interpolated) value.
type iniEntry struct {
	key, value string
	line       int
}

type iniSection struct {
	name    string
	line    int
	entries []iniEntry
}

type iniDoc struct {
	file     string
	defaults *iniSection
	sections []*iniSection
}

// maxINIBytes bounds what is read: a car file is a few hundred bytes.
const maxINIBytes = 1 << 20

// parseINI reads data as configparser would; display names the file in
// errors.
func parseINI(display string, data []byte) (*iniDoc, error) {
	if len(data) > maxINIBytes {
		return nil, &ConfigError{File: display, Line: 1, Msg: fmt.Sprintf("file is %d bytes; an ini file of a team is at most %d", len(data), maxINIBytes)}
	}
	doc := &iniDoc{file: display}
	text := strings.TrimPrefix(string(data), "\ufeff")
	var (
		cur        *iniSection
		curEntry   = -1 // index of the entry a continuation line extends
		keyIndent  = 0
		pendingNLs = 0 // empty lines seen inside the current value
	)
	for i, raw := range strings.Split(text, "\n") {
		lineNo := i + 1
		line := strings.TrimSuffix(raw, "\r")
		trimmed := strings.TrimSpace(line)
		if trimmed == "" {
			if curEntry >= 0 {
				pendingNLs++
			}
			continue
		}
		if trimmed[0] == '#' || trimmed[0] == ';' {
			continue
		}
		indent := len(line) - len(strings.TrimLeft(line, " \t"))
		if cur != nil && curEntry >= 0 && indent > keyIndent {
			e := &cur.entries[curEntry]
			e.value += strings.Repeat("\n", pendingNLs+1) + trimmed
			pendingNLs = 0
			continue
		}
		pendingNLs = 0
		keyIndent = indent
		if trimmed[0] == '[' {
			end := strings.LastIndexByte(trimmed, ']')
			if end < 2 {
				return nil, &ConfigError{File: display, Line: lineNo, Msg: fmt.Sprintf("%q: want a section header [name]", trimmed)}
			}
			name := trimmed[1:end]
			if name == "DEFAULT" {
				if doc.defaults != nil {
					return nil, &ConfigError{File: display, Line: lineNo, Msg: fmt.Sprintf("section [DEFAULT] again (first at line %d)", doc.defaults.line)}
				}
				doc.defaults = &iniSection{name: name, line: lineNo}
				cur = doc.defaults
			} else {
				if prev := doc.section(name); prev != nil {
					return nil, &ConfigError{File: display, Line: lineNo, Msg: fmt.Sprintf("section [%s] again (first at line %d)", name, prev.line)}
				}
				cur = &iniSection{name: name, line: lineNo}
				doc.sections = append(doc.sections, cur)
			}
			curEntry = -1
			continue
		}
		if cur == nil {
			return nil, &ConfigError{File: display, Line: lineNo, Msg: fmt.Sprintf("%q before any [section] header", trimmed)}
		}
		sep := strings.IndexAny(trimmed, "=:")
		if sep < 0 {
			return nil, &ConfigError{File: display, Line: lineNo, Key: cur.name + "." + trimmed, Msg: "no value: want key = value"}
		}
		key := strings.TrimSpace(trimmed[:sep])
		if key == "" {
			return nil, &ConfigError{File: display, Line: lineNo, Msg: fmt.Sprintf("%q: no key before %q", trimmed, trimmed[sep])}
		}
		for _, e := range cur.entries {
			if e.key == key {
				return nil, &ConfigError{File: display, Line: lineNo, Key: cur.name + "." + key, Msg: fmt.Sprintf("set again (first at line %d)", e.line)}
			}
		}
		cur.entries = append(cur.entries, iniEntry{key: key, value: strings.TrimSpace(trimmed[sep+1:]), line: lineNo})
		curEntry = len(cur.entries) - 1
	}
	return doc, nil
}

func (d *iniDoc) section(name string) *iniSection {
	for _, s := range d.sections {
		if s.name == name {
			return s
		}
	}
	return nil
}

// lookup finds a key in a section, falling back to [DEFAULT].
func (d *iniDoc) lookup(section, key string) (iniEntry, bool) {
	if s := d.section(section); s != nil {
		for _, e := range s.entries {
			if e.key == key {
				return e, true
			}
		}
	}
	if d.defaults != nil {
		for _, e := range d.defaults.entries {
			if e.key == key {
				return e, true
			}
		}
	}
	return iniEntry{}, false
}

// sectionValues returns a section's keys with [DEFAULT]'s, interpolated,
// in file order (defaults first); nothing when the section is absent, as
// Rally's _copy_section.
func (d *iniDoc) sectionValues(section string) ([]iniEntry, error) {
	s := d.section(section)
	if s == nil {
		return nil, nil
	}
	var out []iniEntry
	add := func(e iniEntry) error {
		v, err := d.value(section, e)
		if err != nil {
			return err
		}
		for i := range out {
			if out[i].key == e.key {
				out[i] = iniEntry{key: e.key, value: v, line: e.line}
				return nil
			}
		}
		out = append(out, iniEntry{key: e.key, value: v, line: e.line})
		return nil
	}
	if d.defaults != nil {
		for _, e := range d.defaults.entries {
			if err := add(e); err != nil {
				return nil, err
			}
		}
	}
	for _, e := range s.entries {
		if err := add(e); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// maxInterpolationDepth is configparser's MAX_INTERPOLATION_DEPTH.
const maxInterpolationDepth = 10

// value interpolates e's value as read in section.
func (d *iniDoc) value(section string, e iniEntry) (string, error) {
	budget := maxInterpolations
	return d.interpolate(section, e, e.value, 1, &budget)
}

// maxInterpolations bounds the references one value may expand, so that
// references fanning out over ten levels cannot make reading a file take
// forever.
const maxInterpolations = 10000

func (d *iniDoc) interpolate(section string, e iniEntry, v string, depth int, budget *int) (string, error) {
	fail := func(msg string) error {
		return &ConfigError{File: d.file, Line: e.line, Key: section + "." + e.key, Msg: msg}
	}
	if depth > maxInterpolationDepth {
		return "", fail(fmt.Sprintf("interpolation deeper than %d references (a reference loop?)", maxInterpolationDepth))
	}
	if !strings.Contains(v, "$") {
		return v, nil
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(v, '$')
		if i < 0 {
			b.WriteString(v)
			return b.String(), nil
		}
		b.WriteString(v[:i])
		v = v[i:]
		switch {
		case strings.HasPrefix(v, "$$"):
			b.WriteByte('$')
			v = v[2:]
		case strings.HasPrefix(v, "${"):
			end := strings.IndexByte(v, '}')
			if end < 0 {
				return "", fail(fmt.Sprintf("bad interpolation %q: no closing }", v))
			}
			ref := v[2:end]
			v = v[end+1:]
			refSection, refKey := section, ref
			switch parts := strings.Split(ref, ":"); len(parts) {
			case 1:
			case 2:
				refSection, refKey = parts[0], parts[1]
			default:
				return "", fail(fmt.Sprintf("bad interpolation ${%s}: more than one ':'", ref))
			}
			if *budget--; *budget < 0 {
				return "", fail(fmt.Sprintf("more than %d interpolated references", maxInterpolations))
			}
			target, ok := d.lookup(refSection, refKey)
			if !ok {
				return "", fail(fmt.Sprintf("${%s}: no key %q in section [%s]", ref, refKey, refSection))
			}
			sub, err := d.interpolate(refSection, e, target.value, depth+1, budget)
			if err != nil {
				return "", err
			}
			b.WriteString(sub)
		default:
			return "", fail(fmt.Sprintf("'$' must be followed by '$' or '{' (write $$ for a literal $), found %q", v))
		}
	}
}
