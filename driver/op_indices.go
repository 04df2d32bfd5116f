package driver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"rally/track"
)

// decodeBody decodes a JSON object body (nil or empty gives an empty map).
func decodeBody(raw json.RawMessage) (map[string]any, error) {
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return map[string]any{}, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("body is not a JSON object: %w", err)
	}
	if m == nil {
		m = map[string]any{}
	}
	return m, nil
}

// deepMerge merges src into dst, recursing into objects.
func deepMerge(dst, src map[string]any) {
	for k, v := range src {
		if dm, ok := dst[k].(map[string]any); ok {
			if sm, ok := v.(map[string]any); ok {
				deepMerge(dm, sm)
				continue
			}
		}
		dst[k] = v
	}
}

// mergeSettings returns body with settings merged at path (["settings"]
// for indices and legacy templates, ["template","settings"] for composable
// and component templates). Legacy bodies get Rally's shallow update, the
// others a deep merge.
func mergeSettings(raw json.RawMessage, settings map[string]any, path []string, deep bool) ([]byte, error) {
	if len(settings) == 0 {
		if len(bytes.TrimSpace(raw)) == 0 {
			return nil, nil
		}
		return raw, nil
	}
	body, err := decodeBody(raw)
	if err != nil {
		return nil, err
	}
	cur := body
	for _, k := range path {
		next, ok := cur[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			cur[k] = next
		}
		cur = next
	}
	if deep {
		deepMerge(cur, settings)
	} else {
		maps.Copy(cur, settings)
	}
	return json.Marshal(body)
}

// trackIndexNames lists the indices the track declares.
func trackIndexNames(t *track.Track) []string {
	var names []string
	for _, idx := range t.Indices {
		names = append(names, idx.Name)
	}
	return names
}

// trackDataStreamNames lists the data streams the track declares.
func trackDataStreamNames(t *track.Track) []string {
	var names []string
	for _, ds := range t.DataStreams {
		names = append(names, ds.Name)
	}
	return names
}

func buildCreateIndex(t *track.Track, p params, ro requestOptions) (runner, error) {
	settings, err := p.object("settings")
	if err != nil {
		return nil, err
	}
	filter, err := p.strList("index")
	if err != nil {
		return nil, err
	}
	var reqs []request
	if len(t.Indices) > 0 {
		for _, idx := range t.Indices {
			if len(filter) > 0 && !slices.Contains(filter, idx.Name) {
				continue
			}
			body, err := mergeSettings(idx.Body, settings, []string{"settings"}, false)
			if err != nil {
				return nil, fmt.Errorf("index %q: %w", idx.Name, err)
			}
			reqs = append(reqs, request{"PUT", "/" + idx.Name + ro.query, body})
		}
	} else {
		if len(filter) == 0 {
			return nil, fmt.Errorf(`the track has no indices: give parameter "index"`)
		}
		body, err := p.jsonBody("body")
		if err != nil {
			return nil, err
		}
		for _, name := range filter {
			reqs = append(reqs, request{"PUT", "/" + name + ro.query, body})
		}
	}
	if len(reqs) == 0 {
		return nil, fmt.Errorf("no track index matches %q", filter)
	}
	return sequence{reqs: reqs, ro: ro}, nil
}

func buildCreateDataStream(t *track.Track, p params, ro requestOptions) (runner, error) {
	filter, err := p.strList("data-stream")
	if err != nil {
		return nil, err
	}
	names := filter
	if declared := trackDataStreamNames(t); len(declared) > 0 {
		names = nil
		for _, n := range declared {
			if len(filter) == 0 || slices.Contains(filter, n) {
				names = append(names, n)
			}
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf(`no data stream to create: the track has none matching and no "data-stream" is given`)
	}
	var reqs []request
	for _, n := range names {
		reqs = append(reqs, request{"PUT", "/_data_stream/" + n + ro.query, nil})
	}
	return sequence{reqs: reqs, ro: ro}, nil
}

// namedDeletion is what delete-index or delete-data-stream deletes: the
// names in param, else all the track declares.
type namedDeletion struct {
	// param names what to delete ("index", "data-stream").
	param string
	// declared lists what the track declares of that kind.
	declared func(*track.Track) []string
	// prefix is the DELETE path before the name (the existence check is
	// always HEAD /{name}).
	prefix string
	// none is the error when there is nothing to delete.
	none string
}

var (
	indexDeletion = namedDeletion{
		param: "index", declared: trackIndexNames, prefix: "/",
		none: `delete-index targets no index (the track has none and no "index" is given)`,
	}
	dataStreamDeletion = namedDeletion{
		param: "data-stream", declared: trackDataStreamNames, prefix: "/_data_stream/",
		none: "delete-data-stream targets no data stream",
	}
)

func buildDeleteNamed(k namedDeletion) buildFunc {
	return func(t *track.Track, p params, ro requestOptions) (runner, error) {
		d, err := newDeletion(p, ro)
		if err != nil {
			return nil, err
		}
		names, err := p.strList(k.param)
		if err != nil {
			return nil, err
		}
		if len(names) == 0 {
			names = k.declared(t)
		}
		if len(names) == 0 {
			return nil, errors.New(k.none)
		}
		for _, n := range names {
			d.items = append(d.items, deleteItem{existsPath: "/" + n, deletePath: k.prefix + n})
		}
		return d, nil
	}
}

// templateKind is one of the three template APIs.
type templateKind int

const (
	templateLegacy     templateKind = iota // /_template
	templateComposable                     // /_index_template
	templateComponent                      // /_component_template
)

func (k templateKind) endpoint() string {
	switch k {
	case templateComposable:
		return "/_index_template/"
	case templateComponent:
		return "/_component_template/"
	}
	return "/_template/"
}

func (k templateKind) templates(t *track.Track) []track.Template {
	switch k {
	case templateComposable:
		return t.ComposableTemplates
	case templateComponent:
		return t.ComponentTemplates
	}
	return t.Templates
}

func buildCreateTemplate(kind templateKind) buildFunc {
	return func(t *track.Track, p params, ro requestOptions) (runner, error) {
		settings, err := p.object("settings")
		if err != nil {
			return nil, err
		}
		name, err := p.str("template", "")
		if err != nil {
			return nil, err
		}
		var reqs []request
		switch {
		case name != "" && p.has("body") && (kind != templateLegacy || len(t.Templates) == 0):
			body, err := p.jsonBody("body")
			if err != nil {
				return nil, err
			}
			reqs = append(reqs, request{"PUT", kind.endpoint() + name + ro.query, body})
		case len(kind.templates(t)) > 0:
			var available []string
			for _, tpl := range kind.templates(t) {
				available = append(available, tpl.Name)
				if name != "" && tpl.Name != name {
					continue
				}
				path, deep := []string{"template", "settings"}, true
				if kind == templateLegacy {
					path, deep = []string{"settings"}, false
				}
				body, err := mergeSettings(tpl.Body, settings, path, deep)
				if err != nil {
					return nil, fmt.Errorf("template %q: %w", tpl.Name, err)
				}
				reqs = append(reqs, request{"PUT", kind.endpoint() + tpl.Name + ro.query, body})
			}
			if len(reqs) == 0 {
				return nil, fmt.Errorf("unknown template %q; available: %s", name, strings.Join(available, ", "))
			}
		default:
			return nil, fmt.Errorf(`give "template" and "body", or declare templates in the track`)
		}
		return sequence{reqs: reqs, ro: ro}, nil
	}
}

func buildDeleteTemplate(kind templateKind) buildFunc {
	return func(t *track.Track, p params, ro requestOptions) (runner, error) {
		d, err := newDeletion(p, ro)
		if err != nil {
			return nil, err
		}
		name, err := p.str("template", "")
		if err != nil {
			return nil, err
		}
		add := func(n string, deleteMatching bool, pattern string) {
			it := deleteItem{existsPath: kind.endpoint() + n, deletePath: kind.endpoint() + n}
			// Never delete with an empty pattern by accident.
			if kind != templateComponent && deleteMatching && pattern != "" {
				it.then = []string{"/" + pattern}
			}
			d.items = append(d.items, it)
		}
		if tpls := kind.templates(t); len(tpls) > 0 {
			for _, tpl := range tpls {
				if name == "" || tpl.Name == name {
					add(tpl.Name, tpl.DeleteMatchingIndices, tpl.IndexPattern)
				}
			}
		} else {
			if name == "" {
				return nil, fmt.Errorf(`give "template" or declare templates in the track`)
			}
			matching, err := p.bool("delete-matching-indices", false)
			if err != nil {
				return nil, err
			}
			pattern, err := p.str("index-pattern", "")
			if err != nil {
				return nil, err
			}
			if matching && pattern == "" {
				return nil, fmt.Errorf(`"index-pattern" is required when "delete-matching-indices" is true`)
			}
			add(name, matching, pattern)
		}
		if len(d.items) == 0 {
			return nil, fmt.Errorf("no template named %q in the track", name)
		}
		return d, nil
	}
}
