package certs

import (
	"strings"
	"testing"
	"time"
)

// The WebTransport certificate is what browsers accept by hash (ECDSA, at
// most 14 days), signed by the relay certificate; VerifyWebTransport
// accepts it only with the pinned relay certificate behind it.
func TestWebTransportCertificate(t *testing.T) {
	relay, err := InMemory()
	if err != nil {
		t.Fatal(err)
	}
	other, err := InMemory()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if _, err := NewWebTransport(relay, now, 15*24*time.Hour); err == nil {
		t.Fatal("a 15-day certificate was made")
	}
	c, err := NewWebTransport(relay, now, 10*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Certificate) != 2 || c.Leaf == nil || c.Leaf.NotAfter.Sub(c.Leaf.NotBefore) > MaxWebTransportValidity {
		t.Fatalf("chain of %d, leaf %v", len(c.Certificate), c.Leaf)
	}
	fp := FingerprintOf(relay)
	leaf, err := VerifyWebTransport(c.Certificate, fp, now)
	if err != nil || leaf.SerialNumber.Cmp(c.Leaf.SerialNumber) != 0 {
		t.Fatalf("verify: %v", err)
	}
	if len(WebTransportHash(c.Certificate[0])) != 32 {
		t.Fatal("hash is not SHA-256")
	}
	for _, tc := range []struct {
		name  string
		chain [][]byte
		pin   string
		at    time.Time
		want  string
	}{
		{"no chain", c.Certificate[:1], fp, now, "no WebTransport certificate chain"},
		{"another relay", c.Certificate, FingerprintOf(other), now, "not the trusted"},
		{"not signed by the relay", [][]byte{c.Certificate[0], other.Certificate[0]}, FingerprintOf(other), now, "not signed by the relay"},
		{"expired", c.Certificate, fp, now.Add(11 * 24 * time.Hour), "not valid now"},
	} {
		if _, err := VerifyWebTransport(tc.chain, tc.pin, tc.at); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want %q", tc.name, err, tc.want)
		}
	}
}
