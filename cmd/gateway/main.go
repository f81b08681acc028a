// Command gateway serves Hark's web page and bridges browsers to a relay.
//
//	gateway --relay HOST:PORT --listen ADDR [--data DIR] [--cert F --key F]
//	        [--fingerprint SHA256:…] [--metrics ADDR]
//	gateway --lan …            phones on this machine's local network (HTTPS, QR code)
//	gateway --acme DOMAIN …    a certificate from Let's Encrypt (or --acme-ca)
//
// Every flag can also be set by an environment variable (HARK_GATEWAY_…, see --help).
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/urfave/cli/v2"
	"golang.org/x/crypto/acme/autocert"

	"github.com/hark-intercom/hark/internal/gateway"
)

func main() {
	if err := app().Run(os.Args); err != nil {
		fmt.Fprintln(os.Stderr, "gateway:", err)
		os.Exit(1)
	}
}

func app() *cli.App {
	return &cli.App{
		Name:  "gateway",
		Usage: "Hark web gateway: serves the intercom's web page and connects browsers to the relay",
		Description: `Open the address it prints in a browser (a phone works too): log in, hold the
big button (or the space bar) and talk. Each browser user becomes one session of
the relay.

On a loopback address (127.0.0.1, localhost) the page is served over plain HTTP.
On any other address it is served over HTTPS, because browsers only let secure
pages use the microphone: the gateway makes a self-signed certificate in its data
directory (browsers will ask you to accept it once), or uses --cert/--key.

Phones on the same network: --lan serves the page on this machine's address
on the local network and prints it with a QR code for the phone's camera and
what to tap on an iPhone or an Android phone to accept the certificate.
A site with a domain name: --acme intercom.example.com gets a certificate
from Let's Encrypt (the name must point at this machine, and ports 443 and 80
must be reachable from the internet), or from the site's own ACME server
with --acme-ca.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "relay", Value: "127.0.0.1:4275", EnvVars: []string{"HARK_GATEWAY_RELAY"},
				Usage: "the relay's UDP address, HOST:PORT; several relays of one cluster separated by commas (a:4275,b:4275): each browser session moves to the next when its relay dies"},
			&cli.StringFlag{Name: "fingerprint", EnvVars: []string{"HARK_GATEWAY_FINGERPRINT"},
				Usage: "the relay certificate's fingerprint, `SHA256:…` as \"relay fingerprint --data DIR\" prints it on the relay's machine; without it the first one seen is trusted and recorded in DATA/known_relays"},
			&cli.BoolFlag{Name: "webtransport", Value: true, EnvVars: []string{"HARK_GATEWAY_WEBTRANSPORT"},
				Usage: "let pages talk to the relay over WebTransport when their browser can (the relay must have it on too); they fall back to the websocket"},
			&cli.StringFlag{Name: "webtransport-host", EnvVars: []string{"HARK_GATEWAY_WEBTRANSPORT_HOST"},
				Usage: "the relay's host name as browsers reach it (default: --relay's host, or the gateway's when --relay is on loopback)"},
			&cli.StringFlag{Name: "listen", Value: "127.0.0.1:8080", EnvVars: []string{"HARK_GATEWAY_LISTEN"},
				Usage: "TCP address for the web page (HOST:PORT; \":8443\" is every interface, with HTTPS)"},
			&cli.StringFlag{Name: "data", Value: "hark-gateway-data", EnvVars: []string{"HARK_GATEWAY_DATA"},
				Usage: "directory for the gateway's certificate and known relays; created if missing"},
			&cli.StringSliceFlag{Name: "allowed-host", EnvVars: []string{"HARK_GATEWAY_ALLOWED_HOST"},
				Usage: "a host `NAME` people type to reach the page, when it is neither an IP address, localhost, this machine's name, the --listen name nor in the certificate (a reverse proxy's name, a DNS alias); repeat the flag for more, \"*.example.com\" allows every name under example.com. Requests for other names are refused, so that a hostile web page cannot reach the gateway under a name of its own (DNS rebinding)"},
			&cli.StringFlag{Name: "cert", EnvVars: []string{"HARK_GATEWAY_CERT"}, Usage: "TLS certificate file (PEM) instead of the self-signed one"},
			&cli.StringFlag{Name: "key", EnvVars: []string{"HARK_GATEWAY_KEY"}, Usage: "TLS key file (PEM) for --cert"},
			&cli.BoolFlag{Name: "lan", EnvVars: []string{"HARK_GATEWAY_LAN"},
				Usage: "serve phones on this machine's local network: listen on its LAN address (port 8443 unless --listen gives a port or an address) with HTTPS, and print the address, a QR code of it and how to accept the certificate on iPhone and Android"},
			&cli.StringSliceFlag{Name: "acme", EnvVars: []string{"HARK_GATEWAY_ACME"},
				Usage: "get the certificate for `DOMAIN` from an ACME certificate authority (Let's Encrypt unless --acme-ca); the name must point at this machine and --listen be port 443 (the default with --acme); repeat for more names. Certificates are kept in DATA/acme"},
			&cli.StringFlag{Name: "acme-email", EnvVars: []string{"HARK_GATEWAY_ACME_EMAIL"},
				Usage: "an address the certificate authority writes to about expiring certificates (optional)"},
			&cli.StringFlag{Name: "acme-ca", EnvVars: []string{"HARK_GATEWAY_ACME_CA"},
				Usage: "the ACME directory `URL` of another certificate authority (a site's own step-ca, Let's Encrypt's staging)"},
			&cli.StringFlag{Name: "acme-http", Value: ":80", EnvVars: []string{"HARK_GATEWAY_ACME_HTTP"},
				Usage: "with --acme: also answer the authority's HTTP challenges (and send browsers to HTTPS) on this address; \"\" for none (the TLS challenge on port 443 still works)"},
			&cli.BoolFlag{Name: "http", EnvVars: []string{"HARK_GATEWAY_HTTP"},
				Usage: "serve plain HTTP even on a non-loopback address (behind a TLS proxy only: browsers refuse the microphone otherwise)"},
			&cli.StringFlag{Name: "metrics", EnvVars: []string{"HARK_GATEWAY_METRICS"},
				Usage: "serve Prometheus metrics on this TCP address at /metrics (e.g. 127.0.0.1:9276); off when empty"},
			&cli.Int64Flag{Name: "max-clip", Value: 10 << 20, EnvVars: []string{"HARK_GATEWAY_MAX_CLIP"},
				Usage: "largest WAV clip a browser may upload, in bytes"},
			&cli.IntFlag{Name: "max-sessions", Value: 2000, EnvVars: []string{"HARK_GATEWAY_MAX_SESSIONS"},
				Usage: "most browser sessions at once"},
			&cli.StringFlag{Name: "log-level", Value: "info", EnvVars: []string{"HARK_LOG_LEVEL"}, Usage: "debug, info, warn or error"},
			&cli.BoolFlag{Name: "log-json", EnvVars: []string{"HARK_LOG_JSON"}, Usage: "write logs as JSON lines"},
		},
		Action: serve,
	}
}

func newLogger(c *cli.Context) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(c.String("log-level"))); err != nil {
		return nil, fmt.Errorf("--log-level %q: use debug, info, warn or error", c.String("log-level"))
	}
	opts := &slog.HandlerOptions{Level: lvl}
	if c.Bool("log-json") {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts)), nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts)), nil
}

func serve(c *cli.Context) error {
	log, err := newLogger(c)
	if err != nil {
		return err
	}
	if c.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (see gateway --help)", c.Args().First())
	}
	data := c.String("data")
	if err := os.MkdirAll(data, 0o700); err != nil {
		return fmt.Errorf("cannot create the data directory: %w", err)
	}

	choice, err := chooseTLS(tlsOptions{
		listen: c.String("listen"), listenSet: c.IsSet("listen"), data: data,
		cert: c.String("cert"), key: c.String("key"), http: c.Bool("http"), lan: c.Bool("lan"),
		acme: c.StringSlice("acme"), acmeEmail: c.String("acme-email"), acmeCA: c.String("acme-ca"),
	}, log)
	if err != nil {
		return err
	}
	listen := choice.listen
	tlsCfg, scheme := choice.cfg, "http"
	if tlsCfg != nil {
		scheme = "https"
	}

	allowed := c.StringSlice("allowed-host")
	if host, _, err := net.SplitHostPort(listen); err == nil && host != "" && net.ParseIP(host) == nil {
		allowed = append(allowed, host) // --listen intercom.lan:8443
	}
	allowed = append(allowed, c.StringSlice("acme")...)
	var certDER []byte
	if choice.selfSigned != nil {
		certDER = choice.selfSigned.Raw
	}
	var wt *gateway.RelayWebTransport
	if c.Bool("webtransport") {
		wt = &gateway.RelayWebTransport{Relay: c.String("relay"), Fingerprint: c.String("fingerprint"),
			KnownRelaysFile: filepath.Join(data, "known_relays"), Host: c.String("webtransport-host")}
	}
	reg := prometheus.NewRegistry()
	srv, err := gateway.New(gateway.Config{
		Dialer: &gateway.ClientDialer{
			Relay: c.String("relay"), Fingerprint: c.String("fingerprint"),
			KnownRelaysFile: filepath.Join(data, "known_relays"),
			Logger:          log.With("component", "client"), Software: "hark-gateway",
		},
		Logger: log, Registry: reg, TLS: tlsCfg,
		MaxClipBytes: c.Int64("max-clip"), MaxSessions: c.Int("max-sessions"),
		AllowedHosts: allowed, CertDER: certDER, WebTransport: wt,
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %w", listen, err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if addr := c.String("metrics"); addr != "" {
		mux := http.NewServeMux()
		mux.Handle("/metrics", srv.MetricsHandler())
		ms := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		mln, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("cannot listen for metrics on %s: %w", addr, err)
		}
		go ms.Serve(mln)
		defer ms.Close()
	}
	if choice.acme != nil {
		if addr := c.String("acme-http"); addr != "" {
			hln, err := net.Listen("tcp", addr)
			if err != nil {
				return fmt.Errorf("cannot listen on %s for the certificate authority's HTTP challenges: %w (use --acme-http \"\" to rely on the TLS challenge on port 443)", addr, err)
			}
			hs := &http.Server{Handler: choice.acme.HTTPHandler(nil), ReadHeaderTimeout: 10 * time.Second}
			go hs.Serve(hln)
			defer hs.Close()
		}
	}
	url := scheme + "://" + displayAddr(ln.Addr().String()) + "/"
	if choice.acme != nil {
		url = "https://" + c.StringSlice("acme")[0] + portSuffix(ln.Addr().String(), "443") + "/"
	}
	// The phone instructions come before "gateway ready", which `make run`
	// waits for before it shows them.
	if c.Bool("lan") {
		if err := gateway.PhoneHowTo(os.Stderr, url, choice.selfSigned); err != nil {
			return err
		}
	}
	log.Info("gateway ready", "url", url, "relay", c.String("relay"))
	if !c.Bool("lan") {
		fmt.Fprintf(os.Stderr, "Open %s in a browser.\n", url)
	}
	return srv.Serve(ctx, ln)
}

// tlsOptions are the flags that decide how the page is served.
type tlsOptions struct {
	listen    string
	listenSet bool // --listen was given (else the default loopback address)
	data      string
	cert, key string
	http, lan bool
	acme      []string
	acmeEmail string
	acmeCA    string
}

// tlsChoice is how the page is served: where, and with which certificate.
type tlsChoice struct {
	listen     string
	cfg        *tls.Config       // nil: plain HTTP
	selfSigned *x509.Certificate // the gateway's own certificate, if it made one
	acme       *autocert.Manager // with --acme
}

// chooseTLS turns the flags into the address and certificate to serve on.
// It contacts nobody: with --acme the authority is asked on the first
// TLS handshake.
func chooseTLS(o tlsOptions, log *slog.Logger) (tlsChoice, error) {
	ch := tlsChoice{listen: o.listen}
	certFlags := o.cert != "" || o.key != ""
	switch {
	case len(o.acme) > 0 && certFlags:
		return ch, errors.New("--acme gets a certificate, --cert/--key give one: use one or the other")
	case len(o.acme) > 0 && o.http:
		return ch, errors.New("--acme is for HTTPS and --http turns HTTPS off: use one or the other")
	case len(o.acme) > 0 && o.lan:
		return ch, errors.New("--acme is for a domain name and --lan for a local address: use one or the other")
	case o.lan && o.http:
		return ch, errors.New("--lan serves phones over HTTPS (phones only let a secure page use the microphone); leave out --http")
	case certFlags && (o.cert == "" || o.key == ""):
		return ch, errors.New("--cert and --key go together")
	}
	if o.lan {
		l, err := lanListen(o)
		if err != nil {
			return ch, err
		}
		ch.listen = l
	}
	if len(o.acme) > 0 && !o.listenSet {
		ch.listen = ":443"
	}
	switch {
	case len(o.acme) > 0:
		m, err := gateway.ACME{Domains: o.acme, Email: o.acmeEmail, CacheDir: filepath.Join(o.data, "acme"), DirectoryURL: o.acmeCA}.Manager()
		if err != nil {
			return ch, err
		}
		if _, port, _ := net.SplitHostPort(ch.listen); port != "443" {
			log.Warn("the certificate authority's TLS challenge only reaches port 443; with --listen on another port, --acme-http must reach port 80", "listen", ch.listen)
		}
		ch.acme, ch.cfg = m, gateway.ACMETLSConfig(m)
	case certFlags:
		cert, err := tls.LoadX509KeyPair(o.cert, o.key)
		if err != nil {
			return ch, fmt.Errorf("loading --cert/--key: %w", err)
		}
		ch.cfg = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	case o.lan:
		host, _, _ := net.SplitHostPort(ch.listen)
		cert, file, err := gateway.LANCert(o.data, net.ParseIP(host))
		if err != nil {
			return ch, err
		}
		ch.selfSigned, _ = x509.ParseCertificate(cert.Certificate[0])
		log.Info("using the self-signed certificate for phones on the local network", "file", file, "fingerprint", gateway.Fingerprint(cert.Certificate[0]))
		ch.cfg = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	case gateway.IsLoopback(ch.listen) || o.http:
	default:
		host, _, _ := net.SplitHostPort(ch.listen)
		cert, fp, err := gateway.LoadOrCreateCert(o.data, []string{host})
		if err != nil {
			return ch, err
		}
		ch.selfSigned, _ = x509.ParseCertificate(cert.Certificate[0])
		log.Info("using the self-signed certificate; browsers ask to accept it once", "file", filepath.Join(o.data, gateway.CertName+".crt"), "fingerprint", fp)
		ch.cfg = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	return ch, nil
}

// lanListen is --lan's address: this machine's LAN address, or the one
// --listen names, on --listen's port (8443 when --listen was not given).
func lanListen(o tlsOptions) (string, error) {
	port := "8443"
	var host string
	if o.listenSet {
		h, p, err := net.SplitHostPort(o.listen)
		if err != nil {
			return "", fmt.Errorf("--listen %q: want HOST:PORT or :PORT", o.listen)
		}
		port = p
		if ip := net.ParseIP(h); h != "" && (ip == nil || !ip.IsUnspecified() && !ip.IsLoopback()) {
			if ip == nil {
				return "", fmt.Errorf("--lan --listen %s: give the IP address phones use, not a name", o.listen)
			}
			host = h
		}
	}
	if host == "" {
		ip, _, err := gateway.LANAddress()
		if err != nil {
			return "", err
		}
		host = ip.String()
	}
	return net.JoinHostPort(host, port), nil
}

// portSuffix is ":PORT" of addr, or "" when it is the default port.
func portSuffix(addr, def string) string {
	_, port, err := net.SplitHostPort(addr)
	if err != nil || port == def {
		return ""
	}
	return ":" + port
}

// displayAddr turns ":8443" into "HOSTNAME:8443" for the printed URL.
func displayAddr(a string) string {
	host, port, err := net.SplitHostPort(a)
	if err != nil {
		return a
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		if h, err := os.Hostname(); err == nil {
			host = h
		}
	}
	return net.JoinHostPort(host, port)
}
