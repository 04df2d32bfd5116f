package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"rally/provision"
	"rally/telemetry"
)

// provisionerCmd is what a coordinator runs on a provisioner host, with
// the rally binary it pushed there: JSON request on stdin, JSON result on
// stdout, progress lines on stderr (wiring over provision's PrepareHost,
// StartHost and StopHost).
type provisionerCmd struct {
	Prepare provisionerPrepareCmd `cmd:"" help:"Check the user nodes run as and find ports (a provision.PrepareRequest on stdin)."`
	Start   provisionerStartCmd   `cmd:"" help:"Install and start this host's nodes and wait for the cluster (a provision.StartRequest on stdin)."`
	Stop    provisionerStopCmd    `cmd:"" help:"Stop the nodes recorded in a directory."`
	Sample  provisionerSampleCmd  `cmd:"" help:"Sample the nodes' processes and this host from /proc until stdin ends, then print the summary (telemetry.Summary)."`
}

type provisionerPrepareCmd struct{}

func (provisionerPrepareCmd) Run(e *env) error {
	var req provision.PrepareRequest
	if err := decodeRequest(e.Stdin, &req); err != nil {
		return err
	}
	if req.NetworkHost == "" {
		req.NetworkHost = sshServerAddress(os.Getenv("SSH_CONNECTION"))
	}
	res, err := provision.PrepareHost(req)
	return encodeResult(e.Stdout, res, err)
}

type provisionerStartCmd struct{}

func (provisionerStartCmd) Run(ctx context.Context, e *env) error {
	var req provision.StartRequest
	if err := decodeRequest(e.Stdin, &req); err != nil {
		return err
	}
	res, err := provision.StartHost(ctx, req, func(line string) { fmt.Fprintln(e.Stderr, line) })
	return encodeResult(e.Stdout, res, err)
}

type provisionerStopCmd struct {
	Dir   string        `required:"" placeholder:"DIR" help:"The directory of the cluster's nodes on this host."`
	Grace time.Duration `default:"30s" help:"How long a node has to stop after SIGTERM before SIGKILL."`
}

func (c provisionerStopCmd) Run(ctx context.Context, e *env) error {
	res, err := provision.StopHost(ctx, c.Dir, c.Grace)
	return encodeResult(e.Stdout, res, err)
}

type provisionerSampleCmd struct {
	Dir      string        `required:"" placeholder:"DIR" help:"The directory of the cluster's nodes on this host."`
	Interval time.Duration `default:"1s" help:"Time between samples."`
}

// Run samples until stdin ends (the coordinator closes it at the race's
// end) or the process is told to stop, then prints what it saw.
func (c provisionerSampleCmd) Run(ctx context.Context, e *env) error {
	cl, err := provision.LoadCluster(c.Dir)
	if err != nil {
		return err
	}
	s := telemetry.NewSampler("", c.Interval, cl.Targets("/proc"))
	s.Start()
	ended := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, e.Stdin)
		close(ended)
	}()
	select {
	case <-ended:
	case <-ctx.Done():
	}
	return encodeResult(e.Stdout, s.Stop(), nil)
}

func encodeResult(w io.Writer, res any, err error) error {
	if err != nil {
		return err
	}
	return json.NewEncoder(w).Encode(res)
}

func decodeRequest(r io.Reader, v any) error {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return usageErrorf("provisioner: request on stdin: %v", err)
	}
	return nil
}

// sshServerAddress is this host's address as the SSH client reached it:
// the third field of SSH_CONNECTION ("client-ip client-port server-ip
// server-port"), the address other hosts of the network reach it at too.
func sshServerAddress(conn string) string {
	f := strings.Fields(conn)
	if len(f) != 4 {
		return ""
	}
	return f[2]
}
