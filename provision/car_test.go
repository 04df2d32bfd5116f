package provision

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseINI(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		section string
		want    map[string]string
		wantErr string // substring; the file is always t.ini
	}{
		{"key_value_both_separators", "[v]\na = 1\nb: two words\n", "v", map[string]string{"a": "1", "b": "two words"}, ""},
		{"first_separator_splits", "[v]\nurl = http://x:9200/a=b\n", "v", map[string]string{"url": "http://x:9200/a=b"}, ""},
		{"keys_keep_their_case", "[v]\nHeap_Size = 1g\n", "v", map[string]string{"Heap_Size": "1g"}, ""},
		{"whole_line_comments_only", "[v]\n# c\n; c\na = 1 # not a comment\n", "v", map[string]string{"a": "1 # not a comment"}, ""},
		{"continuation_lines", "[v]\na = one\n  two\n\n  three\nb = x\n", "v", map[string]string{"a": "one\ntwo\n\nthree", "b": "x"}, ""},
		{"defaults_in_every_section", "[DEFAULT]\nd = 1\n[v]\na = ${d}2\n", "v", map[string]string{"d": "1", "a": "12"}, ""},
		{"interpolation_other_section", "[meta]\nn = x\n[v]\na = ${meta:n}-$$\n", "v", map[string]string{"a": "x-$"}, ""},
		{"empty_value", "[v]\na =\n", "v", map[string]string{"a": ""}, ""},
		{"crlf_and_bom", "\ufeff[v]\r\na = 1\r\n", "v", map[string]string{"a": "1"}, ""},
		{"key_before_section", "a = 1\n", "", nil, "t.ini:1: \"a = 1\" before any [section] header"},
		{"key_without_value", "[v]\na = 1\nflag\n", "", nil, "t.ini:3: v.flag: no value"},
		{"duplicate_key", "[v]\na = 1\na = 2\n", "", nil, "t.ini:3: v.a: set again (first at line 2)"},
		{"duplicate_section", "[v]\n[w]\n[v]\n", "", nil, "t.ini:3: section [v] again (first at line 1)"},
		{"bad_header", "[]\n", "", nil, "t.ini:1: \"[]\": want a section header"},
		{"lone_dollar", "[v]\n\na = 5$\n", "v", nil, "t.ini:3: v.a: '$' must be followed by '$' or '{'"},
		{"unknown_reference", "[v]\na = ${nope}\n", "v", nil, "t.ini:2: v.a: ${nope}: no key \"nope\" in section [v]"},
		{"reference_loop", "[v]\na = ${b}\nb = ${a}\n", "v", nil, "t.ini:2: v.a: interpolation deeper than 10"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := parseINI("t.ini", []byte(tt.text))
			var got map[string]string
			if err == nil && tt.section != "" {
				var entries []iniEntry
				entries, err = doc.sectionValues(tt.section)
				got = map[string]string{}
				for _, e := range entries {
					got[e.key] = e.value
				}
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseCarFile(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		want    *carFile
		wantErr string
	}{
		{"car", "[meta]\ndescription = d\ntype = car\n[config]\nbase = a, b,,\n[variables]\nx = 1\n",
			&carFile{name: "c", file: "c.ini", description: "d", typ: CarTypeCar, bases: []string{"a", "b"}, basesLine: 5, vars: []iniEntry{{"x", "1", 7}}}, ""},
		{"type_defaults_to_car", "[variables]\nx = 1\n",
			&carFile{name: "c", file: "c.ini", typ: CarTypeCar, vars: []iniEntry{{"x", "1", 2}}}, ""},
		{"unknown_sections_are_ignored_as_rally_does", "[meta]\ntype = mixin\n[env]\nES_JAVA_OPTS = -ea\n",
			&carFile{name: "c", file: "c.ini", typ: CarTypeMixin}, ""},
		{"bad_type", "[meta]\ntype = truck\n", nil, "c.ini:2: meta.type: \"truck\": want car or mixin"},
		{"misspelt_base", "[config]\nbsae = vanilla\n", nil, "c.ini:2: config.bsae: unknown key (did you mean \"base\"?)"},
		{"base_outside_team", "[config]\nbase = ../../etc\n", nil, "c.ini:2: config.base: \"../../etc\": want a directory below cars/v1"},
		{"bad_variable", "[variables]\nx = $HOME\n", nil, "c.ini:2: variables.x: '$' must be followed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseCarFile("c", "c.ini", []byte(tt.text))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func testTeam(t *testing.T) *Team {
	t.Helper()
	team, err := LoadTeam(filepath.Join("testdata", "team"))
	if err != nil {
		t.Fatal(err)
	}
	return team
}

func TestTeamCar(t *testing.T) {
	team := testTeam(t)
	tests := []struct {
		name      string
		spec      string
		params    map[string]any
		wantVars  map[string]any
		wantBases []string
		wantErr   string
	}{
		{"car_variables_win_over_base_config_ini", "base", nil,
			map[string]any{"heap_size": "1g", "color": "red", "shape": "round"}, []string{"plain"}, ""},
		{"later_mixins_win", "base,more,big", nil,
			map[string]any{"heap_size": "8g", "color": "blue", "shape": "round"}, []string{"plain", "extra"}, ""},
		{"order_decides", "base,big,more", nil,
			map[string]any{"heap_size": "8g", "color": "blue", "shape": "round"}, []string{"plain", "extra"}, ""},
		{"car_params_win_last", " base , more ", map[string]any{"color": "black", "heap_size": 2, "new": true},
			map[string]any{"heap_size": 2, "color": "black", "shape": "round", "new": true}, []string{"plain", "extra"}, ""},
		{"unknown_car_suggests", "base,moer", nil, nil, nil, filepath.Join("testdata", "team", "cars", "v1") + ` (did you mean "more"?)`},
		{"unknown_car_far_from_all", "base,xpack-security", nil, nil, nil, `unknown car "xpack-security"`},
		{"python_hooks_refused", "python", nil, nil, nil, filepath.Join("team", "cars", "v1", "python.ini") + `): base directory "hooked" has install hooks in `},
		{"mixins_alone_have_no_templates", "big", nil, nil, nil, "car big: no base directory"},
		{"empty_spec", " , ", nil, nil, nil, "name at least one car"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			car, err := team.Car(tt.spec, tt.params)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(car.Vars, tt.wantVars) {
				t.Errorf("vars = %v, want %v", car.Vars, tt.wantVars)
			}
			var bases []string
			for _, b := range car.Bases {
				bases = append(bases, b.Name)
			}
			if !reflect.DeepEqual(bases, tt.wantBases) {
				t.Errorf("bases = %v, want %v", bases, tt.wantBases)
			}
		})
	}
	t.Run("python_hooks_error_names_the_file", func(t *testing.T) {
		_, err := team.Car("python", nil)
		if err == nil || !strings.Contains(err.Error(), filepath.Join("hooked", "config.py")) {
			t.Fatalf("error = %v, want it to name hooked/config.py", err)
		}
	})
}

func TestLoadTeamErrors(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string
		spec    string // when set, the error comes from Car(spec)
		wantErr string
	}{
		{"not_a_team", map[string]string{"README": "x"}, "", "no cars/v1 directory"},
		{"no_cars", map[string]string{"cars/v1/README.md": "x"}, "", "no car files"},
		{"broken_car_file_names_file_line_key", map[string]string{"cars/v1/a.ini": "[meta]\ntype = car\ndescription = x\ntype = mixin\n"}, "",
			filepath.Join("cars", "v1", "a.ini") + ":4: meta.type: set again (first at line 2)"},
		{"missing_base_directory", map[string]string{"cars/v1/a.ini": "[config]\n\nbase = gone\n"}, "a",
			filepath.Join("cars", "v1", "a.ini") + `:3: config.base: base directory "gone": `},
		{"broken_base_config_ini", map[string]string{"cars/v1/a.ini": "[config]\nbase = b\n", "cars/v1/b/config.ini": "[variables]\nx\n"}, "a",
			filepath.Join("cars", "v1", "b", "config.ini") + ":2: variables.x: no value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, tt.files)
			team, err := LoadTeam(dir)
			if err == nil && tt.spec != "" {
				_, err = team.Car(tt.spec, nil)
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, text := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSuggest(t *testing.T) {
	known := []string{"defaults", "4gheap", "16gheap", "ea", "zgc", "g1gc"}
	for _, tt := range []struct{ word, want string }{
		{"4gheep", ` (did you mean "4gheap"?)`},
		{"defualts", ` (did you mean "defaults"?)`},
		{"x-pack-security", ""},
	} {
		if got := suggest(tt.word, known); got != tt.want {
			t.Errorf("suggest(%q) = %q, want %q", tt.word, got, tt.want)
		}
	}
}

// FuzzParseCarFile hunts for panics and unbounded work in the ini parser
// and the car file checks on top of it.
func FuzzParseCarFile(f *testing.F) {
	for _, seed := range []string{
		"[meta]\ndescription = d\ntype = mixin\n[config]\nbase = a,b\n[variables]\nx = ${y}\ny = $$1\n",
		"[DEFAULT]\na = ${v:b}\n[v]\nb = ${a}\n",
		"[v]\na = 1\n  more\n\n  lines\n",
		"\ufeff[x\n]\n[]]\n= v\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cf, err := parseCarFile("c", "c.ini", data)
		if err != nil {
			if _, ok := err.(*ConfigError); !ok {
				t.Fatalf("error %T is no *ConfigError: %v", err, err)
			}
			return
		}
		for _, b := range cf.bases {
			if !validBaseName(b) {
				t.Fatalf("accepted base %q", b)
			}
		}
	})
}
