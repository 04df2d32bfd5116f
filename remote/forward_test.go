package remote_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"rally/remote"
	"rally/remote/sshtest"
)

func TestListenRemote(t *testing.T) {
	s := sshtest.Start(t, sshtest.Options{})
	c := dial(t, baseTarget(s))

	// connectFromRemote makes the host (here: the sshd's machine) connect
	// to its own loopback port and send a line, which must arrive on l.
	connectFromRemote := func(t *testing.T, l net.Listener, port int) {
		t.Helper()
		accepted := make(chan string, 1)
		go func() {
			conn, err := l.Accept()
			if err != nil {
				accepted <- "accept: " + err.Error()
				return
			}
			defer conn.Close()
			conn.SetDeadline(time.Now().Add(5 * time.Second))
			line, _ := bufio.NewReader(conn).ReadString('\n')
			accepted <- line
		}()
		cmd := fmt.Sprintf("bash -c 'exec 3<>/dev/tcp/127.0.0.1/%d; echo hello-from-host >&3'", port)
		res, err := c.Run(context.Background(), cmd, nil)
		if err != nil || res.ExitStatus != 0 {
			t.Fatalf("remote connect: %v %s", err, res.Stderr)
		}
		select {
		case got := <-accepted:
			if got != "hello-from-host\n" {
				t.Fatalf("listener got %q", got)
			}
		case <-time.After(15 * time.Second):
			t.Fatal("no connection arrived on the listener")
		}
	}

	t.Run("port_zero_lets_the_server_choose", func(t *testing.T) {
		l, err := c.ListenRemote("127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		p := l.Addr().(*net.TCPAddr).Port
		if p == 0 {
			t.Fatalf("Addr() = %v: port not read back", l.Addr())
		}
		connectFromRemote(t, l, p)
	})

	t.Run("fixed_free_port", func(t *testing.T) {
		p, err := sshtest.FreePort()
		if err != nil {
			t.Fatal(err)
		}
		l, err := c.ListenRemote("127.0.0.1:" + strconv.Itoa(p))
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		if got := l.Addr().(*net.TCPAddr).Port; got != p {
			t.Errorf("Addr() port = %d, want %d", got, p)
		}
		connectFromRemote(t, l, p)
	})

	t.Run("taken_port_is_ErrForwardDenied", func(t *testing.T) {
		taken := listenLoopback(t) // same machine as the sshd
		_, err := c.ListenRemote(taken.Addr().String())
		if !errors.Is(err, remote.ErrForwardDenied) {
			t.Errorf("err = %v, want ErrForwardDenied", err)
		}
	})

	for _, addr := range []string{"0.0.0.0:0", "10.1.2.3:1900", ":1900", "[::]:1900", "example.com:1900", "127.0.0.1"} {
		t.Run("refuses_"+addr, func(t *testing.T) {
			l, err := c.ListenRemote(addr)
			if err == nil {
				l.Close()
				t.Fatalf("ListenRemote(%q) succeeded", addr)
			}
			if !strings.HasPrefix(err.Error(), "h1 ("+s.Addr()+"): remote forward ") {
				t.Errorf("message %q", err)
			}
		})
	}
}

func TestSFTP(t *testing.T) {
	s := sshtest.Start(t, sshtest.Options{})
	c := dial(t, baseTarget(s))
	sc, err := c.SFTP()
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := c.SFTP(); again != sc {
		t.Error("SFTP() returned a second client for the same connection")
	}
	path := t.TempDir() + "/up.bin"
	data := make([]byte, 3<<20+17)
	for i := range data {
		data[i] = byte(i * 7)
	}
	f, err := sc.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.ReadFrom(bytesReader(data)); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	res, err := c.Run(context.Background(), "sha256sum "+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Fields(string(res.Stdout))[0], sha256hex(data); got != want {
		t.Errorf("remote checksum %s, want %s", got, want)
	}
}

// TestListenRemoteRefusesAGatewayPortsServer: an sshd that binds remote
// forwards on every address (GatewayPorts yes) is refused, and the forward
// is cancelled.
func TestListenRemoteRefusesAGatewayPortsServer(t *testing.T) {
	s := sshtest.Start(t, sshtest.Options{ExtraConfig: []string{"GatewayPorts yes"}})
	c := dial(t, baseTarget(s))
	l, err := c.ListenRemote("127.0.0.1:0")
	if err == nil {
		l.Close()
		t.Fatal("a forward bound beyond loopback must be refused")
	}
	if !strings.Contains(err.Error(), "not loopback only") {
		t.Errorf("err = %v", err)
	}
}
