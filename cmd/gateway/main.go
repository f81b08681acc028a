// Command gateway serves Hark's web page and bridges browsers to a relay.
//
//	gateway --relay HOST:PORT --listen ADDR [--data DIR] [--cert F --key F]
//	        [--fingerprint SHA256:…] [--metrics ADDR]
//
// Every flag can also be set by an environment variable (HARK_GATEWAY_…, see --help).
package main

import (
	"context"
	"crypto/tls"
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
directory (browsers will ask you to accept it once), or uses --cert/--key.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "relay", Value: "127.0.0.1:4275", EnvVars: []string{"HARK_GATEWAY_RELAY"},
				Usage: "the relay's UDP address, HOST:PORT"},
			&cli.StringFlag{Name: "fingerprint", EnvVars: []string{"HARK_GATEWAY_FINGERPRINT"},
				Usage: "the relay certificate's fingerprint, `SHA256:…` as \"relay fingerprint --data DIR\" prints it on the relay's machine; without it the first one seen is trusted and recorded in DATA/known_relays"},
			&cli.StringFlag{Name: "listen", Value: "127.0.0.1:8080", EnvVars: []string{"HARK_GATEWAY_LISTEN"},
				Usage: "TCP address for the web page (HOST:PORT; \":8443\" is every interface, with HTTPS)"},
			&cli.StringFlag{Name: "data", Value: "hark-gateway-data", EnvVars: []string{"HARK_GATEWAY_DATA"},
				Usage: "directory for the gateway's certificate and known relays; created if missing"},
			&cli.StringSliceFlag{Name: "allowed-host", EnvVars: []string{"HARK_GATEWAY_ALLOWED_HOST"},
				Usage: "a host `NAME` people type to reach the page, when it is neither an IP address, localhost, this machine's name, the --listen name nor in the certificate (a reverse proxy's name, a DNS alias); repeat the flag for more, \"*.example.com\" allows every name under example.com. Requests for other names are refused, so that a hostile web page cannot reach the gateway under a name of its own (DNS rebinding)"},
			&cli.StringFlag{Name: "cert", EnvVars: []string{"HARK_GATEWAY_CERT"}, Usage: "TLS certificate file (PEM) instead of the self-signed one"},
			&cli.StringFlag{Name: "key", EnvVars: []string{"HARK_GATEWAY_KEY"}, Usage: "TLS key file (PEM) for --cert"},
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
	listen, data := c.String("listen"), c.String("data")
	if err := os.MkdirAll(data, 0o700); err != nil {
		return fmt.Errorf("cannot create the data directory: %w", err)
	}

	var tlsCfg *tls.Config
	scheme := "http"
	switch {
	case c.String("cert") != "" || c.String("key") != "":
		if c.String("cert") == "" || c.String("key") == "" {
			return errors.New("--cert and --key go together")
		}
		cert, err := tls.LoadX509KeyPair(c.String("cert"), c.String("key"))
		if err != nil {
			return fmt.Errorf("loading --cert/--key: %w", err)
		}
		tlsCfg = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	case gateway.IsLoopback(listen) || c.Bool("http"):
	default:
		host, _, _ := net.SplitHostPort(listen)
		cert, fp, err := gateway.LoadOrCreateCert(data, []string{host})
		if err != nil {
			return err
		}
		log.Info("using the self-signed certificate; browsers ask to accept it once", "file", filepath.Join(data, gateway.CertName+".crt"), "fingerprint", fp)
		tlsCfg = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	if tlsCfg != nil {
		scheme = "https"
	}

	allowed := c.StringSlice("allowed-host")
	if host, _, err := net.SplitHostPort(listen); err == nil && host != "" && net.ParseIP(host) == nil {
		allowed = append(allowed, host) // --listen intercom.lan:8443
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
		AllowedHosts: allowed,
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
	log.Info("gateway ready", "url", scheme+"://"+displayAddr(ln.Addr().String())+"/", "relay", c.String("relay"))
	fmt.Fprintf(os.Stderr, "Open %s://%s/ in a browser.\n", scheme, displayAddr(ln.Addr().String()))
	return srv.Serve(ctx, ln)
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
