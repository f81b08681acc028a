package gateway

import (
	"crypto/tls"
	"fmt"
	"net"

	"github.com/hark-intercom/hark/internal/certs"
)

// CertName is the base name of the gateway's generated certificate in its
// data directory: gateway.crt and gateway.key (see package certs).
const CertName = "gateway"

// LoadOrCreateCert returns the self-signed certificate kept in dir, making
// it (valid for hosts, plus localhost, the loopback addresses and this
// machine's name) on first use. It also returns the certificate's SHA-256
// fingerprint for people to compare with what their browser shows.
func LoadOrCreateCert(dir string, hosts []string) (tls.Certificate, string, error) {
	cert, _, err := certs.LoadOrCreateFor(dir, CertName, hosts)
	if err != nil {
		return tls.Certificate{}, "", fmt.Errorf("the gateway certificate in %s: %w", dir, err)
	}
	return cert, certs.FingerprintOf(cert), nil
}

// Fingerprint formats a certificate's SHA-256 as "SHA256:base64".
func Fingerprint(der []byte) string { return certs.Fingerprint(der) }

// IsLoopback reports whether a listen address only accepts local
// connections (so plain HTTP is fine: browsers treat localhost as secure).
func IsLoopback(listen string) bool {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		host = listen
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
