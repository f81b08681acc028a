package main

import (
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hark-intercom/hark/internal/clitest"
	"github.com/hark-intercom/hark/internal/gateway"
)

// gateway --help shows each flag with one placeholder word and one default.
func TestHelpText(t *testing.T) {
	for _, p := range clitest.FlagProblems(app()) {
		t.Error(p)
	}
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// TestChooseTLSRefuses: flags that contradict each other are refused with
// a sentence that says which to leave out.
func TestChooseTLSRefuses(t *testing.T) {
	data := t.TempDir()
	for _, c := range []struct {
		o    tlsOptions
		want string
	}{
		{tlsOptions{lan: true, http: true}, "leave out --http"},
		{tlsOptions{acme: []string{"a.example.com"}, cert: "c.pem", key: "k.pem"}, "--cert/--key give one"},
		{tlsOptions{acme: []string{"a.example.com"}, http: true}, "--http turns HTTPS off"},
		{tlsOptions{acme: []string{"a.example.com"}, lan: true}, "--lan for a local address"},
		{tlsOptions{acme: []string{"192.0.2.1"}}, "not IP addresses"},
		{tlsOptions{cert: "c.pem"}, "--cert and --key go together"},
		{tlsOptions{lan: true, listen: "intercom.lan:8443", listenSet: true}, "give the IP address phones use"},
		{tlsOptions{lan: true, listen: "8443", listenSet: true}, "want HOST:PORT"},
	} {
		c.o.data = data
		if c.o.listen == "" {
			c.o.listen = "127.0.0.1:8080"
		}
		_, err := chooseTLS(c.o, quietLog())
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want an error saying %q", c.o, err, c.want)
		}
	}
	// The same through the command line.
	err := app().Run([]string{"gateway", "--lan", "--http", "--data", data})
	if err == nil || !strings.Contains(err.Error(), "leave out --http") {
		t.Errorf("gateway --lan --http: %v", err)
	}
}

// TestChooseTLSLAN: --lan serves HTTPS on an address phones reach, with a
// certificate naming it, on port 8443 unless --listen says otherwise.
func TestChooseTLSLAN(t *testing.T) {
	data := t.TempDir()
	ch, err := chooseTLS(tlsOptions{lan: true, listen: "192.0.2.9:9443", listenSet: true, data: data}, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	if ch.listen != "192.0.2.9:9443" || ch.cfg == nil || ch.selfSigned == nil {
		t.Fatalf("choice %+v", ch)
	}
	if err := ch.selfSigned.VerifyHostname("192.0.2.9"); err != nil {
		t.Errorf("certificate: %v", err)
	}
	if _, err := os.Stat(filepath.Join(data, "gateway-lan-192.0.2.9.crt")); err != nil {
		t.Error(err)
	}
	// Without an address: this machine's LAN address, port 8443 (or --listen's).
	ip, _, err := gateway.LANAddress()
	if err != nil {
		t.Skipf("this machine has no LAN address to test with: %v", err)
	}
	for _, c := range []struct {
		o    tlsOptions
		want string
	}{
		{tlsOptions{listen: "127.0.0.1:8080"}, net.JoinHostPort(ip.String(), "8443")},
		{tlsOptions{listen: ":9000", listenSet: true}, net.JoinHostPort(ip.String(), "9000")},
		{tlsOptions{listen: "0.0.0.0:9001", listenSet: true}, net.JoinHostPort(ip.String(), "9001")},
	} {
		c.o.lan, c.o.data = true, data
		ch, err := chooseTLS(c.o, quietLog())
		if err != nil || ch.listen != c.want {
			t.Errorf("--lan --listen %s: %q, %v; want %s", c.o.listen, ch.listen, err, c.want)
		}
	}
}

// TestChooseTLSACME: --acme listens on port 443 with autocert's TLS
// configuration and its cache in DATA/acme. Nothing is asked of a
// certificate authority here (tests cannot reach one): the first TLS
// handshake would.
func TestChooseTLSACME(t *testing.T) {
	data := t.TempDir()
	ch, err := chooseTLS(tlsOptions{acme: []string{"intercom.example.com"}, listen: "127.0.0.1:8080", data: data}, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	if ch.listen != ":443" || ch.acme == nil || ch.cfg == nil || ch.cfg.GetCertificate == nil || !slices.Contains(ch.cfg.NextProtos, "acme-tls/1") {
		t.Errorf("choice %+v", ch)
	}
	if _, err := os.Stat(filepath.Join(data, "acme")); err != nil {
		t.Error(err)
	}
	ch, err = chooseTLS(tlsOptions{acme: []string{"intercom.example.com"}, listen: ":8443", listenSet: true, data: data}, quietLog())
	if err != nil || ch.listen != ":8443" {
		t.Errorf("--acme --listen :8443: %q, %v", ch.listen, err)
	}
}

// TestChooseTLSPlain: the old behaviour stays: plain HTTP on loopback, the
// self-signed certificate elsewhere.
func TestChooseTLSPlain(t *testing.T) {
	data := t.TempDir()
	ch, err := chooseTLS(tlsOptions{listen: "127.0.0.1:8080", data: data}, quietLog())
	if err != nil || ch.cfg != nil {
		t.Errorf("loopback: %+v %v", ch, err)
	}
	ch, err = chooseTLS(tlsOptions{listen: ":8443", listenSet: true, data: data}, quietLog())
	if err != nil || ch.cfg == nil || ch.selfSigned == nil {
		t.Errorf(":8443: %+v %v", ch, err)
	}
}
