package remote_test

import (
	"bytes"
	"crypto/rand"
	"os"
	"path/filepath"
	"testing"

	"rally/remote/sshtest"
)

// BenchmarkSFTPWrite writes an 8 MiB file (a compressed worker build's
// size) over a loopback sshd (OpenSSH: larger packets) with concurrent
// SFTP writes; MB/s is the upload rate.
func BenchmarkSFTPWrite(b *testing.B) {
	s := sshtest.Start(b, sshtest.Options{})
	c := dial(b, baseTarget(s))
	sc, err := c.SFTP()
	if err != nil {
		b.Fatal(err)
	}
	data := make([]byte, 8<<20)
	rand.Read(data)
	dst := filepath.Join(b.TempDir(), "file")
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		f, err := sc.Create(dst)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := f.ReadFrom(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if st, err := os.Stat(dst); err != nil || st.Size() != int64(len(data)) {
		b.Fatalf("written file: %v, %v", st, err)
	}
}
