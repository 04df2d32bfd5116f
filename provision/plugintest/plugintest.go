// Package plugintest builds a minimal Elasticsearch or OpenSearch plugin
// for tests: one empty class extending the engine's Plugin class,
// compiled with javac against the engine's own server jar, in a zip with
// its plugin-descriptor.properties. Plugin zips are not on Maven Central;
// this is the nearest real thing.
package plugintest

import (
	"archive/zip"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
)

// Name is the plugin's name, as the engine lists it.
const Name = "rally-test"

// Build compiles the plugin against serverJar with javac into dir and
// returns its zip; a zip without a descriptor too, for failure tests.
func Build(t testing.TB, javac, serverJar, engine, version, dir string) (good, noDescriptor string) {
	t.Helper()
	src := filepath.Join(dir, "src", "org", "rally", "test", "RallyTestPlugin.java")
	if err := os.MkdirAll(filepath.Dir(src), 0o755); err != nil {
		t.Fatal(err)
	}
	code := fmt.Sprintf("package org.rally.test;\n\npublic class RallyTestPlugin extends org.%s.plugins.Plugin {}\n", engine)
	if err := os.WriteFile(src, []byte(code), 0o644); err != nil {
		t.Fatal(err)
	}
	classes := filepath.Join(dir, "classes")
	// Java 11 bytecode: what the descriptor's java.version says.
	out, err := exec.Command(javac, "--release", "11", "-d", classes, "-cp", serverJar, src).CombinedOutput()
	if err != nil {
		t.Fatalf("javac: %v\n%s", err, out)
	}
	class, err := os.ReadFile(filepath.Join(classes, "org", "rally", "test", "RallyTestPlugin.class"))
	if err != nil {
		t.Fatal(err)
	}
	jarPath := WriteZip(t, filepath.Join(dir, "rally-test-plugin.jar"), map[string][]byte{"org/rally/test/RallyTestPlugin.class": class})
	jar, err := os.ReadFile(jarPath)
	if err != nil {
		t.Fatal(err)
	}
	descriptor := fmt.Sprintf("description=rally's test plugin\nversion=1.0\nname=%s\n"+
		"classname=org.rally.test.RallyTestPlugin\njava.version=11\n%s.version=%s\n", Name, engine, version)
	good = WriteZip(t, filepath.Join(dir, "rally-test-plugin.zip"), map[string][]byte{
		"plugin-descriptor.properties": []byte(descriptor), "rally-test-plugin.jar": jar})
	noDescriptor = WriteZip(t, filepath.Join(dir, "no-descriptor.zip"), map[string][]byte{"rally-test-plugin.jar": jar})
	return good, noDescriptor
}

// ServerJar copies the engine's server jar (<top>/lib/<engine>-<version>.jar)
// out of a distribution zip into dir.
func ServerJar(t testing.TB, archive, engine, version, dir string) string {
	t.Helper()
	zr, err := zip.OpenReader(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	want := engine + "-" + version + "/lib/" + engine + "-" + version + ".jar"
	for _, f := range zr.File {
		if f.Name != want {
			continue
		}
		r, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		dst := filepath.Join(dir, filepath.Base(want))
		out, err := os.Create(dst)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(out, r); err != nil {
			t.Fatal(err)
		}
		if err := out.Close(); err != nil {
			t.Fatal(err)
		}
		return dst
	}
	t.Fatalf("%s holds no %s", archive, want)
	return ""
}

// WriteZip writes files (name → content) into a zip at p.
func WriteZip(t testing.TB, p string, files map[string][]byte) string {
	t.Helper()
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(files[name]); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}
