// Package certs makes, loads and fingerprints the relay's TLS certificate.
//
// A relay without a real certificate makes its own on first start: an ECDSA
// P-256 self-signed certificate valid for localhost, 127.0.0.1, ::1 and the
// machine's host name, written to DIR/NAME.crt and DIR/NAME.key (mode 0600).
// Clients cannot check such a certificate against a CA, so they pin its
// fingerprint instead, like SSH does with host keys:
//
//	SHA256:<base64 (no padding) of SHA-256 over the certificate's DER bytes>
//
// [Fingerprint] computes that string; [PinnedClientConfig] makes a client TLS
// configuration that accepts exactly the certificate with that fingerprint.
//
// All functions are safe for concurrent use.
package certs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Validity is how long a generated certificate is valid.
const Validity = 20 * 365 * 24 * time.Hour

// Fingerprint returns "SHA256:" followed by the unpadded standard base64 of
// the SHA-256 of a certificate's DER bytes.
func Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	return "SHA256:" + base64.RawStdEncoding.EncodeToString(sum[:])
}

// CheckFingerprint reports whether s has the form [Fingerprint] gives:
// "SHA256:" and 43 characters of unpadded standard base64 (a SHA-256 sum).
// The error says what is wrong in words for the person who typed it.
func CheckFingerprint(s string) error {
	const prefix = "SHA256:"
	const how = `a fingerprint is "SHA256:" followed by 43 characters (letters, digits, + and /), as "relay fingerprint" prints it`
	rest, ok := strings.CutPrefix(s, prefix)
	if !ok {
		return fmt.Errorf("%q is not a relay fingerprint: %s", s, how)
	}
	if len(rest) != 43 {
		return fmt.Errorf("%q is not a relay fingerprint: it has %d characters after SHA256:, not 43 (%s)", s, len(rest), how)
	}
	if sum, err := base64.RawStdEncoding.Strict().DecodeString(rest); err != nil || len(sum) != sha256.Size {
		return fmt.Errorf("%q is not a relay fingerprint: %s", s, how)
	}
	return nil
}

// FingerprintOf returns the [Fingerprint] of the leaf of c, or "" if c holds
// no certificate.
func FingerprintOf(c tls.Certificate) string {
	if len(c.Certificate) == 0 {
		return ""
	}
	return Fingerprint(c.Certificate[0])
}

// Hosts returns the names a generated certificate is made for: localhost,
// 127.0.0.1, ::1 and the host name (if known).
func Hosts() []string {
	h := []string{"localhost", "127.0.0.1", "::1"}
	if name, err := os.Hostname(); err == nil && name != "" && name != "localhost" {
		h = append(h, name)
	}
	return h
}

// Generate makes a self-signed ECDSA P-256 certificate for hosts (DNS names
// or IP addresses) and returns it and its key, PEM encoded.
func Generate(hosts []string) (certPEM, keyPEM []byte, err error) {
	return GenerateValid(hosts, Validity)
}

// GenerateValid is Generate for a certificate valid for validity from now.
func GenerateValid(hosts []string, validity time.Duration) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "hark relay", Organization: []string{"Hark intercom (self-signed)"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(validity),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if h != "" {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb})
	return certPEM, keyPEM, nil
}

// InMemory returns a fresh self-signed certificate for [Hosts] that is not
// written anywhere (for tests).
func InMemory() (tls.Certificate, error) {
	c, k, err := Generate(Hosts())
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.X509KeyPair(c, k)
}

// Load reads a certificate (chain) and key from PEM files.
func Load(certFile, keyFile string) (tls.Certificate, error) {
	c, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("loading TLS certificate %s with key %s: %w", certFile, keyFile, err)
	}
	return c, nil
}

// Paths returns the certificate and key file names LoadOrCreate uses.
func Paths(dir, name string) (certFile, keyFile string) {
	return filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
}

// LoadOrCreate loads DIR/NAME.crt and DIR/NAME.key, or, when neither exists,
// generates a self-signed certificate for [Hosts], writes it there (the key
// with mode 0600, creating dir with 0700 if needed) and returns it with
// created true. If only one of the two files exists it returns an error rather
// than overwrite anything.
func LoadOrCreate(dir, name string) (cert tls.Certificate, created bool, err error) {
	return LoadOrCreateFor(dir, name, nil)
}

// LoadOrCreateFor is LoadOrCreate for a certificate that also names extra
// hosts (DNS names or IP addresses; empty and unspecified addresses such as
// 0.0.0.0 are left out), for a server listening on a name of its own.
func LoadOrCreateFor(dir, name string, extra []string) (cert tls.Certificate, created bool, err error) {
	return LoadOrCreateValid(dir, name, extra, Validity)
}

// LoadOrCreateValid is LoadOrCreateFor where a new certificate is valid for
// validity (phones refuse to trust a server certificate valid for more than
// 825 days, see the gateway's LAN mode).
func LoadOrCreateValid(dir, name string, extra []string, validity time.Duration) (cert tls.Certificate, created bool, err error) {
	cf, kf := Paths(dir, name)
	_, cerr := os.Stat(cf)
	_, kerr := os.Stat(kf)
	switch {
	case cerr == nil && kerr == nil:
		c, err := Load(cf, kf)
		return c, false, err
	case errors.Is(cerr, fs.ErrNotExist) && errors.Is(kerr, fs.ErrNotExist):
	case cerr == nil:
		return tls.Certificate{}, false, fmt.Errorf("found %s but not its key %s: restore the key or remove the certificate to make a new one (clients will then see a new fingerprint)", cf, kf)
	case kerr == nil:
		return tls.Certificate{}, false, fmt.Errorf("found %s but not its certificate %s: restore the certificate or remove the key to make a new one", kf, cf)
	default:
		return tls.Certificate{}, false, errors.Join(cerr, kerr)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return tls.Certificate{}, false, err
	}
	hosts := Hosts()
	for _, h := range extra {
		if ip := net.ParseIP(h); h == "" || ip != nil && ip.IsUnspecified() || slices.Contains(hosts, h) {
			continue
		}
		hosts = append(hosts, h)
	}
	cp, kp, err := GenerateValid(hosts, validity)
	if err != nil {
		return tls.Certificate{}, false, err
	}
	if err := writeNew(kf, kp, 0o600); err != nil {
		return tls.Certificate{}, false, err
	}
	if err := writeNew(cf, cp, 0o644); err != nil {
		os.Remove(kf)
		return tls.Certificate{}, false, err
	}
	c, err := tls.X509KeyPair(cp, kp)
	return c, true, err
}

// ReadFingerprint returns the fingerprint of the first certificate in a PEM
// file.
func ReadFingerprint(certFile string) (string, error) {
	b, err := os.ReadFile(certFile)
	if err != nil {
		return "", err
	}
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			return "", fmt.Errorf("%s holds no PEM certificate", certFile)
		}
		if blk.Type == "CERTIFICATE" {
			return Fingerprint(blk.Bytes), nil
		}
	}
}

func writeNew(path string, data []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	return f.Close()
}

// ErrMismatch is returned (wrapped) by the verifier of [PinnedClientConfig]
// when the relay presents a certificate with another fingerprint.
var ErrMismatch = errors.New("certificate fingerprint mismatch")

// VerifyPinned returns a tls.Config.VerifyPeerCertificate function that
// accepts the peer only when its leaf certificate has fingerprint want
// (compared in constant time; the "SHA256:" prefix is required).
func VerifyPinned(want string) func(rawCerts [][]byte, _ [][]*x509.Certificate) error {
	want = strings.TrimSpace(want)
	return func(rawCerts [][]byte, _ [][]*x509.Certificate) error {
		if len(rawCerts) == 0 {
			return errors.New("the relay presented no certificate")
		}
		got := Fingerprint(rawCerts[0])
		if subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
			return fmt.Errorf("%w: the relay presented %s but %s was expected; if the relay was reinstalled, get its new fingerprint with `relay fingerprint` on the relay machine", ErrMismatch, got, want)
		}
		return nil
	}
}

// PinnedClientConfig returns a TLS 1.3 client configuration for alpn that
// trusts exactly the certificate whose fingerprint is fp, whatever its names
// or issuer. Certificate chain verification by CAs is replaced by the pin,
// which is stronger for a known relay.
func PinnedClientConfig(fp, alpn string) *tls.Config {
	return &tls.Config{
		MinVersion:            tls.VersionTLS13,
		NextProtos:            []string{alpn},
		InsecureSkipVerify:    true, // replaced by VerifyPeerCertificate below
		VerifyPeerCertificate: VerifyPinned(fp),
	}
}

// ServerConfig returns a TLS 1.3 server configuration presenting cert for alpn.
func ServerConfig(cert tls.Certificate, alpn string) *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		NextProtos:   []string{alpn},
		Certificates: []tls.Certificate{cert},
	}
}
