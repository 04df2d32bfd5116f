package corpus

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
)

// Bounds returns the first document and the number of documents of client
// `client` among `clients` for a file of `count` documents: client i gets
// [i*count/clients, (i+1)*count/clients). The slices of all clients are
// disjoint and cover the file exactly, so a host running only some of a
// task's clients reads exactly their share.
func Bounds(count int64, client, clients int) (first, n int64) {
	if clients < 1 || client < 0 || client >= clients || count <= 0 {
		return 0, 0
	}
	c, k := int64(client), int64(clients)
	first = c * count / k
	end := (c + 1) * count / k
	return first, end - first
}

// SliceReader reads the raw lines of one slice of a documents file, in
// order, never decoding them.
type SliceReader struct {
	f         *os.File
	br        *bufio.Reader
	path      string
	next      int64 // line number of the next line
	end       int64 // first line number past the slice
	firstLine int64
}

// readBufferSize is the reader's buffer: documents up to this size are
// returned without copying through a second buffer.
const readBufferSize = 256 << 10

// OpenSlice opens dataFile positioned at line firstLine (0-based) to read
// `lines` lines. It seeks with the offset table when there is one and
// skips the remaining lines by scanning. When dataFile is not there but
// pieces of it were pushed (see UsePieces), it reads the piece that holds
// the slice.
func OpenSlice(dataFile string, firstLine, lines int64) (*SliceReader, error) {
	if firstLine < 0 || lines < 0 {
		return nil, fmt.Errorf("open slice of %s: negative bounds", dataFile)
	}
	f, err := os.Open(dataFile)
	if errors.Is(err, os.ErrNotExist) {
		// No whole file: the piece pushed for this slice, if any.
		return openPieceSlice(dataFile, firstLine, lines)
	}
	if err != nil {
		return nil, err
	}
	start := OffsetEntry{}
	if entries, err := ReadOffsetTable(dataFile); err == nil {
		start = closestOffset(entries, firstLine)
	} else if !errors.Is(err, os.ErrNotExist) {
		f.Close()
		return nil, err
	}
	if _, err := f.Seek(start.Offset, io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	r := &SliceReader{f: f, br: bufio.NewReaderSize(f, readBufferSize), path: dataFile, next: start.Line, end: firstLine + lines, firstLine: firstLine}
	for r.next < firstLine {
		if _, err := r.br.ReadSlice('\n'); err != nil {
			if errors.Is(err, bufio.ErrBufferFull) {
				continue // a long line: keep skipping its rest
			}
			f.Close()
			if errors.Is(err, io.EOF) {
				return nil, fmt.Errorf("%s: ends at line %d, before the slice starts at line %d", dataFile, r.next, firstLine)
			}
			return nil, err
		}
		r.next++
	}
	return r, nil
}

// Remaining is the number of lines of the slice not read yet.
func (r *SliceReader) Remaining() int64 { return r.end - r.next }

// AppendLine appends the next line, with its trailing newline (added when
// the file's last line has none), to dst. At the end of the slice it
// returns dst unchanged and io.EOF. A file that ends before its slice does
// is an error naming the line.
func (r *SliceReader) AppendLine(dst []byte) ([]byte, error) {
	if r.next >= r.end {
		return dst, io.EOF
	}
	for {
		chunk, err := r.br.ReadSlice('\n')
		dst = append(dst, chunk...)
		switch {
		case err == nil:
			r.next++
			return dst, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			if len(chunk) > 0 {
				r.next++
				return append(dst, '\n'), nil
			}
			return dst, fmt.Errorf("%s: ends at line %d, before the end of the slice at line %d", r.path, r.next, r.end)
		default:
			return dst, err
		}
	}
}

// Close closes the file.
func (r *SliceReader) Close() error { return r.f.Close() }
