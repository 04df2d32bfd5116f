// Command rally-lab starts and stops lab hosts (see package lab) from a
// shell, for trying rally by hand and for end-to-end tests. It is a test
// tool, not part of rally.
//
//	rally-lab up -n 3 --dir DIR      start 3 hosts; they keep running after rally-lab exits
//	rally-lab down --dir DIR         kill the hosts and delete their namespaces and bridge
//	rally-lab cut --dir DIR HOST     take HOST's link down (SSH to it stalls)
//	rally-lab heal --dir DIR HOST    bring HOST's link back up
//	rally-lab ps --dir DIR HOST      list the processes running in HOST
//	rally-lab exec --dir DIR HOST -- ARGV...   run a command inside HOST (not over SSH)
//	rally-lab hold-port ADDR         listen on ADDR and accept and discard connections until killed
//
// --dir defaults to $RALLY_LAB_DIR. Exit codes: 0 ok, 1 failure, 2 bad
// usage; exec exits with the command's own exit code.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"rally/lab"
)

const usage = `usage:
  rally-lab up [-n HOSTS] [--provisioners N] [--nodes N] [--run-as USER] [--dir DIR]
  rally-lab down --dir DIR
  rally-lab cut --dir DIR HOST
  rally-lab heal --dir DIR HOST
  rally-lab ps --dir DIR HOST
  rally-lab exec --dir DIR HOST -- ARGV...
  rally-lab hold-port ADDR
--dir defaults to $RALLY_LAB_DIR.
`

// usageError is bad usage: exit code 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// exitError carries a command's exit code through (rally-lab exec).
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	var ue usageError
	var ee exitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		os.Exit(ee.code)
	case errors.As(err, &ue):
		fmt.Fprintf(os.Stderr, "rally-lab: %v\n%s", err, usage)
		os.Exit(2)
	default:
		fmt.Fprintf(os.Stderr, "rally-lab: %v\n", err)
		os.Exit(1)
	}
}

// run executes one rally-lab command line.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return usageError{"no command given"}
	}
	cmd, args := args[0], args[1:]
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	dir := fs.String("dir", os.Getenv("RALLY_LAB_DIR"), "lab directory (keys, configs, state); default $RALLY_LAB_DIR")
	hosts := fs.Int("n", 3, "number of hosts (up)")
	provisioners := fs.Int("provisioners", 0, "how many of the hosts, the last ones, are provisioner hosts only (up)")
	nodes := fs.Int("nodes", 0, "nodes of each provisioner host, the inventory's nodes (up; default 1)")
	runAs := fs.String("run-as", "", "the unprivileged user nodes run as on the hosts, the inventory's run_as (up)")
	timeout := fs.Duration("timeout", 30*time.Second, "how long up may take")
	if cmd == "-h" || cmd == "--help" || cmd == "help" {
		fmt.Fprint(stdout, usage)
		return nil
	}
	if cmd == "hold-port" {
		if len(args) != 1 {
			return usageError{"hold-port takes one address, e.g. 127.0.0.1:1900"}
		}
		return holdPort(ctx, args[0], stdout)
	}
	if err := fs.Parse(args); err != nil {
		return usageError{fmt.Sprintf("%s: %v", cmd, err)}
	}
	rest := fs.Args()
	if cmd == "up" {
		if len(rest) != 0 {
			return usageError{fmt.Sprintf("up takes no arguments, got %q", rest)}
		}
		ctx, cancel := context.WithTimeout(ctx, *timeout)
		defer cancel()
		return up(ctx, lab.Options{Hosts: *hosts, Provisioners: *provisioners, NodesPerHost: *nodes, RunAs: *runAs, Dir: *dir}, stdout)
	}
	if *dir == "" {
		return usageError{cmd + ": --dir is required (or set RALLY_LAB_DIR)"}
	}
	l, err := lab.Open(*dir)
	if err != nil {
		return err
	}
	if cmd == "down" {
		if len(rest) != 0 {
			return usageError{fmt.Sprintf("down takes no arguments, got %q", rest)}
		}
		if err := l.Close(); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "lab %s is down\n", l.RunID())
		return nil
	}
	if len(rest) == 0 {
		return usageError{cmd + ": no host given"}
	}
	host, rest := rest[0], rest[1:]
	switch cmd {
	case "cut", "heal":
		if len(rest) != 0 {
			return usageError{fmt.Sprintf("%s takes one host, got extra %q", cmd, rest)}
		}
		if cmd == "cut" {
			return l.Cut(host)
		}
		return l.Heal(host)
	case "ps":
		if len(rest) != 0 {
			return usageError{fmt.Sprintf("ps takes one host, got extra %q", rest)}
		}
		procs, err := l.Processes(ctx, host)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "PID\tHOST PID\tCOMMAND")
		for _, p := range procs {
			fmt.Fprintf(tw, "%d\t%d\t%s\n", p.PID, p.HostPID, p.Command)
		}
		return tw.Flush()
	case "exec":
		if len(rest) > 0 && rest[0] == "--" {
			rest = rest[1:]
		}
		if len(rest) == 0 {
			return usageError{"exec: no command given after the host"}
		}
		return execIn(ctx, l, host, rest, stdout)
	default:
		return usageError{fmt.Sprintf("unknown command %q", cmd)}
	}
}

// up starts a lab and prints where its inventory is and one line per host.
func up(ctx context.Context, opts lab.Options, stdout io.Writer) error {
	start := time.Now()
	l, err := lab.Start(ctx, opts)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "inventory: %s\n", l.InventoryFile())
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	for _, h := range l.Hosts() {
		fmt.Fprintf(tw, "%s\t%s:%d\tnetns %s\tinit pid %d\troles %s\n",
			h.Name, h.Address, h.Port, h.Netns, h.InitPID, strings.Join(h.Roles, ","))
	}
	tw.Flush()
	fmt.Fprintf(stdout, "lab %s up in %v: ssh -F %s h1; rally-lab down --dir %s\n",
		l.RunID(), time.Since(start).Round(time.Millisecond), l.SSHConfigFile(), l.Dir())
	return nil
}

// execIn runs argv inside host with this process's stdin, stdout and
// stderr, and passes its exit code on.
func execIn(ctx context.Context, l *lab.Lab, host string, argv []string, stdout io.Writer) error {
	c, err := l.Command(ctx, host, argv...)
	if err != nil {
		return err
	}
	c.Stdin, c.Stdout, c.Stderr = os.Stdin, stdout, os.Stderr
	err = c.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return exitError{ee.ExitCode()}
	}
	return err
}

// holdPort listens on addr and accepts and discards connections until ctx
// ends (SIGINT or SIGTERM) or the process is killed.
func holdPort(ctx context.Context, addr string, stdout io.Writer) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("hold-port: %w", err)
	}
	fmt.Fprintf(stdout, "holding %s\n", ln.Addr())
	go func() {
		<-ctx.Done()
		ln.Close()
	}()
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("hold-port %s: %w", addr, err)
		}
		go func() {
			defer c.Close()
			c.SetDeadline(time.Now().Add(time.Minute))
			io.Copy(io.Discard, c)
		}()
	}
}
