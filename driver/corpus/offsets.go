package corpus

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// OffsetInterval is how many lines apart the offset table's entries are
// (Rally's value).
const OffsetInterval = 50000

// OffsetEntry maps a line number to the byte offset where that line starts
// (line numbers count from 0, so entry {50000, o} says the first 50000
// lines end at byte o).
type OffsetEntry struct {
	Line   int64
	Offset int64
}

// OffsetTablePath is where the offset table of a documents file lives.
func OffsetTablePath(dataFile string) string { return dataFile + ".offset" }

// EnsureOffsetTable writes <dataFile>.offset in Rally's format ("line;offset"
// every OffsetInterval lines) unless a well-formed table at least as new as
// the data file exists. When it builds the table it also checks the file
// has at least minLines lines.
func EnsureOffsetTable(dataFile string, minLines int64, progress func(Event)) error {
	if ok, err := offsetTableValid(dataFile); err != nil {
		return err
	} else if ok {
		return nil
	}
	lines, err := BuildOffsetTable(dataFile, progress)
	if err != nil {
		return err
	}
	if lines < minLines {
		return fmt.Errorf("%s: has %d lines but the track declares %d (document-count × lines per document)", dataFile, lines, minLines)
	}
	return nil
}

// offsetTableValid reports whether the table exists, is not older than the
// data file and parses.
func offsetTableValid(dataFile string) (bool, error) {
	dfi, err := os.Stat(dataFile)
	if err != nil {
		return false, err
	}
	ofi, err := os.Stat(OffsetTablePath(dataFile))
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if ofi.ModTime().Before(dfi.ModTime()) {
		return false, nil
	}
	if _, err := ReadOffsetTable(dataFile); err != nil {
		return false, nil
	}
	return true, nil
}

// BuildOffsetTable scans dataFile and writes its offset table (via a
// temporary file), returning the number of lines.
func BuildOffsetTable(dataFile string, progress func(Event)) (int64, error) {
	f, err := os.Open(dataFile)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	out, err := createTemp(OffsetTablePath(dataFile))
	if err != nil {
		return 0, err
	}
	tmp := out.Name()
	bw := bufio.NewWriter(out)
	var lines, offset int64
	var lastByte byte = '\n'
	buf := make([]byte, 1<<20)
	last := time.Now()
	var werr error
	for {
		n, rerr := f.Read(buf)
		chunk := buf[:n]
		if n > 0 {
			lastByte = chunk[n-1]
		}
		for len(chunk) > 0 {
			i := bytes.IndexByte(chunk, '\n')
			if i < 0 {
				offset += int64(len(chunk))
				break
			}
			offset += int64(i + 1)
			chunk = chunk[i+1:]
			lines++
			if lines%OffsetInterval == 0 {
				_, werr = fmt.Fprintf(bw, "%d;%d\n", lines, offset)
			}
		}
		if progress != nil && time.Since(last) >= 500*time.Millisecond {
			last = time.Now()
			progress(Event{Kind: KindOffsetTable, File: filepath.Base(dataFile), Done: offset, Total: fi.Size()})
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			out.Close()
			os.Remove(tmp)
			return 0, rerr
		}
	}
	if lastByte != '\n' {
		// A last line without a newline is still a line.
		lines++
	}
	if werr == nil {
		werr = bw.Flush()
	}
	if cerr := out.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		os.Remove(tmp)
		return 0, fmt.Errorf("write offset table: %w", werr)
	}
	if err := os.Rename(tmp, OffsetTablePath(dataFile)); err != nil {
		return 0, err
	}
	if progress != nil {
		progress(Event{Kind: KindOffsetTable, File: filepath.Base(dataFile), Done: fi.Size(), Total: fi.Size(), Final: true})
	}
	return lines, nil
}

// ReadOffsetTable reads the offset table of dataFile. An empty table (a
// file shorter than OffsetInterval lines) is valid.
func ReadOffsetTable(dataFile string) ([]OffsetEntry, error) {
	data, err := os.ReadFile(OffsetTablePath(dataFile))
	if err != nil {
		return nil, err
	}
	var entries []OffsetEntry
	for n, line := range bytes.Split(data, []byte{'\n'}) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		a, b, ok := bytes.Cut(line, []byte{';'})
		if !ok {
			return nil, fmt.Errorf("%s:%d: want line;offset", OffsetTablePath(dataFile), n+1)
		}
		l, err1 := strconv.ParseInt(string(a), 10, 64)
		o, err2 := strconv.ParseInt(string(b), 10, 64)
		if err1 != nil || err2 != nil || l < 0 || o < 0 {
			return nil, fmt.Errorf("%s:%d: want two non-negative integers", OffsetTablePath(dataFile), n+1)
		}
		if len(entries) > 0 && (l <= entries[len(entries)-1].Line || o <= entries[len(entries)-1].Offset) {
			return nil, fmt.Errorf("%s:%d: entries out of order", OffsetTablePath(dataFile), n+1)
		}
		entries = append(entries, OffsetEntry{Line: l, Offset: o})
	}
	return entries, nil
}

// closestOffset returns the entry with the largest line <= target (the
// start of the file when none).
func closestOffset(entries []OffsetEntry, target int64) OffsetEntry {
	best := OffsetEntry{}
	for _, e := range entries {
		if e.Line > target {
			break
		}
		best = e
	}
	return best
}
