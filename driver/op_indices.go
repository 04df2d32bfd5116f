package driver

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"rally/track"
)

// request is one prepared HTTP request of an administrative operation.
type request struct {
	method, path string
	body         []byte
}

// sequence sends its requests in order and stops at the first failure;
// weight is the number of requests (Rally counts one op per index or
// template).
type sequence struct {
	reqs []request
	ro   requestOptions
}

func (q sequence) run(ctx context.Context, s *session) outcome {
	for _, r := range q.reqs {
		if _, out := s.call(ctx, r.method, r.path, r.body, &q.ro); out.err != nil {
			return out
		}
	}
	return outcome{weight: int64(len(q.reqs))}
}

// deletion deletes targets; with onlyIfExists it first asks HEAD existsPath
// and deletes only what exists, else it deletes and ignores 404. extra
// requests (deleting indices matching a template) follow each deletion.
type deletion struct {
	items        []deleteItem
	onlyIfExists bool
	ro           requestOptions
}

type deleteItem struct {
	existsPath string
	deletePath string
	// then are deletions to send after this one (matching indices).
	then []string
}

func (d deletion) run(ctx context.Context, s *session) outcome {
	var ops int64
	for _, it := range d.items {
		doDelete := true
		if d.onlyIfExists {
			st, out := s.call(ctx, "HEAD", it.existsPath, nil, &d.ro, 404)
			if out.err != nil {
				return out
			}
			doDelete = st == 200
		}
		if doDelete {
			if _, out := s.call(ctx, "DELETE", withQuery(it.deletePath, d.ro.query), nil, &d.ro, 404); out.err != nil {
				return out
			}
			ops++
		}
		for _, p := range it.then {
			if _, out := s.call(ctx, "DELETE", p, nil, &d.ro, 404); out.err != nil {
				return out
			}
			ops++
		}
	}
	return outcome{weight: ops}
}

// adminOp wraps an administrative runner in its retry policy.
func adminOp(p params, r runner) (opSpec, error) {
	rr, err := withRetry(p, r)
	if err != nil {
		return nil, err
	}
	return constantOp{rr}, nil
}

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

func compileCreateIndex(t *track.Track, _ *track.Task, p params) (opSpec, error) {
	ro, err := p.requestOptions()
	if err != nil {
		return nil, err
	}
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
	return adminOp(p, sequence{reqs: reqs, ro: ro})
}

func compileDeleteIndex(t *track.Track, _ *track.Task, p params) (opSpec, error) {
	ro, err := p.requestOptions()
	if err != nil {
		return nil, err
	}
	only, err := p.bool("only-if-exists", true)
	if err != nil {
		return nil, err
	}
	names, err := p.strList("index")
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		for _, idx := range t.Indices {
			names = append(names, idx.Name)
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("delete-index targets no index (the track has none and no \"index\" is given)")
	}
	d := deletion{onlyIfExists: only, ro: ro}
	for _, n := range names {
		d.items = append(d.items, deleteItem{existsPath: "/" + n, deletePath: "/" + n})
	}
	return adminOp(p, d)
}

func compileCreateDataStream(t *track.Track, _ *track.Task, p params) (opSpec, error) {
	ro, err := p.requestOptions()
	if err != nil {
		return nil, err
	}
	filter, err := p.strList("data-stream")
	if err != nil {
		return nil, err
	}
	var names []string
	if len(t.DataStreams) > 0 {
		for _, ds := range t.DataStreams {
			if len(filter) == 0 || slices.Contains(filter, ds.Name) {
				names = append(names, ds.Name)
			}
		}
	} else {
		names = filter
	}
	if len(names) == 0 {
		return nil, fmt.Errorf(`no data stream to create: the track has none matching and no "data-stream" is given`)
	}
	var reqs []request
	for _, n := range names {
		reqs = append(reqs, request{"PUT", "/_data_stream/" + n + ro.query, nil})
	}
	return adminOp(p, sequence{reqs: reqs, ro: ro})
}

func compileDeleteDataStream(t *track.Track, _ *track.Task, p params) (opSpec, error) {
	ro, err := p.requestOptions()
	if err != nil {
		return nil, err
	}
	only, err := p.bool("only-if-exists", true)
	if err != nil {
		return nil, err
	}
	names, err := p.strList("data-stream")
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		for _, ds := range t.DataStreams {
			names = append(names, ds.Name)
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("delete-data-stream targets no data stream")
	}
	d := deletion{onlyIfExists: only, ro: ro}
	for _, n := range names {
		d.items = append(d.items, deleteItem{existsPath: "/" + n, deletePath: "/_data_stream/" + n})
	}
	return adminOp(p, d)
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

func compileCreateTemplate(kind templateKind) compileFunc {
	return func(t *track.Track, _ *track.Task, p params) (opSpec, error) {
		ro, err := p.requestOptions()
		if err != nil {
			return nil, err
		}
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
		return adminOp(p, sequence{reqs: reqs, ro: ro})
	}
}

func compileDeleteTemplate(kind templateKind) compileFunc {
	return func(t *track.Track, _ *track.Task, p params) (opSpec, error) {
		ro, err := p.requestOptions()
		if err != nil {
			return nil, err
		}
		only, err := p.bool("only-if-exists", true)
		if err != nil {
			return nil, err
		}
		name, err := p.str("template", "")
		if err != nil {
			return nil, err
		}
		d := deletion{onlyIfExists: only, ro: ro}
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
		return adminOp(p, d)
	}
}
