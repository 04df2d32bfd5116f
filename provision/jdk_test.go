package provision

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseRelease(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    releaseInfo
		wantErr string
	}{
		{
			name: "Debian_OpenJDK_17",
			in:   "IMPLEMENTOR=\"Debian\"\nJAVA_VERSION=\"17.0.15\"\nJAVA_VERSION_DATE=\"2025-04-15\"\nOS_ARCH=\"x86_64\"\nOS_NAME=\"Linux\"\nSOURCE=\"\"\n",
			want: releaseInfo{version: "17.0.15", major: 17, os: "linux", arch: "amd64", rawOS: "Linux", rawArch: "x86_64"},
		},
		{
			name: "macOS_arm64",
			in:   "JAVA_VERSION=\"21.0.5\"\nOS_NAME=\"Darwin\"\nOS_ARCH=\"aarch64\"\n",
			want: releaseInfo{version: "21.0.5", major: 21, os: "darwin", arch: "arm64", rawOS: "Darwin", rawArch: "aarch64"},
		},
		{
			name: "Java_8_scheme_with_CRLF_and_no_quotes",
			in:   "JAVA_VERSION=1.8.0_392\r\nOS_ARCH=amd64\r\n",
			want: releaseInfo{version: "1.8.0_392", major: 8, arch: "amd64", rawArch: "amd64"},
		},
		{
			name: "early_access_build",
			in:   "# comment\n\nJAVA_VERSION=\"26-ea\"\nnot a field\n",
			want: releaseInfo{version: "26-ea", major: 26},
		},
		{name: "no_JAVA_VERSION", in: "OS_ARCH=\"x86_64\"\n", wantErr: "no JAVA_VERSION"},
		{name: "JAVA_VERSION_not_a_version", in: "JAVA_VERSION=\"latest\"\n", wantErr: `JAVA_VERSION "latest"`},
		{name: "JAVA_VERSION_zero", in: "JAVA_VERSION=\"0.1\"\n", wantErr: "out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseRelease([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseRelease = %+v, %v; want error containing %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("parseRelease = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func FuzzParseRelease(f *testing.F) {
	f.Add([]byte("JAVA_VERSION=\"17.0.15\"\nOS_ARCH=\"x86_64\"\nOS_NAME=\"Linux\"\n"))
	f.Add([]byte("JAVA_VERSION=1.8.0_392\n"))
	f.Add([]byte("JAVA_VERSION=\"25-ea+3\"\r\n"))
	f.Add([]byte("JAVA_VERSION=\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		info, err := parseRelease(data)
		if err != nil {
			return
		}
		if info.major < 1 || info.major > 1000 || info.version == "" {
			t.Errorf("parseRelease(%q) = %+v: accepted without a usable version", data, info)
		}
		if compareJavaVersions(info.version, info.version) != 0 {
			t.Errorf("compareJavaVersions(%q, itself) != 0", info.version)
		}
	})
}

func TestRequiredJava(t *testing.T) {
	tests := []struct {
		engine, version string
		min, max        int
		wantErr         string
	}{
		{"elasticsearch", "7.17.28", 17, 23, ""},
		{"elasticsearch", "8.0.0", 17, 23, ""},
		{"elasticsearch", "8.17.0", 17, 23, ""},
		{"elasticsearch", "8.18.0", 17, 0, ""},
		{"elasticsearch", "9.0.0", 21, 24, ""},
		{"elasticsearch", "9.0.3", 21, 24, ""},
		{"elasticsearch", "9.2.0", 21, 0, ""},
		{"opensearch", "2.19.1", 17, 23, ""},
		{"opensearch", "3.0.0", 21, 0, ""},
		{"opensearch", "3.0.0-alpha1", 21, 0, ""},
		{"elasticsearch", "7.16.3", 0, 0, "elasticsearch 7.16.3: unsupported version: supported are 7.17, 8.x, 9.x"},
		{"elasticsearch", "10.0.0", 0, 0, "unsupported version"},
		{"opensearch", "1.3.20", 0, 0, "opensearch 1.3.20: unsupported version: supported are 2.x, 3.x"},
		{"solr", "9.0.0", 0, 0, `unknown engine "solr": want elasticsearch or opensearch`},
		{"elasticsearch", "8.x", 0, 0, `version "8.x"`},
	}
	for _, tt := range tests {
		t.Run(tt.engine+"_"+tt.version, func(t *testing.T) {
			min, max, err := RequiredJava(tt.engine, tt.version)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("RequiredJava = %d, %d, %v; want error containing %q", min, max, err, tt.wantErr)
				}
				return
			}
			if err != nil || min != tt.min || max != tt.max {
				t.Fatalf("RequiredJava = %d, %d, %v; want %d, %d", min, max, err, tt.min, tt.max)
			}
		})
	}
}

// fakeJDK makes a JDK home with an executable bin/java and a release file.
func fakeJDK(t *testing.T, home, version, arch string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(home, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, "bin", "java"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	release := "JAVA_VERSION=\"" + version + "\"\nOS_NAME=\"Linux\"\nOS_ARCH=\"" + arch + "\"\n"
	if err := os.WriteFile(filepath.Join(home, "release"), []byte(release), 0o644); err != nil {
		t.Fatal(err)
	}
	return home
}

func TestFindJDKs(t *testing.T) {
	dir := t.TempDir()
	jvm := filepath.Join(dir, "usr", "lib", "jvm")
	jdk17 := fakeJDK(t, filepath.Join(jvm, "java-17-openjdk-amd64"), "17.0.15", "x86_64")
	jdk25 := fakeJDK(t, filepath.Join(jvm, "temurin-25-jdk-amd64"), "25.0.3", "x86_64")
	// Debian's alias, and a directory that is no JDK.
	if err := os.Symlink("java-17-openjdk-amd64", filepath.Join(jvm, "java-1.17.0-openjdk-amd64")); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(jvm, "openjdk-17"), 0o755)
	// A JDK whose java is not executable does not count.
	broken := fakeJDK(t, filepath.Join(jvm, "broken"), "11.0.2", "x86_64")
	os.Chmod(filepath.Join(broken, "bin", "java"), 0o644)
	// Tarball installs under /opt and a macOS bundle.
	jdk21 := fakeJDK(t, filepath.Join(dir, "opt", "jdk-21.0.2"), "21.0.2", "x86_64")
	jdk21b := fakeJDK(t, filepath.Join(dir, "opt", "jdk-21.0.7"), "21.0.7", "x86_64")
	mac := fakeJDK(t, filepath.Join(dir, "Library", "temurin-11.jdk", "Contents", "Home"), "11.0.25", "aarch64")

	got := FindJDKs([]string{
		jdk25, // JAVA_HOME: also found through jvm, reported once
		jvm,
		filepath.Join(dir, "opt", "*jdk*"),
		filepath.Join(dir, "Library"),
		filepath.Join(dir, "missing"),
		"",
		"[", // a malformed pattern is skipped
	})
	var homes []string
	for _, j := range got {
		homes = append(homes, j.Home)
	}
	want := []string{mac, jdk17, jdk21, jdk21b, jdk25}
	if !slices.Equal(homes, want) {
		t.Fatalf("FindJDKs homes =\n %q\nwant\n %q", homes, want)
	}
	if got[0].Major != 11 || got[0].Arch != "arm64" || got[1] != (JDK{Home: jdk17, Version: "17.0.15", Major: 17, OS: "linux", Arch: "amd64"}) {
		t.Errorf("FindJDKs = %+v", got)
	}
}

// TestFindJDKs_host looks at this machine's JDKs; what it finds depends on
// the machine, so it only checks that what was found is usable.
func TestFindJDKs_host(t *testing.T) {
	found := FindJDKs(DefaultJDKRoots(os.Getenv("JAVA_HOME")))
	for _, j := range found {
		t.Logf("found %s", j)
		if j.Major < 8 || !filepath.IsAbs(j.Home) {
			t.Errorf("FindJDKs found %+v", j)
		}
	}
}

func TestChooseJDK(t *testing.T) {
	jdk17 := JDK{Home: "/usr/lib/jvm/java-17-openjdk-amd64", Version: "17.0.15", Major: 17, OS: "linux", Arch: "amd64"}
	jdk17old := JDK{Home: "/opt/jdk-17.0.2", Version: "17.0.2", Major: 17, OS: "linux", Arch: "amd64"}
	jdk21 := JDK{Home: "/opt/jdk-21", Version: "21.0.7", Major: 21, OS: "linux", Arch: "amd64"}
	jdk21arm := JDK{Home: "/opt/jdk-21-arm", Version: "21.0.7", Major: 21, OS: "linux", Arch: "arm64"}
	jdk25 := JDK{Home: "/usr/lib/jvm/temurin-25-jdk-amd64", Version: "25.0.3", Major: 25, OS: "linux", Arch: "amd64"}
	bundled := &JDK{Home: "jdk", Version: "23.0.1", Major: 23, OS: "linux", Arch: "amd64", Bundled: true}
	dist := func(engine, version string, jdk *JDK) Archive {
		return Archive{Engine: engine, Version: version, BundledJDK: jdk, HostOS: "linux", HostArch: "amd64"}
	}
	tests := []struct {
		name    string
		arch    Archive
		want    int
		found   []JDK
		chosen  JDK
		wantErr string
	}{
		{
			name: "bundled_JDK_when_none_asked_for",
			arch: dist("elasticsearch", "8.17.0", bundled), found: []JDK{jdk17},
			chosen: *bundled,
		},
		{
			name: "asked_for_release_over_the_bundled_JDK",
			arch: dist("elasticsearch", "8.17.0", bundled), want: 17, found: []JDK{jdk25, jdk17},
			chosen: jdk17,
		},
		{
			name: "lowest_suitable_release_newest_patch",
			arch: dist("opensearch", "2.19.1", nil), found: []JDK{jdk25, jdk21, jdk17old, jdk17},
			chosen: jdk17,
		},
		{
			name: "newer_engine_skips_too_old_JDKs",
			arch: dist("elasticsearch", "9.2.0", nil), found: []JDK{jdk17, jdk25, jdk21},
			chosen: jdk21,
		},
		{
			name: "JDKs_of_another_architecture_are_passed_over",
			arch: dist("opensearch", "3.0.0", nil), found: []JDK{jdk21arm, jdk25},
			chosen: jdk25,
		},
		{
			name: "asked_for_release_outside_the_engine's_range",
			arch: dist("opensearch", "2.19.1", nil), want: 25, found: []JDK{jdk25},
			wantErr: "Java 25 was asked for, but opensearch 2.19.1 needs Java 17 to 23 (it installs the Security Manager, which Java 24 no longer allows)",
		},
		{
			name: "asked_for_release_not_installed",
			arch: dist("elasticsearch", "9.2.0", nil), want: 21, found: []JDK{jdk17, jdk25},
			wantErr: "elasticsearch 9.2.0 needs Java 21 (asked for; it supports Java 21 or later); found /usr/lib/jvm/java-17-openjdk-amd64 (Java 17.0.15, amd64), /usr/lib/jvm/temurin-25-jdk-amd64 (Java 25.0.3, amd64)",
		},
		{
			name: "only_too_new_JDKs",
			arch: dist("elasticsearch", "9.0.1", nil), found: []JDK{jdk25},
			wantErr: "elasticsearch 9.0.1 needs Java 21 to 24 (9.0.x does not start on Java 25); found /usr/lib/jvm/temurin-25-jdk-amd64 (Java 25.0.3, amd64)",
		},
		{
			name:    "no_JDK_at_all",
			arch:    dist("opensearch", "3.0.0", nil),
			wantErr: "opensearch 3.0.0 needs Java 21 or later; found none",
		},
		{
			name: "unsupported_engine_version",
			arch: dist("elasticsearch", "6.8.23", nil), found: []JDK{jdk17},
			wantErr: "elasticsearch 6.8.23: unsupported version",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ChooseJDK(tt.arch, tt.want, tt.found)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ChooseJDK = %+v, %v; want error containing %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.chosen {
				t.Fatalf("ChooseJDK = %+v, %v; want %+v", got, err, tt.chosen)
			}
		})
	}
}

func TestJavaEnv(t *testing.T) {
	host := JDK{Home: "/usr/lib/jvm/java-17-openjdk-amd64", Major: 17}
	bundled := JDK{Home: "jdk", Major: 23, Bundled: true}
	tests := []struct {
		name, engine, version string
		jdk                   JDK
		want                  []string
	}{
		{"Elasticsearch_8_reads_ES_JAVA_HOME", "elasticsearch", "8.17.0", host,
			[]string{"ES_JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64", "JAVA_HOME="}},
		{"Elasticsearch_7.12_reads_ES_JAVA_HOME", "elasticsearch", "7.12.0", host,
			[]string{"ES_JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64", "JAVA_HOME="}},
		{"Elasticsearch_7.11_reads_JAVA_HOME", "elasticsearch", "7.11.2", host,
			[]string{"JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64"}},
		{"OpenSearch_reads_OPENSEARCH_JAVA_HOME", "opensearch", "2.19.1", host,
			[]string{"OPENSEARCH_JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64", "JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64"}},
		{"bundled_JDK_clears_the_variables_for_Elasticsearch", "elasticsearch", "9.2.0", bundled,
			[]string{"ES_JAVA_HOME=", "JAVA_HOME="}},
		{"bundled_JDK_clears_the_variables_for_OpenSearch", "opensearch", "3.0.0", bundled,
			[]string{"OPENSEARCH_JAVA_HOME=", "JAVA_HOME="}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := JavaEnv(tt.engine, tt.version, tt.jdk); !slices.Equal(got, tt.want) {
				t.Errorf("JavaEnv = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestChooseJDK_realDistributions chooses among this machine's JDKs for
// the real distributions, as a provisioner host would.
func TestChooseJDK_realDistributions(t *testing.T) {
	found := FindJDKs(DefaultJDKRoots(os.Getenv("JAVA_HOME")))
	for _, tt := range []struct{ engine, version string }{
		{EngineOpenSearch, "2.19.1"},
		{EngineElasticsearch, "9.2.0"},
	} {
		t.Run(tt.engine+"_"+tt.version, func(t *testing.T) {
			a, err := InspectArchive(engineArchive(t, tt.engine, tt.version), "linux", "amd64")
			if err != nil {
				t.Fatal(err)
			}
			min, max, _ := RequiredJava(a.Engine, a.Version)
			jdk, err := ChooseJDK(a, 0, found)
			suitable := slices.ContainsFunc(found, func(j JDK) bool {
				return (j.Arch == "" || j.Arch == "amd64") && (j.OS == "" || j.OS == "linux") && j.Major >= min && (max == 0 || j.Major <= max)
			})
			if suitable != (err == nil) {
				t.Fatalf("ChooseJDK = %v, %v; found %v", jdk, err, found)
			}
			t.Logf("chose %v (err %v)", jdk, err)
		})
	}
}
