package lab

import (
	"net/netip"
	"slices"
	"testing"
)

func TestParseProcNetTCP(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []string
	}{
		{
			name: "ipv4_listeners_only",
			text: `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0B4DD50A:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12804 1 0 100 0 0 10 0
   1: 0100007F:076C 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12805 1 0 100 0 0 10 0
   2: 0B4DD50A:0016 014DD50A:93E0 01 00000000:00000000 02:000A7E7F 00000000     0        0 12900 2 0 20 4 30 10 -1
`,
			want: []string{"10.213.77.11:22", "127.0.0.1:1900"},
		},
		{
			name: "ipv6_loopback_any_and_v4_mapped",
			text: `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:0016 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0
   1: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1 0 100 0 0 10 0
   2: 0000000000000000FFFF00000100007F:076C 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3 1 0 100 0 0 10 0
`,
			want: []string{"[::1]:22", "[::]:8080", "127.0.0.1:1900"},
		},
		{name: "header_only", text: "  sl  local_address rem_address   st\n", want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseProcNetTCP([]byte(tt.text))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	if _, err := parseProcNetTCP([]byte("h\n 0: ZZ:0016 0:0 0A\n")); err == nil {
		t.Error("bad hex address accepted")
	}
}

func TestFreeSubnet(t *testing.T) {
	p := netip.MustParsePrefix
	tests := []struct {
		name  string
		used  []netip.Prefix
		start int
		want  string
	}{
		{name: "nothing_used_takes_the_start", start: 6, want: "10.213.7.0/24"},
		{name: "an_address_in_the_subnet_skips_it", used: []netip.Prefix{p("10.213.7.1/24")}, start: 6, want: "10.213.8.0/24"},
		{name: "a_wider_network_skips_all_it_covers", used: []netip.Prefix{p("10.213.0.0/20")}, start: 0, want: "10.213.16.0/24"},
		{name: "a_host_route_inside_skips_it", used: []netip.Prefix{p("10.213.9.77/32")}, start: 8, want: "10.213.10.0/24"},
		{name: "wraps_around_after_254", used: []netip.Prefix{p("10.213.254.0/24")}, start: 253, want: "10.213.1.0/24"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := freeSubnet(tt.used, tt.start)
			if err != nil || got.String() != tt.want {
				t.Errorf("got %v, %v; want %s", got, err, tt.want)
			}
		})
	}
	if got, err := freeSubnet([]netip.Prefix{p("10.0.0.0/8")}, 0); err == nil {
		t.Errorf("a used 10/8 left %v free", got)
	}
}
