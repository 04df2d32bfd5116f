package payload

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"os"
	"testing"
)

// writeELF writes a minimal 64-bit little-endian ELF executable for
// machine to path: one PT_LOAD segment and, when interp is set, a PT_INTERP
// naming the dynamic loader (what makes a binary dynamically linked). body
// is appended so that files can differ in content.
func writeELF(t testing.TB, path string, machine elf.Machine, interp bool, body string) {
	t.Helper()
	const ehsize, phsize = 64, 56
	interpPath := "/lib64/ld-linux-x86-64.so.2\x00"
	progs := []elf.Prog64{{Type: uint32(elf.PT_LOAD), Flags: uint32(elf.PF_R | elf.PF_X), Align: 0x1000}}
	if interp {
		progs = append(progs, elf.Prog64{Type: uint32(elf.PT_INTERP), Flags: uint32(elf.PF_R), Align: 1})
	}
	dataOff := uint64(ehsize + phsize*len(progs))
	if interp {
		progs[1].Off = dataOff
		progs[1].Filesz = uint64(len(interpPath))
		progs[1].Memsz = uint64(len(interpPath))
	}
	h := elf.Header64{
		Type: uint16(elf.ET_EXEC), Machine: uint16(machine), Version: uint32(elf.EV_CURRENT),
		Entry: 0x401000, Phoff: ehsize, Ehsize: ehsize, Phentsize: phsize, Phnum: uint16(len(progs)),
	}
	copy(h.Ident[:], elf.ELFMAG)
	h.Ident[elf.EI_CLASS] = byte(elf.ELFCLASS64)
	h.Ident[elf.EI_DATA] = byte(elf.ELFDATA2LSB)
	h.Ident[elf.EI_VERSION] = byte(elf.EV_CURRENT)
	var buf bytes.Buffer
	binary.Write(&buf, binary.LittleEndian, h)
	for _, p := range progs {
		binary.Write(&buf, binary.LittleEndian, p)
	}
	if interp {
		buf.WriteString(interpPath)
	}
	buf.WriteString(body)
	if err := os.WriteFile(path, buf.Bytes(), 0o755); err != nil {
		t.Fatal(err)
	}
}

func TestWriteELFIsReadable(t *testing.T) {
	path := t.TempDir() + "/x"
	writeELF(t, path, elf.EM_AARCH64, true, "body")
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Machine != elf.EM_AARCH64 || len(f.Progs) != 2 || f.Progs[1].Type != elf.PT_INTERP {
		t.Fatalf("fake ELF reads back as machine %v, progs %v", f.Machine, f.Progs)
	}
}
