package provision

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// testEntry is one entry of a synthetic archive: a directory when name ends
// in "/", else a file with body.
type testEntry struct {
	name string
	body string
}

// writeTarGz builds a tar.gz of entries in a temporary directory.
func writeTarGz(t *testing.T, entries []testEntry) string {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: 0o644, Typeflag: tar.TypeReg, Size: int64(len(e.body))}
		if strings.HasSuffix(e.name, "/") {
			h.Typeflag, h.Mode, h.Size = tar.TypeDir, 0o755, 0
		} else if strings.Contains(e.name, "/bin/") {
			h.Mode = 0o755
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(e.body)); err != nil && h.Typeflag == tar.TypeReg {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "dist.tar.gz")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// writeZip builds a zip of entries in a temporary directory.
func writeZip(t *testing.T, entries []testEntry) string {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		w, err := zw.Create(e.name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(e.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "dist.zip")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const amd64Release = `IMPLEMENTOR="Oracle Corporation"
JAVA_VERSION="23.0.1"
OS_ARCH="x86_64"
OS_NAME="Linux"
`

// esTarball is the layout of an official Linux Elasticsearch tarball, with
// the JDK's release file given.
func esTarball(release string) []testEntry {
	return []testEntry{
		{name: "elasticsearch-8.17.0/"},
		{name: "elasticsearch-8.17.0/bin/"},
		{name: "elasticsearch-8.17.0/bin/elasticsearch", body: "#!/bin/bash\n"},
		{name: "elasticsearch-8.17.0/bin/elasticsearch-env", body: "#!/bin/bash\n"},
		{name: "elasticsearch-8.17.0/lib/"},
		{name: "elasticsearch-8.17.0/lib/elasticsearch-x-content-8.17.0.jar", body: "PK"},
		{name: "elasticsearch-8.17.0/lib/elasticsearch-8.17.0.jar", body: "PK"},
		{name: "elasticsearch-8.17.0/jdk/"},
		{name: "elasticsearch-8.17.0/jdk/bin/"},
		{name: "elasticsearch-8.17.0/jdk/bin/java", body: "\x7fELF"},
		{name: "elasticsearch-8.17.0/jdk/release", body: release},
		{name: "elasticsearch-8.17.0/config/elasticsearch.yml", body: "# empty\n"},
	}
}

// osZip is the layout of an OpenSearch integ-test zip: no directory
// entries, no JDK.
func osZip() []testEntry {
	return []testEntry{
		{name: "opensearch-2.19.1/bin/opensearch", body: "#!/bin/bash\n"},
		{name: "opensearch-2.19.1/lib/opensearch-core-2.19.1.jar", body: "PK"},
		{name: "opensearch-2.19.1/lib/opensearch-2.19.1.jar", body: "PK"},
		{name: "opensearch-2.19.1/config/opensearch.yml", body: ""},
	}
}

func without(entries []testEntry, drop ...string) []testEntry {
	var out []testEntry
	for _, e := range entries {
		keep := true
		for _, d := range drop {
			if strings.HasSuffix(e.name, d) {
				keep = false
			}
		}
		if keep {
			out = append(out, e)
		}
	}
	return out
}

func TestInspectArchive(t *testing.T) {
	darwinRelease := "JAVA_VERSION=\"23.0.1\"\nOS_ARCH=\"aarch64\"\nOS_NAME=\"Darwin\"\n"
	tests := []struct {
		name         string
		build        func(*testing.T) string
		goos, goarch string
		want         Archive // Path and Host* are filled in by the test
		wantErr      string
	}{
		{
			name:   "tarball_with_a_bundled_JDK_for_the_host",
			build:  func(t *testing.T) string { return writeTarGz(t, esTarball(amd64Release)) },
			goos:   "linux",
			goarch: "amd64",
			want: Archive{Format: FormatTarGz, Top: "elasticsearch-8.17.0", Engine: "elasticsearch", Version: "8.17.0",
				StartScript: "bin/elasticsearch",
				BundledJDK:  &JDK{Home: "jdk", Version: "23.0.1", Major: 23, OS: "linux", Arch: "amd64", Bundled: true}},
		},
		{
			name:    "bundled_JDK_of_another_architecture_is_refused",
			build:   func(t *testing.T) string { return writeTarGz(t, esTarball(amd64Release)) },
			goos:    "linux",
			goarch:  "arm64",
			wantErr: `built for amd64 (OS_ARCH="x86_64"), but the host is linux/arm64`,
		},
		{
			name: "bundled_JDK_of_another_OS_is_refused",
			build: func(t *testing.T) string {
				return writeTarGz(t, esTarball(strings.Replace(amd64Release, "Linux", "Darwin", 1)))
			},
			goos:    "linux",
			goarch:  "amd64",
			wantErr: `built for darwin (OS_NAME="Darwin")`,
		},
		{
			name: "bundled_JDK_without_OS_ARCH_is_refused",
			build: func(t *testing.T) string {
				return writeTarGz(t, esTarball("JAVA_VERSION=\"21.0.2\"\n"))
			},
			goos:    "linux",
			goarch:  "amd64",
			wantErr: "no OS_ARCH",
		},
		{
			name:    "bundled_JDK_without_release_file",
			build:   func(t *testing.T) string { return writeTarGz(t, without(esTarball(""), "jdk/release")) },
			goos:    "linux",
			goarch:  "amd64",
			wantErr: "elasticsearch-8.17.0/jdk has no release file",
		},
		{
			name:    "bundled_JDK_without_java",
			build:   func(t *testing.T) string { return writeTarGz(t, without(esTarball(amd64Release), "jdk/bin/java")) },
			goos:    "linux",
			goarch:  "amd64",
			wantErr: "elasticsearch-8.17.0/jdk has no bin/java",
		},
		{
			name: "macOS_tarball_keeps_its_JDK_in_a_bundle",
			build: func(t *testing.T) string {
				return writeTarGz(t, []testEntry{
					{name: "./elasticsearch-9.2.0/bin/elasticsearch", body: "#!/bin/bash\n"},
					{name: "./elasticsearch-9.2.0/lib/elasticsearch-9.2.0.jar", body: "PK"},
					{name: "./elasticsearch-9.2.0/jdk.app/Contents/Home/bin/java", body: "\xcf\xfa\xed\xfe"},
					{name: "./elasticsearch-9.2.0/jdk.app/Contents/Home/release", body: darwinRelease},
				})
			},
			goos:   "darwin",
			goarch: "arm64",
			want: Archive{Format: FormatTarGz, Top: "elasticsearch-9.2.0", Engine: "elasticsearch", Version: "9.2.0",
				StartScript: "bin/elasticsearch",
				BundledJDK:  &JDK{Home: "jdk.app/Contents/Home", Version: "23.0.1", Major: 23, OS: "darwin", Arch: "arm64", Bundled: true}},
		},
		{
			name:   "zip_without_JDK",
			build:  func(t *testing.T) string { return writeZip(t, osZip()) },
			goos:   "linux",
			goarch: "amd64",
			want: Archive{Format: FormatZip, Top: "opensearch-2.19.1", Engine: "opensearch", Version: "2.19.1",
				StartScript: "bin/opensearch"},
		},
		{
			name: "zip_with_a_bundled_JDK_reads_its_release_file",
			build: func(t *testing.T) string {
				return writeZip(t, append(osZip(),
					testEntry{name: "opensearch-2.19.1/jdk/bin/java", body: "x"},
					testEntry{name: "opensearch-2.19.1/jdk/release", body: amd64Release}))
			},
			goos:   "linux",
			goarch: "amd64",
			want: Archive{Format: FormatZip, Top: "opensearch-2.19.1", Engine: "opensearch", Version: "2.19.1",
				StartScript: "bin/opensearch",
				BundledJDK:  &JDK{Home: "jdk", Version: "23.0.1", Major: 23, OS: "linux", Arch: "amd64", Bundled: true}},
		},
		{
			name: "pre-release_version",
			build: func(t *testing.T) string {
				return writeZip(t, []testEntry{
					{name: "opensearch-3.0.0-alpha1/bin/opensearch"},
					{name: "opensearch-3.0.0-alpha1/lib/opensearch-3.0.0-alpha1.jar"},
				})
			},
			want: Archive{Format: FormatZip, Top: "opensearch-3.0.0-alpha1", Engine: "opensearch", Version: "3.0.0-alpha1",
				StartScript: "bin/opensearch"},
		},
		{
			name: "not_an_archive",
			build: func(t *testing.T) string {
				p := filepath.Join(t.TempDir(), "dist.tar.gz")
				os.WriteFile(p, []byte("<html>404 Not Found</html>"), 0o644)
				return p
			},
			wantErr: `not a .zip or .tar.gz archive (it starts with "<htm")`,
		},
		{
			name: "empty_file",
			build: func(t *testing.T) string {
				p := filepath.Join(t.TempDir(), "dist.zip")
				os.WriteFile(p, nil, 0o644)
				return p
			},
			wantErr: "not a .zip or .tar.gz archive",
		},
		{
			name: "gzip_that_is_not_a_tar",
			build: func(t *testing.T) string {
				var buf bytes.Buffer
				gz := gzip.NewWriter(&buf)
				gz.Write(bytes.Repeat([]byte("not a tar header "), 64))
				gz.Close()
				p := filepath.Join(t.TempDir(), "dist.tar.gz")
				os.WriteFile(p, buf.Bytes(), 0o644)
				return p
			},
			wantErr: "read tar:",
		},
		{
			name:    "empty_zip",
			build:   func(t *testing.T) string { return writeZip(t, nil) },
			wantErr: "the archive is empty",
		},
		{
			name:    "no_start_script",
			build:   func(t *testing.T) string { return writeZip(t, without(osZip(), "bin/opensearch")) },
			wantErr: "no start script: want opensearch-2.19.1/bin/elasticsearch or opensearch-2.19.1/bin/opensearch",
		},
		{
			name:    "no_engine_jar",
			build:   func(t *testing.T) string { return writeZip(t, without(osZip(), "lib/opensearch-2.19.1.jar")) },
			wantErr: "opensearch-2.19.1/lib: no engine jar",
		},
		{
			name: "two_engine_jars",
			build: func(t *testing.T) string {
				return writeZip(t, append(osZip(), testEntry{name: "opensearch-2.19.1/lib/opensearch-2.18.0.jar"}))
			},
			wantErr: "more than one engine jar: opensearch-2.18.0.jar, opensearch-2.19.1.jar",
		},
		{
			name: "start_script_of_the_other_engine",
			build: func(t *testing.T) string {
				return writeZip(t, []testEntry{
					{name: "x/bin/elasticsearch"},
					{name: "x/lib/opensearch-2.19.1.jar"},
				})
			},
			wantErr: "lib/ holds opensearch 2.19.1 but bin/opensearch is missing",
		},
		{
			name: "file_at_the_top_level",
			build: func(t *testing.T) string {
				return writeZip(t, append(osZip(), testEntry{name: "README.txt"}))
			},
			wantErr: `entry "README.txt" is a file at the top level`,
		},
		{
			name: "two_top_directories",
			build: func(t *testing.T) string {
				return writeZip(t, append(osZip(), testEntry{name: "other/bin/opensearch"}))
			},
			wantErr: `two top directories, "opensearch-2.19.1" and "other"`,
		},
		{
			name: "entry_escaping_the_archive",
			build: func(t *testing.T) string {
				return writeTarGz(t, append(esTarball(amd64Release), testEntry{name: "elasticsearch-8.17.0/../../etc/passwd"}))
			},
			wantErr: "points outside the archive",
		},
		{
			name: "absolute_entry",
			build: func(t *testing.T) string {
				return writeTarGz(t, []testEntry{{name: "/etc/passwd"}})
			},
			wantErr: "absolute or backslashed paths are not allowed",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.build(t)
			got, err := InspectArchive(p, tt.goos, tt.goarch)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("InspectArchive = %+v, want an error containing %q", got, tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), p) {
					t.Fatalf("error = %q, want one naming %s and containing %q", err, p, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.want.Path, tt.want.HostOS, tt.want.HostArch = p, tt.goos, tt.goarch
			assertArchive(t, got, tt.want)
		})
	}
}

func assertArchive(t *testing.T, got, want Archive) {
	t.Helper()
	gotJDK, wantJDK := got.BundledJDK, want.BundledJDK
	got.BundledJDK, want.BundledJDK = nil, nil
	if got != want {
		t.Errorf("InspectArchive =\n %+v\nwant\n %+v", got, want)
	}
	switch {
	case gotJDK == nil && wantJDK != nil:
		t.Errorf("BundledJDK = nil, want %+v", *wantJDK)
	case gotJDK != nil && wantJDK == nil:
		t.Errorf("BundledJDK = %+v, want none", *gotJDK)
	case gotJDK != nil && *gotJDK != *wantJDK:
		t.Errorf("BundledJDK = %+v, want %+v", *gotJDK, *wantJDK)
	}
}

// engineArchive returns the path of a real distribution in the local Maven
// repository, where scripts/engines.sh fetches them. A missing one fails
// the test, because the synthetic archives only mimic the real layout;
// RALLY_ENGINES=skip turns that into a skip for machines without them.
func engineArchive(t *testing.T, engine, version string) string {
	t.Helper()
	home, err := os.UserHomeDir()
	if err != nil {
		t.Fatal(err)
	}
	group := "org/elasticsearch"
	if engine == EngineOpenSearch {
		group = "org/opensearch"
	}
	p := filepath.Join(home, ".m2", "repository", group, "distribution", "integ-test-zip", engine, version, engine+"-"+version+".zip")
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("RALLY_ENGINES") == "skip" {
			t.Skipf("skipped: %s is missing and RALLY_ENGINES=skip is set", p)
		}
		t.Fatalf("%s %s distribution not found (%v): fetch it with `bash scripts/engines.sh`, or set RALLY_ENGINES=skip to skip tests that need it", engine, version, err)
	}
	return p
}

func TestInspectArchive_realDistributions(t *testing.T) {
	for _, tt := range []struct{ engine, version string }{
		{EngineOpenSearch, "2.19.1"},
		{EngineOpenSearch, "3.0.0"},
		{EngineElasticsearch, "7.17.28"},
		{EngineElasticsearch, "8.17.0"},
		{EngineElasticsearch, "9.2.0"},
	} {
		t.Run(tt.engine+"_"+tt.version, func(t *testing.T) {
			p := engineArchive(t, tt.engine, tt.version)
			got, err := InspectArchive(p, "linux", "amd64")
			if err != nil {
				t.Fatal(err)
			}
			assertArchive(t, got, Archive{
				Path: p, Format: FormatZip, Top: tt.engine + "-" + tt.version,
				Engine: tt.engine, Version: tt.version, StartScript: "bin/" + tt.engine,
				HostOS: "linux", HostArch: "amd64",
			})
		})
	}
}

func TestParseDistVersion(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want distVersion
		ok   bool
	}{
		{"8.17.0", distVersion{8, 17, 0, ""}, true},
		{"9.0.0-beta1", distVersion{9, 0, 0, "beta1"}, true},
		{"8.17.0-SNAPSHOT", distVersion{8, 17, 0, "SNAPSHOT"}, true},
		{"7.17", distVersion{}, false},
		{"v8.17.0", distVersion{}, false},
		{"08.17.0", distVersion{}, false},
		{"8.17.0-", distVersion{}, false},
		{"99999999.0.0", distVersion{}, false},
		{"", distVersion{}, false},
	} {
		got, err := parseDistVersion(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseDistVersion(%q) = %+v, %v; want %+v, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
		if err == nil && got.String() != tt.in {
			t.Errorf("parseDistVersion(%q).String() = %q", tt.in, got.String())
		}
	}
}

func FuzzParseDistVersion(f *testing.F) {
	for _, s := range []string{"8.17.0", "9.0.0-beta1", "7.17.28", "3.0.0-alpha1", "1.2", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := parseDistVersion(s)
		if err != nil {
			return
		}
		if v.String() != s {
			t.Errorf("parseDistVersion(%q).String() = %q: does not round-trip", s, v.String())
		}
	})
}

// FuzzEngineFromJars feeds lib/ listings to the jar-name matcher.
func FuzzEngineFromJars(f *testing.F) {
	f.Add("elasticsearch-8.17.0.jar\nelasticsearch-x-content-8.17.0.jar")
	f.Add("opensearch-2.19.1.jar\nopensearch-2.18.0.jar")
	f.Fuzz(func(t *testing.T, listing string) {
		engine, version, err := engineFromJars(strings.Split(listing, "\n"))
		if err != nil {
			return
		}
		if _, err := parseDistVersion(version); err != nil || engine != EngineElasticsearch && engine != EngineOpenSearch {
			t.Errorf("engineFromJars(%q) = %q %q", listing, engine, version)
		}
	})
}

// FuzzTableOfContents feeds entry names, as an archive could list them, to
// the table-of-contents checks.
func FuzzTableOfContents(f *testing.F) {
	f.Add("elasticsearch-8.17.0/bin/elasticsearch\nelasticsearch-8.17.0/lib/elasticsearch-8.17.0.jar\nelasticsearch-8.17.0/jdk/bin/java\nelasticsearch-8.17.0/jdk/release", amd64Release)
	f.Add("./x/\n./x/bin/opensearch\n./x/lib/opensearch-2.19.1.jar\nx/../y", "")
	f.Add("/abs\n..\\x", "JAVA_VERSION=\"17\"")
	f.Fuzz(func(t *testing.T, names, release string) {
		toc := &tableOfContents{release: map[string][]byte{}}
		for _, name := range strings.Split(names, "\n") {
			dir := strings.HasSuffix(name, "/")
			if err := toc.add(name, dir, func() ([]byte, error) { return []byte(release), nil }); err != nil {
				return
			}
		}
		var a Archive
		if err := toc.describe(&a); err != nil {
			return
		}
		if a.Top == "" || strings.Contains(a.Top, "/") || a.StartScript != "bin/"+a.Engine {
			t.Errorf("describe(%q) = %+v", names, a)
		}
	})
}
