package lab

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	mrand "math/rand/v2"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"syscall"
)

// lockFile serialises subnet choice between labs started by different
// processes (test binaries of several packages run at once).
const lockFile = "/run/lock/rally-lab.lock"

// makeNetwork creates the bridge on a free subnet, then each host's network
// namespace and veth pair.
func (l *Lab) makeNetwork(ctx context.Context) error {
	if err := l.makeBridge(ctx); err != nil {
		return err
	}
	prefix := netip.MustParsePrefix(l.st.Subnet)
	for i := range l.st.Hosts {
		h := &l.st.Hosts[i]
		h.Address = hostAddr(prefix, 11+i).String()
		steps := [][]string{
			{"netns", "add", h.Netns},
			{"link", "add", h.Veth, "type", "veth", "peer", "name", "eth0", "netns", h.Netns},
			{"link", "set", h.Veth, "master", l.st.Bridge, "up"},
			{"-n", h.Netns, "link", "set", "lo", "up"},
			{"-n", h.Netns, "addr", "add", h.Address + "/24", "dev", "eth0"},
			{"-n", h.Netns, "link", "set", "eth0", "up"},
		}
		for _, s := range steps {
			if err := ip(ctx, s...); err != nil {
				return fmt.Errorf("%s: network: %w", h.Name, err)
			}
		}
	}
	return l.save()
}

// makeBridge picks a /24 of 10.213.0.0/16 that overlaps no address or route
// of the machine, and claims it by giving the bridge its .1, all under a
// lock so that two labs starting at once cannot pick the same one.
func (l *Lab) makeBridge(ctx context.Context) error {
	if err := os.MkdirAll("/run/lock", 0o755); err != nil {
		return fmt.Errorf("bridge: %w", err)
	}
	f, err := os.OpenFile(lockFile, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return fmt.Errorf("bridge: lock: %w", err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("bridge: lock %s: %w", lockFile, err)
	}
	defer syscall.Flock(int(f.Fd()), syscall.LOCK_UN)

	used, err := usedPrefixes(ctx)
	if err != nil {
		return fmt.Errorf("bridge: %w", err)
	}
	subnet, err := freeSubnet(used, mrand.IntN(254))
	if err != nil {
		return fmt.Errorf("bridge: %w", err)
	}
	gw := hostAddr(subnet, 1)
	br := l.st.Bridge
	if err := ip(ctx, "link", "add", br, "type", "bridge"); err != nil {
		return fmt.Errorf("bridge: %w", err)
	}
	// With br_netfilter loaded, bridged frames between hosts would go
	// through the machine's iptables FORWARD chain; keep the lab out of it.
	// Older kernels lack these options, which only matters with a firewall.
	_ = ip(ctx, "link", "set", br, "type", "bridge", "nf_call_iptables", "0", "nf_call_ip6tables", "0", "nf_call_arptables", "0")
	if err := ip(ctx, "addr", "add", gw.String()+"/24", "dev", br); err != nil {
		return fmt.Errorf("bridge: %w", err)
	}
	if err := ip(ctx, "link", "set", br, "up"); err != nil {
		return fmt.Errorf("bridge: %w", err)
	}
	l.st.Subnet = subnet.String()
	l.st.Gateway = gw.String()
	return l.save()
}

// hostAddr returns address n of a /24.
func hostAddr(p netip.Prefix, n int) netip.Addr {
	a := p.Masked().Addr().As4()
	a[3] = byte(n)
	return netip.AddrFrom4(a)
}

// freeSubnet returns the first 10.213.X.0/24, X from 1 to 254 starting at
// start, that overlaps none of used.
func freeSubnet(used []netip.Prefix, start int) (netip.Prefix, error) {
	for i := range 254 {
		x := 1 + (start+i)%254
		cand := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 213, byte(x), 0}), 24)
		free := true
		for _, u := range used {
			if u.Overlaps(cand) {
				free = false
				break
			}
		}
		if free {
			return cand, nil
		}
	}
	return netip.Prefix{}, errors.New("no free /24 left in 10.213.0.0/16")
}

// usedPrefixes lists the IPv4 networks of every address and route of the
// machine's network namespace.
func usedPrefixes(ctx context.Context) ([]netip.Prefix, error) {
	var out []netip.Prefix
	addrJSON, err := ipOutput(ctx, "-j", "-4", "addr", "show")
	if err != nil {
		return nil, err
	}
	var links []struct {
		AddrInfo []struct {
			Local     string `json:"local"`
			PrefixLen int    `json:"prefixlen"`
		} `json:"addr_info"`
	}
	if err := json.Unmarshal(addrJSON, &links); err != nil {
		return nil, fmt.Errorf("parse ip -j addr: %w", err)
	}
	for _, ln := range links {
		for _, a := range ln.AddrInfo {
			if addr, err := netip.ParseAddr(a.Local); err == nil {
				if p, err := addr.Prefix(a.PrefixLen); err == nil {
					out = append(out, p)
				}
			}
		}
	}
	routeJSON, err := ipOutput(ctx, "-j", "-4", "route", "show", "table", "all")
	if err != nil {
		return nil, err
	}
	var routes []struct {
		Dst string `json:"dst"`
	}
	if err := json.Unmarshal(routeJSON, &routes); err != nil {
		return nil, fmt.Errorf("parse ip -j route: %w", err)
	}
	for _, r := range routes {
		if p, err := netip.ParsePrefix(r.Dst); err == nil {
			out = append(out, p)
		} else if a, err := netip.ParseAddr(r.Dst); err == nil {
			out = append(out, netip.PrefixFrom(a, 32))
		}
		// "default" is skipped: it overlaps everything and claims nothing.
	}
	return out, nil
}

// ip runs ip(8) with args.
func ip(ctx context.Context, args ...string) error {
	_, err := ipOutput(ctx, args...)
	return err
}

// ipOutput runs ip(8) with args and returns its standard output.
func ipOutput(ctx context.Context, args ...string) ([]byte, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "ip", args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}

// deleteLink deletes a network interface of the machine's namespace if it
// exists (deleting one end of a veth pair deletes both).
func deleteLink(name string) error {
	if name == "" {
		return nil
	}
	if _, err := os.Stat("/sys/class/net/" + name); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return ip(context.Background(), "link", "del", name)
}

// deleteNetns deletes a named network namespace if it exists.
func deleteNetns(name string) error {
	if name == "" {
		return nil
	}
	if _, err := os.Stat("/run/netns/" + name); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return ip(context.Background(), "netns", "del", name)
}

// Cut takes the host's link down: packets to and from it are dropped, so new
// SSH connections time out and open ones stall (no reset is sent).
func (l *Lab) Cut(name string) error {
	return l.setLink(name, "down")
}

// Heal brings the host's link back up after Cut.
func (l *Lab) Heal(name string) error {
	return l.setLink(name, "up")
}

func (l *Lab) setLink(name, updown string) error {
	h, err := l.hostState(name)
	if err != nil {
		return err
	}
	if err := ip(context.Background(), "link", "set", h.Veth, updown); err != nil {
		return fmt.Errorf("%s (%s): link %s: %w", h.Name, h.Address, updown, err)
	}
	return nil
}
