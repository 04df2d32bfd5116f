package remote

import (
	"reflect"
	"testing"
)

func TestExposedListeners(t *testing.T) {
	const procNet = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:076C 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0000000000000000 100 0 0 10 0
   1: 00000000:8F3D 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1 0000000000000000 100 0 0 10 0
   2: 0B00D50A:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3 1 0000000000000000 100 0 0 10 0
   3: 0100007F:8F3D 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 4 1 0000000000000000 100 0 0 10 0
  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:076C 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5 1 0000000000000000 100 0 0 10 0
   1: 00000000000000000000000000000000:8F3D 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 6 1 0000000000000000 100 0 0 10 0
`
	for _, tt := range []struct {
		port int
		want []string
	}{
		{1900, nil}, // 127.0.0.1 and ::1 only
		{36669, []string{"0.0.0.0:36669", "[::]:36669"}}, // 0x8F3D, bound everywhere (GatewayPorts yes)
		{22, []string{"10.213.0.11:22"}},
		{9999, nil},
	} {
		if got := exposedListeners(procNet, tt.port); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("port %d: %q, want %q", tt.port, got, tt.want)
		}
	}
}
