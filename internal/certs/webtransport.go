package certs

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"net"
	"time"
)

// WebTransport certificates. A browser opens a WebTransport session to a
// server whose certificate no authority signed only when the page gives the
// certificate's SHA-256 hash (serverCertificateHashes) and the certificate is
// an ECDSA one valid for at most 14 days. The relay makes such a certificate
// with [NewWebTransport], signed with its own key, so a gateway that pins the
// relay's certificate can check the short-lived one ([VerifyWebTransport])
// before giving its hash to the page.

// MaxWebTransportValidity is the longest validity browsers accept for a
// certificate given by its hash.
const MaxWebTransportValidity = 14 * 24 * time.Hour

// NewWebTransport makes an ECDSA P-256 certificate valid from now for
// validity (at most [MaxWebTransportValidity]), for the names of [Hosts],
// signed with parent's key and naming parent as its issuer. The result's
// Certificate chain is the new certificate followed by parent's, and Leaf
// is set.
func NewWebTransport(parent tls.Certificate, now time.Time, validity time.Duration) (tls.Certificate, error) {
	if validity <= 0 || validity > MaxWebTransportValidity {
		return tls.Certificate{}, fmt.Errorf("a WebTransport certificate must be valid for up to %v, not %v", MaxWebTransportValidity, validity)
	}
	if len(parent.Certificate) == 0 {
		return tls.Certificate{}, errors.New("no relay certificate to sign the WebTransport certificate with")
	}
	pc, err := x509.ParseCertificate(parent.Certificate[0])
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("the relay certificate does not parse: %w", err)
	}
	signer, ok := parent.PrivateKey.(crypto.Signer)
	if !ok {
		return tls.Certificate{}, errors.New("the relay certificate's key cannot sign")
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "hark relay (WebTransport)"},
		// A minute of slack for clocks; the whole span stays within validity.
		NotBefore:   now.Add(-time.Minute),
		NotAfter:    now.Add(validity - time.Minute),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range append(Hosts(), pc.DNSNames...) {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	tmpl.IPAddresses = append(tmpl.IPAddresses, pc.IPAddresses...)
	der, err := x509.CreateCertificate(rand.Reader, tmpl, pc, &key.PublicKey, signer)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("cannot sign the WebTransport certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der, parent.Certificate[0]}, PrivateKey: key, Leaf: leaf}, nil
}

// WebTransportHash is the SHA-256 of a certificate's DER bytes, the value a
// page gives WebTransport in serverCertificateHashes.
func WebTransportHash(der []byte) []byte {
	sum := sha256.Sum256(der)
	return sum[:]
}

// VerifyWebTransport checks a chain the relay presented to an "h3"
// handshake: the second certificate must be the relay certificate with
// fingerprint pinned, the first must be signed by it, be an ECDSA
// certificate and be valid now for at most [MaxWebTransportValidity]. It
// returns the first certificate.
func VerifyWebTransport(rawCerts [][]byte, pinned string, now time.Time) (*x509.Certificate, error) {
	if len(rawCerts) < 2 {
		return nil, errors.New("the relay presented no WebTransport certificate chain (is WebTransport on at the relay?)")
	}
	if got := Fingerprint(rawCerts[1]); got != pinned {
		return nil, fmt.Errorf("the relay's certificate has fingerprint %s, not the trusted %s", got, pinned)
	}
	parent, err := x509.ParseCertificate(rawCerts[1])
	if err != nil {
		return nil, err
	}
	leaf, err := x509.ParseCertificate(rawCerts[0])
	if err != nil {
		return nil, err
	}
	if err := parent.CheckSignature(leaf.SignatureAlgorithm, leaf.RawTBSCertificate, leaf.Signature); err != nil {
		return nil, fmt.Errorf("the WebTransport certificate is not signed by the relay's key: %w", err)
	}
	if _, ok := leaf.PublicKey.(*ecdsa.PublicKey); !ok {
		return nil, errors.New("the WebTransport certificate is not an ECDSA certificate")
	}
	if now.Before(leaf.NotBefore) || !now.Before(leaf.NotAfter) {
		return nil, fmt.Errorf("the WebTransport certificate is not valid now (from %v to %v)", leaf.NotBefore, leaf.NotAfter)
	}
	if leaf.NotAfter.Sub(leaf.NotBefore) > MaxWebTransportValidity {
		return nil, fmt.Errorf("the WebTransport certificate is valid for %v, more than browsers accept", leaf.NotAfter.Sub(leaf.NotBefore))
	}
	return leaf, nil
}
