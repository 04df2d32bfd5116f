package provision

import (
	"archive/tar"
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/klauspost/compress/gzip"
)

// Engine names, as they appear in distribution file names, jar names and
// start scripts.
const (
	// EngineElasticsearch is Elastic's Elasticsearch.
	EngineElasticsearch = "elasticsearch"
	// EngineOpenSearch is the OpenSearch fork of Elasticsearch 7.10.
	EngineOpenSearch = "opensearch"
)

// Archive formats InspectArchive recognises, by content rather than name.
const (
	// FormatZip is a zip file (the integ-test-zip and Windows distributions).
	FormatZip = "zip"
	// FormatTarGz is a gzip-compressed tar file (the official Linux and
	// macOS distributions).
	FormatTarGz = "tar.gz"
)

// Archive is what InspectArchive learned about a distribution archive from
// its table of contents, without unpacking it.
type Archive struct {
	// Path is the archive file.
	Path string
	// Format is FormatZip or FormatTarGz.
	Format string
	// Top is the one directory every entry lives under, such as
	// "elasticsearch-8.17.0".
	Top string
	// Engine is EngineElasticsearch or EngineOpenSearch, read from the
	// name of the core server jar in lib/.
	Engine string
	// Version is the engine version from that jar's name, such as "8.17.0".
	Version string
	// StartScript is the start script relative to Top: "bin/elasticsearch"
	// or "bin/opensearch".
	StartScript string
	// BundledJDK is the JDK shipped inside the archive, nil when there is
	// none; its Home is relative to Top ("jdk", or
	// "jdk.app/Contents/Home" in macOS distributions).
	BundledJDK *JDK
	// HostOS and HostArch are the GOOS and GOARCH the archive was checked
	// against; ChooseJDK uses them to rule out JDKs of another platform.
	HostOS, HostArch string
}

// bundledJDKHomes are where official distributions keep their JDK: jdk/ on
// Linux, a macOS bundle on Darwin (both engines' start scripts look there).
var bundledJDKHomes = []string{"jdk", "jdk.app/Contents/Home"}

// maxReleaseFileSize bounds what is read of a JDK `release` file: real ones
// are about 2 KB, so anything much larger is not one.
const maxReleaseFileSize = 64 << 10

// InspectArchive reads the table of contents of the distribution archive at
// path (a zip's central directory; a tar.gz is read through once) and
// reports its top directory, engine, version, start script and bundled JDK.
// goos and goarch name the host the distribution is meant for (GOOS and
// GOARCH spelling): a bundled JDK built for another platform is an error, so
// a wrong download fails here rather than after it has been unpacked.
func InspectArchive(path, goos, goarch string) (Archive, error) {
	a, err := inspectArchive(path, goos, goarch)
	if err != nil {
		return Archive{}, fmt.Errorf("distribution archive %s: %w", path, err)
	}
	return a, nil
}

func inspectArchive(file, goos, goarch string) (Archive, error) {
	f, err := os.Open(file)
	if err != nil {
		return Archive{}, err
	}
	defer f.Close()
	var magic [4]byte
	n, err := io.ReadFull(f, magic[:])
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return Archive{}, err
	}
	toc := &tableOfContents{release: map[string][]byte{}}
	a := Archive{Path: file, HostOS: goos, HostArch: goarch}
	switch {
	case n == 4 && (string(magic[:]) == "PK\x03\x04" || string(magic[:]) == "PK\x05\x06"):
		a.Format = FormatZip
		err = scanZip(f, toc)
	case n >= 2 && magic[0] == 0x1f && magic[1] == 0x8b:
		a.Format = FormatTarGz
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return Archive{}, err
		}
		err = scanTarGz(f, toc)
	default:
		return Archive{}, fmt.Errorf("not a .zip or .tar.gz archive (it starts with %q)", magic[:n])
	}
	if err != nil {
		return Archive{}, err
	}
	if err := toc.describe(&a); err != nil {
		return Archive{}, err
	}
	return a, nil
}

// tableOfContents gathers, entry by entry, the few facts InspectArchive
// needs; paths are relative to the top directory.
type tableOfContents struct {
	top     string
	entries int
	libJars []string        // file names directly under lib/
	bin     map[string]bool // file names directly under bin/
	dirs    map[string]bool // every directory seen, explicit or implied
	files   map[string]bool // the few files that matter (JDK launchers)
	release map[string][]byte
}

// add records one entry. name uses forward slashes, as both zip and tar
// store it; read supplies the entry's content and is called only for a
// bundled JDK's release file.
func (t *tableOfContents) add(name string, dir bool, read func() ([]byte, error)) error {
	clean := strings.TrimPrefix(name, "./")
	if clean == "" || clean == "." {
		return nil
	}
	if strings.HasPrefix(clean, "/") || strings.Contains(clean, "\\") {
		return fmt.Errorf("entry %q: absolute or backslashed paths are not allowed", name)
	}
	clean = path.Clean(clean)
	if clean == ".." || strings.HasPrefix(clean, "../") {
		return fmt.Errorf("entry %q: points outside the archive", name)
	}
	top, rel, nested := strings.Cut(clean, "/")
	if !nested && !dir {
		return fmt.Errorf("entry %q is a file at the top level: a distribution unpacks into one directory", name)
	}
	if t.top == "" {
		t.top = top
		t.bin, t.dirs, t.files = map[string]bool{}, map[string]bool{}, map[string]bool{}
	} else if top != t.top {
		return fmt.Errorf("two top directories, %q and %q: a distribution unpacks into one directory", t.top, top)
	}
	t.entries++
	if !nested {
		return nil
	}
	for d := path.Dir(rel); d != "."; d = path.Dir(d) {
		t.dirs[d] = true
	}
	if dir {
		t.dirs[rel] = true
		return nil
	}
	switch parent, base := path.Split(rel); parent {
	case "lib/":
		t.libJars = append(t.libJars, base)
	case "bin/":
		t.bin[base] = true
	}
	for _, home := range bundledJDKHomes {
		switch rel {
		case home + "/bin/java":
			t.files[rel] = true
		case home + "/release":
			data, err := read()
			if err != nil {
				return fmt.Errorf("read %s: %w", clean, err)
			}
			t.release[home] = data
		}
	}
	return nil
}

// describe turns the gathered entries into an Archive, or says what makes
// the archive unusable.
func (t *tableOfContents) describe(a *Archive) error {
	if t.entries == 0 {
		return errors.New("the archive is empty")
	}
	a.Top = t.top
	if !t.bin[EngineElasticsearch] && !t.bin[EngineOpenSearch] {
		return fmt.Errorf("no start script: want %s/bin/%s or %s/bin/%s", t.top, EngineElasticsearch, t.top, EngineOpenSearch)
	}
	engine, version, err := engineFromJars(t.libJars)
	if err != nil {
		return fmt.Errorf("%s/lib: %w", t.top, err)
	}
	if !t.bin[engine] {
		return fmt.Errorf("lib/ holds %s %s but bin/%s is missing", engine, version, engine)
	}
	a.Engine, a.Version, a.StartScript = engine, version, "bin/"+engine
	for _, home := range bundledJDKHomes {
		if !t.dirs[home] && t.release[home] == nil && !t.files[home+"/bin/java"] {
			continue
		}
		if !t.files[home+"/bin/java"] {
			return fmt.Errorf("bundled JDK %s/%s has no bin/java", t.top, home)
		}
		data, ok := t.release[home]
		if !ok {
			return fmt.Errorf("bundled JDK %s/%s has no release file: its version and architecture are unknown", t.top, home)
		}
		info, err := parseRelease(data)
		if err != nil {
			return fmt.Errorf("%s/%s/release: %w", t.top, home, err)
		}
		jdk := info.jdk(home)
		jdk.Bundled = true
		if err := checkJDKPlatform(jdk, info, a.HostOS, a.HostArch); err != nil {
			return fmt.Errorf("bundled JDK %s/%s: %w", t.top, home, err)
		}
		a.BundledJDK = &jdk
		break
	}
	return nil
}

// checkJDKPlatform refuses a bundled JDK whose release file names another
// OS or architecture than the host's, or does not name an architecture.
func checkJDKPlatform(jdk JDK, info releaseInfo, goos, goarch string) error {
	if jdk.Arch == "" {
		return errors.New("its release file has no OS_ARCH: cannot tell whether it runs on this host")
	}
	if goarch != "" && jdk.Arch != goarch {
		return fmt.Errorf("built for %s (OS_ARCH=%q), but the host is %s/%s", jdk.Arch, info.rawArch, goos, goarch)
	}
	if goos != "" && jdk.OS != "" && jdk.OS != goos {
		return fmt.Errorf("built for %s (OS_NAME=%q), but the host is %s/%s", jdk.OS, info.rawOS, goos, goarch)
	}
	return nil
}

// engineJar matches the core server jar: lib/elasticsearch-8.17.0.jar, not
// lib/elasticsearch-x-content-8.17.0.jar (a version starts with a digit).
var engineJar = regexp.MustCompile(`^(elasticsearch|opensearch)-([0-9][0-9A-Za-z.\-]*)\.jar$`)

// engineFromJars finds the one core server jar among lib/'s file names.
func engineFromJars(jars []string) (engine, version string, err error) {
	var found []string
	for _, name := range jars {
		m := engineJar.FindStringSubmatch(name)
		if m == nil {
			continue
		}
		if _, err := parseDistVersion(m[2]); err != nil {
			continue
		}
		if engine != "" && (engine != m[1] || version != m[2]) {
			found = append(found, name)
			continue
		}
		engine, version = m[1], m[2]
		found = append(found, name)
	}
	switch {
	case engine == "":
		return "", "", errors.New("no engine jar: want elasticsearch-<version>.jar or opensearch-<version>.jar")
	case len(found) > 1:
		slices.Sort(found)
		return "", "", fmt.Errorf("more than one engine jar: %s", strings.Join(found, ", "))
	}
	return engine, version, nil
}

// scanZip reads a zip's central directory; only a bundled JDK's small
// release file is decompressed.
func scanZip(f *os.File, toc *tableOfContents) error {
	st, err := f.Stat()
	if err != nil {
		return err
	}
	zr, err := zip.NewReader(f, st.Size())
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return fmt.Errorf("read zip directory: %w", err)
	}
	for _, zf := range zr.File {
		read := func() ([]byte, error) {
			rc, err := zf.Open()
			if err != nil {
				return nil, err
			}
			defer rc.Close()
			return readLimited(rc)
		}
		dir := zf.FileInfo().IsDir() || strings.HasSuffix(zf.Name, "/")
		if err := toc.add(zf.Name, dir, read); err != nil {
			return err
		}
	}
	return nil
}

// scanTarGz reads a tar.gz through once: a tar has no index, so every
// header is visited, and content is skipped except a bundled JDK's release
// file.
func scanTarGz(r io.Reader, toc *tableOfContents) error {
	gz, err := gzip.NewReader(r)
	if err != nil {
		return fmt.Errorf("read gzip header: %w", err)
	}
	defer gz.Close()
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read tar: %w", err)
		}
		switch h.Typeflag {
		case tar.TypeXGlobalHeader, tar.TypeXHeader, tar.TypeGNULongName, tar.TypeGNULongLink:
			continue
		}
		read := func() ([]byte, error) { return readLimited(tr) }
		if err := toc.add(h.Name, h.Typeflag == tar.TypeDir, read); err != nil {
			return err
		}
	}
}

func readLimited(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxReleaseFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxReleaseFileSize {
		return nil, fmt.Errorf("larger than %d bytes: not a JDK release file", maxReleaseFileSize)
	}
	return data, nil
}

// distVersion is an engine version: major.minor.patch and an optional
// pre-release suffix ("9.0.0-beta1", "8.17.0-SNAPSHOT").
type distVersion struct {
	major, minor, patch int
	pre                 string
}

// distVersionPattern allows no leading zeros, as no release has them, so
// that a version and its parsed form print the same.
var distVersionPattern = regexp.MustCompile(`^(0|[1-9][0-9]{0,5})\.(0|[1-9][0-9]{0,5})\.(0|[1-9][0-9]{0,5})(?:-([0-9A-Za-z][0-9A-Za-z.\-]*))?$`)

// parseDistVersion parses an engine version string.
func parseDistVersion(s string) (distVersion, error) {
	m := distVersionPattern.FindStringSubmatch(s)
	if m == nil {
		return distVersion{}, fmt.Errorf("version %q: want major.minor.patch, such as 8.17.0", s)
	}
	// The pattern bounds each number to six digits, so Atoi cannot fail.
	major, _ := strconv.Atoi(m[1])
	minor, _ := strconv.Atoi(m[2])
	patch, _ := strconv.Atoi(m[3])
	return distVersion{major: major, minor: minor, patch: patch, pre: m[4]}, nil
}

// atLeast reports whether v is major.minor or later (pre-releases count as
// their release: 7.12.0-rc1 behaves as 7.12).
func (v distVersion) atLeast(major, minor int) bool {
	return v.major > major || v.major == major && v.minor >= minor
}

func (v distVersion) String() string {
	s := fmt.Sprintf("%d.%d.%d", v.major, v.minor, v.patch)
	if v.pre != "" {
		s += "-" + v.pre
	}
	return s
}
