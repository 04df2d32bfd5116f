package track

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/nikolalohinski/gonja/v2"
	"github.com/nikolalohinski/gonja/v2/builtins"
	"github.com/nikolalohinski/gonja/v2/config"
	"github.com/nikolalohinski/gonja/v2/exec"
	"github.com/nikolalohinski/gonja/v2/loaders"
	"github.com/nikolalohinski/gonja/v2/parser"
	"github.com/nikolalohinski/gonja/v2/tokens"
)

// helpersName is the template tracks import as
// {% import "rally.helpers" as rally with context %}.
const helpersName = "rally.helpers"

// rallyHelpers is Rally's own macro text (esrally loader.render_template),
// kept verbatim so the macros behave as in Rally: collect is the fallback
// for collect calls the textual inlining does not match, exists_set_param
// emits `, "name": value-as-json` only when the value is defined (or a
// default_value is given).
const rallyHelpers = `
        {% macro collect(parts) -%}
            {% set comma = joiner() %}
            {% for part in glob(parts) %}
                {{ comma() }}
                {% include part %}
            {% endfor %}
        {%- endmacro %}
        
        {% macro exists_set_param(setting_name, value, default_value=None, comma=True) -%}
            {% if value is defined or default_value is not none %}
                {% if comma %} , {% endif %}
                {% if default_value is not none %}
                  "{{ setting_name }}": {{ value | default(default_value) | tojson }}
                {% else %}
                  "{{ setting_name }}": {{ value | tojson }}
                {% endif %}
              {% endif %}
        {%- endmacro %}
        `

// reservedParams are template globals Rally defines itself; a track
// parameter may not override them.
var reservedParams = []string{"build_flavor", "serverless_operator", "now", "glob"}

// rootTemplateID names the template being rendered in the loader; it
// cannot collide with a file name.
const rootTemplateID = "\x00root"

// templateEnv renders track templates with one set of variables.
type templateEnv struct {
	dir     string         // track directory: includes and glob() are relative to it
	vars    map[string]any // track params plus Rally's globals
	cfg     *config.Config
	env     *exec.Environment
	display func(string) string
}

func newTemplateEnv(dir string, params map[string]any, now time.Time, buildFlavor string, serverlessOperator bool, display func(string) string) *templateEnv {
	vars := make(map[string]any, len(params)+4)
	for k, v := range params {
		vars[k] = v
	}
	vars["build_flavor"] = buildFlavor
	vars["serverless_operator"] = serverlessOperator
	vars["now"] = float64(now.UnixNano()) / 1e9
	vars["glob"] = func(_ *exec.Evaluator, va *exec.VarArgs) *exec.Value {
		if len(va.Args) != 1 {
			return exec.AsValue(errors.New("glob() takes one pattern"))
		}
		files, err := globFiles(filepath.Join(dir, va.Args[0].String()))
		if err != nil {
			return exec.AsValue(err)
		}
		rel := make([]any, 0, len(files))
		for _, f := range files {
			if r, err := filepath.Rel(dir, f); err == nil {
				rel = append(rel, r)
			}
		}
		return exec.AsValue(rel)
	}

	filters := exec.NewFilterSet(map[string]exec.FilterFunction{})
	filters.Update(builtins.Filters)
	_ = filters.Register("days_ago", filterDaysAgo)
	_ = filters.Register("get_start_date", filterGetStartDate)
	_ = filters.Register("get_end_date", filterGetEndDate)

	cfg := gonja.DefaultConfig.Inherit()
	return &templateEnv{
		dir:  dir,
		vars: vars,
		cfg:  cfg,
		env: &exec.Environment{
			Context:           gonja.DefaultContext,
			Filters:           filters,
			Tests:             builtins.Tests,
			ControlStructures: builtins.ControlStructures,
			Methods:           builtins.Methods,
		},
		display: display,
	}
}

// render renders an assembled template. Errors name the file and line the
// failing template text came from.
func (te *templateEnv) render(src *source) (out string, err error) {
	defer func() {
		// gonja is a third-party engine fed with user input; a panic in it
		// must not take the process down.
		if r := recover(); r != nil {
			out, err = "", &Error{File: te.display(src.main), Msg: fmt.Sprintf("template engine failed: %v", r)}
		}
	}()
	loader := &trackLoader{dir: te.dir, root: src.text}
	tpl, err := exec.NewTemplate(rootTemplateID, te.cfg, loader, te.env)
	if err != nil {
		return "", te.templateError(src, err)
	}
	out, err = tpl.ExecuteToString(exec.NewContext(copyVars(te.vars)))
	if err != nil {
		return "", te.templateError(src, err)
	}
	return out, nil
}

func copyVars(m map[string]any) map[string]any {
	c := make(map[string]any, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

var renderLineRE = regexp.MustCompile(`at line (\d+)`)

// templateError turns a gonja error into an *Error at the right file.
func (te *templateEnv) templateError(src *source, err error) error {
	e := &Error{File: te.display(src.main), Err: err}
	var se *parser.SyntaxError
	if errors.As(err, &se) {
		e.Msg = "template syntax error: " + se.Message
		if se.Raw != "" {
			e.Msg += fmt.Sprintf(" (near %q)", se.Raw)
		}
		line, col := se.Line, se.Column
		if strings.Contains(se.Message, "Unexpected EOF") {
			// An unclosed block is only noticed at the end of the text; point
			// at the block that was never closed instead.
			if l, c, name, ok := unclosedBlock(src.text, te.cfg); ok {
				line, col = l, c
				e.Msg = fmt.Sprintf("template syntax error: {%% %s %%} is never closed (%s)", name, se.Message)
			}
		}
		if line == 0 {
			// Lexer errors reach the parser without a position; find the
			// error token ourselves.
			if off, msg, ok := lexError(src.text, te.cfg); ok {
				e.Msg = "template syntax error: " + msg
				if f, l, c, ok := src.origin(off); ok {
					e.File, e.Line, e.Col = te.display(f), l, c
				}
				return e
			}
		}
		if f, l, c, ok := src.originOfLine(line, col); ok {
			e.File, e.Line, e.Col = te.display(f), l, c
		}
		return e
	}
	msg := err.Error()
	if m := renderLineRE.FindStringSubmatch(msg); m != nil {
		if n, convErr := strconv.Atoi(m[1]); convErr == nil {
			if f, l, _, ok := src.originOfLine(n, 0); ok {
				e.File, e.Line = te.display(f), l
			}
		}
	}
	e.Msg = "template error: " + rootCause(msg)
	return e
}

// lexError returns the byte offset and message of the first lexer error in
// text.
func lexError(text string, cfg *config.Config) (off int, msg string, ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	stream := tokens.LexAll(text, cfg)
	for !stream.EOF() {
		if stream.IsError() {
			tok := stream.Current()
			return tok.Pos, tok.Val, true
		}
		stream.Next()
	}
	return 0, "", false
}

// blockOpeners are the tags that need an end tag.
var blockOpeners = map[string]bool{"if": true, "for": true, "macro": true, "call": true, "filter": true,
	"block": true, "with": true, "autoescape": true, "trans": true}

// unclosedBlock finds the innermost block tag of text that has no end tag,
// returning its 1-based line and byte column.
func unclosedBlock(text string, cfg *config.Config) (line, col int, name string, ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	var toks []*tokens.Token
	for stream := tokens.LexAll(text, cfg); !stream.End(); {
		toks = append(toks, stream.Next())
	}
	type open struct {
		name      string
		line, col int
	}
	var stack []open
	for i := 1; i < len(toks); i++ {
		tok, begin := toks[i], toks[i-1]
		if tok.Type != tokens.Name || begin.Type != tokens.BlockBegin {
			continue
		}
		switch {
		case blockOpeners[tok.Val]:
			stack = append(stack, open{tok.Val, begin.Line, begin.Col})
		case tok.Val == "set":
			// {% set x %}...{% endset %} is a block; {% set x = 1 %} is not.
			assign := false
			for j := i + 1; j < len(toks) && toks[j].Type != tokens.BlockEnd; j++ {
				assign = assign || toks[j].Type == tokens.Assign
			}
			if !assign {
				stack = append(stack, open{"set", begin.Line, begin.Col})
			}
		case strings.HasPrefix(tok.Val, "end") && len(stack) > 0 && stack[len(stack)-1].name == tok.Val[3:]:
			stack = stack[:len(stack)-1]
		}
	}
	if len(stack) == 0 {
		return 0, 0, "", false
	}
	top := stack[len(stack)-1]
	return top.line, top.col, top.name, true
}

// rootCause keeps the last part of gonja's chain of wrapped messages,
// which names the actual problem ("filter 'foo' not found").
func rootCause(msg string) string {
	parts := strings.Split(msg, ": ")
	for i := len(parts) - 1; i >= 0; i-- {
		if p := strings.TrimSpace(parts[i]); p != "" {
			return p
		}
	}
	return msg
}

// trackLoader resolves template names the way Rally's loaders do:
// "rally.helpers" is Rally's macro library, everything else is a file
// relative to the track directory.
type trackLoader struct {
	dir  string
	root string
}

var _ loaders.Loader = (*trackLoader)(nil)

func (l *trackLoader) Read(path string) (io.Reader, error) {
	switch path {
	case rootTemplateID:
		return strings.NewReader(l.root), nil
	case helpersName:
		return strings.NewReader(rallyHelpers), nil
	}
	resolved, err := l.Resolve(path)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(resolved)
	if err != nil {
		return nil, err
	}
	return strings.NewReader(strings.ReplaceAll(string(b), "\r\n", "\n")), nil
}

func (l *trackLoader) Resolve(path string) (string, error) {
	if path == rootTemplateID || path == helpersName || filepath.IsAbs(path) {
		return path, nil
	}
	return filepath.Join(l.dir, path), nil
}

func (l *trackLoader) Inherit(string) (loaders.Loader, error) { return l, nil }

// usedNames records the variable names a template refers to in used, and
// the names it assigns ({% set x %}, {% for x in %}) in declared. It is the
// counterpart of Rally's jinja2 meta.find_undeclared_variables for the
// unused-parameter check: every name in an expression except attribute,
// filter and test names counts as used (a parameter that the template
// also assigns counts as used too, which errs on the side of accepting).
func usedNames(text string, cfg *config.Config, used, declared map[string]bool) {
	defer func() { _ = recover() }() // the lexer is third-party; never fail the load over this scan
	stream := tokens.LexAll(text, cfg)
	var prev, prev2 *tokens.Token
	for !stream.End() {
		tok := stream.Next()
		if tok.Type == tokens.Name {
			skip := false
			if prev != nil {
				switch prev.Type {
				case tokens.Dot, tokens.Pipe, tokens.Is:
					skip = true
				case tokens.Not:
					skip = prev2 != nil && prev2.Type == tokens.Is
				case tokens.Name:
					if (prev.Val == "set" || prev.Val == "for") && prev2 != nil && prev2.Type == tokens.BlockBegin {
						declared[tok.Val] = true
					}
				}
			}
			if !skip {
				used[tok.Val] = true
			}
		}
		prev2, prev = prev, tok
	}
}

// filterDaysAgo is Rally's days_ago(start_date, end_date,
// date_format="%d-%m-%Y"): whole days from start to end.
func filterDaysAgo(_ *exec.Evaluator, in *exec.Value, params *exec.VarArgs) *exec.Value {
	if in.IsError() {
		return in
	}
	if len(params.Args) < 1 {
		return exec.AsValue(errors.New("days_ago needs an end date, e.g. '01-05-1998' | days_ago(now)"))
	}
	format := "%d-%m-%Y"
	if len(params.Args) > 1 {
		format = params.Args[1].String()
	} else if f, ok := params.KwArgs["date_format"]; ok {
		format = f.String()
	}
	start, err := toTime(in.Interface(), format)
	if err != nil {
		return exec.AsValue(fmt.Errorf("days_ago: %w", err))
	}
	end, err := toTime(params.Args[0].Interface(), format)
	if err != nil {
		return exec.AsValue(fmt.Errorf("days_ago: %w", err))
	}
	return exec.AsValue(daysBetween(start, end))
}

// filterGetStartDate is Rally's get_start_date(date,
// date_format="%Y-%m-%d"): the date formatted. Numbers are Unix seconds.
func filterGetStartDate(_ *exec.Evaluator, in *exec.Value, params *exec.VarArgs) *exec.Value {
	return formatDate("get_start_date", in, params, 0)
}

// filterGetEndDate is Rally's get_end_date(date, duration_days=1,
// date_format="%Y-%m-%d"): the date plus a number of days, formatted.
func filterGetEndDate(_ *exec.Evaluator, in *exec.Value, params *exec.VarArgs) *exec.Value {
	days := 1
	if len(params.Args) > 0 {
		days = params.Args[0].Integer()
	} else if d, ok := params.KwArgs["duration_days"]; ok {
		days = d.Integer()
	}
	rest := &exec.VarArgs{KwArgs: params.KwArgs}
	if len(params.Args) > 1 {
		rest.Args = params.Args[1:]
	}
	return formatDate("get_end_date", in, rest, days)
}

func formatDate(name string, in *exec.Value, params *exec.VarArgs, addDays int) *exec.Value {
	if in.IsError() {
		return in
	}
	format := "%Y-%m-%d"
	if len(params.Args) > 0 {
		format = params.Args[0].String()
	} else if f, ok := params.KwArgs["date_format"]; ok {
		format = f.String()
	}
	t, err := toTime(in.Interface(), "%Y-%m-%d")
	if err != nil {
		return exec.AsValue(fmt.Errorf("%s: %w", name, err))
	}
	s, err := strftime(t.AddDate(0, 0, addDays), format)
	if err != nil {
		return exec.AsValue(fmt.Errorf("%s: %w", name, err))
	}
	return exec.AsValue(s)
}
