package driver

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"time"
)

// clientConfig is what every transport takes from a target and the client
// options: where requests go, the default timeout, the headers sent with
// every request and whether bodies are compressed. Both Clients embed it.
type clientConfig struct {
	base    string // scheme://host + path prefix
	timeout time.Duration
	auth    string
	headers []Header
	gzip    bool
	// tls is the TLS configuration of an https target, nil for http.
	tls *tls.Config
}

// newClientConfig applies the client options to target: use_ssl makes it
// https, a missing timeout is DefaultTimeout, and an https target gets the
// TLS configuration (certificates are read here, once).
func newClientConfig(target Target, opts ClientOptions) (clientConfig, error) {
	scheme := target.Scheme
	if opts.UseSSL {
		scheme = "https"
	}
	c := clientConfig{
		base:    scheme + "://" + target.Host + target.PathPrefix,
		timeout: opts.Timeout,
		auth:    opts.AuthorizationHeader(),
		gzip:    opts.HTTPCompress,
	}
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	for k, v := range opts.Headers {
		c.headers = append(c.headers, Header{Name: k, Value: v})
	}
	if scheme == "https" {
		var err error
		if c.tls, err = tlsConfig(opts); err != nil {
			return clientConfig{}, err
		}
	}
	return c, nil
}

// dialer is the dialer of the client's connection: connecting may take at
// most the request timeout, capped at 30 s.
func (c *clientConfig) dialer() *net.Dialer {
	return &net.Dialer{Timeout: min(c.timeout, 30*time.Second), KeepAlive: 30 * time.Second}
}

// requestTimeout is the request's own timeout, else the client's.
func (c *clientConfig) requestTimeout(req *Request) time.Duration {
	if req.Timeout > 0 {
		return req.Timeout
	}
	return c.timeout
}

// setHeaders calls set with the headers of a request other than its
// content headers, in this order: Authorization, the client-option
// headers, the request's own (so they win), and Accept-Encoding when
// responses may come compressed.
func (c *clientConfig) setHeaders(req *Request, set func(name, value string)) {
	if c.auth != "" {
		set("Authorization", c.auth)
	}
	for i := range c.headers {
		set(c.headers[i].Name, c.headers[i].Value)
	}
	for i := range req.Headers {
		set(req.Headers[i].Name, req.Headers[i].Value)
	}
	if c.gzip {
		set("Accept-Encoding", "gzip")
	}
}

// contentType is the request's Content-Type, JSON unless it says otherwise.
func contentType(req *Request) string {
	if req.ContentType != "" {
		return req.ContentType
	}
	return "application/json"
}

// tlsConfig builds the TLS configuration from the client options.
func tlsConfig(o ClientOptions) (*tls.Config, error) {
	c := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: o.InsecureSkipVerify} // #nosec G402 -- verify_certs:false is the user's explicit choice, as in Rally
	if o.CACerts != "" {
		pem, err := os.ReadFile(o.CACerts)
		if err != nil {
			return nil, fmt.Errorf("client option ca_certs: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("client option ca_certs: %s: no PEM certificate in it", o.CACerts)
		}
		c.RootCAs = pool
	}
	if o.ClientCert != "" {
		cert, err := tls.LoadX509KeyPair(o.ClientCert, o.ClientKey)
		if err != nil {
			return nil, fmt.Errorf("client options client_cert/client_key: %w", err)
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c, nil
}
