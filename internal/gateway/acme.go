package gateway

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"

	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"
)

// ACME describes getting the gateway's certificate from an ACME certificate
// authority (Let's Encrypt unless DirectoryURL names another, such as a
// site's own step-ca) for sites with a domain name. The zero value is not
// usable: Domains and CacheDir are required.
type ACME struct {
	Domains      []string // the names people type; each must point at this machine
	Email        string   // the CA writes here about expiring certificates; optional
	CacheDir     string   // keeps the account key and certificates between runs
	DirectoryURL string   // the CA's ACME directory; "" is Let's Encrypt
}

// Manager checks a and returns the autocert manager that gets and renews
// the certificates: its TLSConfig answers TLS-ALPN-01 challenges on the
// HTTPS port (which must then be 443), its HTTPHandler HTTP-01 challenges
// on port 80. It makes CacheDir (mode 0700) but contacts nobody: the CA is
// asked on the first TLS handshake for a domain.
func (a ACME) Manager() (*autocert.Manager, error) {
	if len(a.Domains) == 0 {
		return nil, errors.New("--acme needs the domain name people type to reach the gateway, e.g. --acme intercom.example.com")
	}
	var names []string
	for _, d := range a.Domains {
		d = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(d)), ".")
		switch {
		case d == "":
			return nil, errors.New("--acme: an empty domain name")
		case net.ParseIP(d) != nil:
			return nil, fmt.Errorf("--acme %s: certificate authorities certify domain names, not IP addresses; for phones on a local network use --lan", d)
		case strings.Contains(d, "*"):
			return nil, fmt.Errorf("--acme %s: a wildcard needs a DNS challenge, which the gateway cannot answer; name each host", d)
		case !strings.Contains(d, "."):
			return nil, fmt.Errorf("--acme %s: not a public domain name (it has no dot); a certificate authority cannot check it", d)
		}
		names = append(names, d)
	}
	if a.CacheDir == "" {
		return nil, errors.New("ACME: CacheDir is required")
	}
	if err := os.MkdirAll(a.CacheDir, 0o700); err != nil {
		return nil, fmt.Errorf("cannot create the certificate cache: %w", err)
	}
	m := &autocert.Manager{
		Prompt:     autocert.AcceptTOS,
		HostPolicy: autocert.HostWhitelist(names...),
		Cache:      autocert.DirCache(a.CacheDir),
		Email:      a.Email,
	}
	if a.DirectoryURL != "" {
		m.Client = &acme.Client{DirectoryURL: a.DirectoryURL}
	}
	return m, nil
}

// ACMETLSConfig is the server configuration with m's certificates (and the
// TLS-ALPN-01 challenge answers).
func ACMETLSConfig(m *autocert.Manager) *tls.Config {
	c := m.TLSConfig()
	c.MinVersion = tls.VersionTLS12
	return c
}
