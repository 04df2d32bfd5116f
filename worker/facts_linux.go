package worker

import "syscall"

// kernelRelease is `uname -r`.
func kernelRelease() string {
	var u syscall.Utsname
	if err := syscall.Uname(&u); err != nil {
		return ""
	}
	return cString(u.Release[:])
}

// cString converts a NUL-terminated utsname field; its element type is
// int8 on some architectures and uint8 on others.
func cString[T int8 | uint8](a []T) string {
	b := make([]byte, 0, len(a))
	for _, c := range a {
		if c == 0 {
			break
		}
		b = append(b, byte(c))
	}
	return string(b)
}
