package gateway

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	qrcode "github.com/skip2/go-qrcode"
)

func TestPickLAN(t *testing.T) {
	c := func(name string, up bool, ip string) ifaceAddr { return ifaceAddr{name, up, net.ParseIP(ip)} }
	ip, others := pickLAN([]ifaceAddr{
		c("lo", true, "127.0.0.1"), c("lo", true, "::1"),
		c("docker0", true, "172.17.0.1"), c("veth12ab", true, "10.1.2.3"),
		c("eth1", false, "10.0.0.3"), // down
		c("eth0", true, "203.0.113.5"), c("eth0", true, "fe80::1"),
		c("wlan0", true, "192.168.1.20"), c("wlan0", true, "2001:db8::20"),
	})
	if !ip.Equal(net.ParseIP("192.168.1.20")) || len(others) != 1 || !others[0].Equal(net.ParseIP("203.0.113.5")) {
		t.Errorf("picked %v, others %v; want 192.168.1.20 and [203.0.113.5]", ip, others)
	}
	if ip, _ := pickLAN([]ifaceAddr{c("lo", true, "127.0.0.1"), c("docker0", true, "172.17.0.1")}); ip != nil {
		t.Errorf("picked %v from loopback and a container bridge", ip)
	}
}

// TestLANCert: the certificate of the LAN mode names the address, is valid
// for at most 825 days (else iPhones refuse to trust it) and is kept: a
// second start uses it again, another address gets its own file and the
// first is left alone.
func TestLANCert(t *testing.T) {
	dir := t.TempDir()
	ip := net.ParseIP("192.0.2.7")
	cert, file, err := LANCert(dir, ip)
	if err != nil {
		t.Fatal(err)
	}
	if file != filepath.Join(dir, "gateway-lan-192.0.2.7.crt") {
		t.Errorf("certificate file %s", file)
	}
	x, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := x.VerifyHostname("192.0.2.7"); err != nil {
		t.Errorf("the certificate does not name the address: %v", err)
	}
	if d := x.NotAfter.Sub(x.NotBefore); d > 825*24*time.Hour {
		t.Errorf("valid for %v, more than the 825 days iOS trusts", d)
	}
	before, _ := os.ReadFile(file)
	again, _, err := LANCert(dir, ip)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.Certificate[0], cert.Certificate[0]) {
		t.Error("a second start made a new certificate: phones that installed the first would no longer trust the gateway")
	}
	if _, file2, err := LANCert(dir, net.ParseIP("192.0.2.8")); err != nil || file2 == file {
		t.Errorf("another address: %s, %v", file2, err)
	}
	if after, _ := os.ReadFile(file); !bytes.Equal(before, after) {
		t.Error("the first address's certificate file changed")
	}
}

func TestPhoneHowTo(t *testing.T) {
	cert, _, err := LANCert(t.TempDir(), net.ParseIP("192.0.2.7"))
	if err != nil {
		t.Fatal(err)
	}
	x, _ := x509.ParseCertificate(cert.Certificate[0])
	url := "https://192.0.2.7:8443/"
	var out bytes.Buffer
	if err := PhoneHowTo(&out, url, x); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	sum := sha256.Sum256(x.Raw)
	hexFP := strings.ToUpper(strings.TrimSpace(fmt.Sprintf("% x", sum[:])))
	for _, want := range []string{
		"=== Join from a phone on this network ===", "    " + url + "\n",
		"not private", hexFP,
		`iPhone (Safari): tap "Show Details", then "visit this website"`,
		`Android (Chrome): tap "Advanced", then "Proceed to 192.0.2.7 (unsafe)"`,
		"https://192.0.2.7:8443/hark-gateway.crt", "Certificate Trust Settings", "Install a certificate > CA certificate",
		`Share > "Add to Home Screen"`, "=== End of the phone instructions ===",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the phone instructions lack %q:\n%s", want, text)
		}
	}
	// The QR code: one line per two rows of modules, every line as wide as
	// the code, in block characters only.
	q, err := qrcode.New(url, qrcode.Medium)
	if err != nil {
		t.Fatal(err)
	}
	n := len(q.Bitmap())
	var rows []string
	for _, l := range strings.Split(text, "\n") {
		if l = strings.TrimPrefix(l, "    "); l != "" && strings.Trim(l, "█▀▄ ") == "" {
			rows = append(rows, l)
		}
	}
	if len(rows) != (n+1)/2 {
		t.Fatalf("%d lines of QR code, want %d for %d modules", len(rows), (n+1)/2, n)
	}
	for _, r := range rows {
		if w := len([]rune(r)); w != n {
			t.Fatalf("a QR line is %d wide, want %d", w, n)
		}
	}
	// A real certificate: the address and code only.
	out.Reset()
	if err := PhoneHowTo(&out, "https://intercom.example.com/", nil); err != nil {
		t.Fatal(err)
	}
	if s := out.String(); !strings.Contains(s, "intercom.example.com") || strings.Contains(s, "not private") {
		t.Errorf("with a real certificate:\n%s", s)
	}
}

// TestACMEConfig checks what --acme sets up. Getting a certificate needs a
// certificate authority on the internet, which tests cannot reach: they
// check the configuration path (names, cache, the TLS-ALPN challenge
// protocol, the host policy answered without contacting anyone).
func TestACMEConfig(t *testing.T) {
	for _, bad := range []struct{ domain, want string }{
		{"192.0.2.1", "not IP addresses"}, {"*.example.com", "wildcard"}, {"intercom", "no dot"}, {" ", "empty"},
	} {
		_, err := ACME{Domains: []string{bad.domain}, CacheDir: t.TempDir()}.Manager()
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("--acme %q: %v, want an error saying %q", bad.domain, err, bad.want)
		}
	}
	if _, err := (ACME{CacheDir: t.TempDir()}).Manager(); err == nil {
		t.Error("no domain: no error")
	}
	cache := filepath.Join(t.TempDir(), "acme")
	m, err := ACME{Domains: []string{"Intercom.Example.com."}, CacheDir: cache, Email: "ops@example.com",
		DirectoryURL: "https://ca.example.com/acme/directory"}.Manager()
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(cache); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("cache directory: %v %v", fi, err)
	}
	if m.Client == nil || m.Client.DirectoryURL != "https://ca.example.com/acme/directory" || m.Email != "ops@example.com" {
		t.Errorf("manager %+v", m)
	}
	cfg := ACMETLSConfig(m)
	if !slices.Contains(cfg.NextProtos, "acme-tls/1") || cfg.GetCertificate == nil || cfg.MinVersion != tls.VersionTLS12 {
		t.Errorf("TLS config: protocols %v, GetCertificate set %v", cfg.NextProtos, cfg.GetCertificate != nil)
	}
	if _, err := cfg.GetCertificate(&tls.ClientHelloInfo{ServerName: "other.example.com"}); err == nil || !strings.Contains(err.Error(), "not configured") {
		t.Errorf("a handshake for another name: %v, want it refused by the host policy", err)
	}
	if err := m.HostPolicy(t.Context(), "intercom.example.com"); err != nil {
		t.Errorf("the domain itself: %v", err)
	}
}

// TestCertDownload: the gateway offers its self-signed certificate for
// phones to install, and nothing at that path without one.
func TestCertDownload(t *testing.T) {
	cert, _, err := LANCert(t.TempDir(), net.ParseIP("192.0.2.7"))
	if err != nil {
		t.Fatal(err)
	}
	_, _, addr := startGatewayAddr(t, newFakeRelay(), func(c *Config) { c.CertDER = cert.Certificate[0] })
	res, err := http.Get("http://" + addr + CertPath)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/x-x509-ca-cert" || !bytes.Equal(body, cert.Certificate[0]) {
		t.Errorf("%s: %d %s, %d bytes", CertPath, res.StatusCode, res.Header.Get("Content-Type"), len(body))
	}
	_, _, addr2 := startGatewayAddr(t, newFakeRelay(), nil)
	res, err = http.Get("http://" + addr2 + CertPath)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 404 {
		t.Errorf("without a certificate: %d", res.StatusCode)
	}
}
