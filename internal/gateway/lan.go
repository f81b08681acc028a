package gateway

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	qrcode "github.com/skip2/go-qrcode"

	"github.com/hark-intercom/hark/internal/certs"
)

// LANCertValidity is how long the certificate of the LAN mode is valid:
// iOS and macOS refuse to trust a server certificate valid for more than
// 825 days, even one the person installed and trusted by hand.
const LANCertValidity = 800 * 24 * time.Hour

// CertPath is where the gateway offers its self-signed certificate for
// download, so that a phone can install and trust it.
const CertPath = "/hark-gateway.crt"

// LANAddress returns this machine's IPv4 address on its local network, for
// phones to reach the gateway: the first private (10/8, 172.16/12,
// 192.168/16) address of an interface that is up, else the first other
// global unicast one. Container and VM bridges (docker0, br-…, veth…,
// virbr…) are left out. others lists the other candidates, for the person
// to pick with --listen when the guess is wrong.
func LANAddress() (ip net.IP, others []net.IP, err error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, nil, fmt.Errorf("listing the network interfaces: %w", err)
	}
	var cands []ifaceAddr
	for _, ifc := range ifs {
		addrs, err := ifc.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok {
				cands = append(cands, ifaceAddr{name: ifc.Name, up: ifc.Flags&net.FlagUp != 0, ip: n.IP})
			}
		}
	}
	ip, others = pickLAN(cands)
	if ip == nil {
		return nil, nil, errors.New("this machine has no address on a local network (no interface with an IPv4 address other than loopback is up): connect it to the network the phones use, or give the address with --listen ADDRESS:8443")
	}
	return ip, others, nil
}

type ifaceAddr struct {
	name string
	up   bool
	ip   net.IP
}

// pickLAN chooses among the addresses of the interfaces (see LANAddress).
func pickLAN(cands []ifaceAddr) (net.IP, []net.IP) {
	var private, public []net.IP
	for _, c := range cands {
		ip4 := c.ip.To4()
		if !c.up || ip4 == nil || !ip4.IsGlobalUnicast() || virtualIface(c.name) {
			continue
		}
		if ip4.IsPrivate() {
			private = append(private, ip4)
		} else {
			public = append(public, ip4)
		}
	}
	all := append(private, public...)
	if len(all) == 0 {
		return nil, nil
	}
	return all[0], all[1:]
}

func virtualIface(name string) bool {
	for _, p := range []string{"docker", "br-", "veth", "virbr", "cni", "flannel", "lxcbr", "podman"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// LANCert returns the self-signed certificate for serving phones at ip,
// kept in dir as gateway-lan-IP.crt/.key and made on first use (valid for
// LANCertValidity, for ip, localhost and this machine's name). A new
// address gets a certificate of its own, so one a phone has installed is
// never replaced; the certificate's PEM file is returned too.
func LANCert(dir string, ip net.IP) (cert tls.Certificate, certFile string, err error) {
	name := CertName + "-lan-" + ip.String()
	cert, _, err = certs.LoadOrCreateValid(dir, name, []string{ip.String()}, LANCertValidity)
	if err != nil {
		return tls.Certificate{}, "", fmt.Errorf("the gateway's certificate for %s in %s: %w", ip, dir, err)
	}
	cf, _ := certs.Paths(dir, name)
	return cert, cf, nil
}

// HexFingerprint is a certificate's SHA-256 as phones show it: upper-case
// hex bytes separated by spaces (iOS) or colons (Android); spaces here.
func HexFingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	var b strings.Builder
	for i, c := range sum {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%02X", c)
	}
	return b.String()
}

// QR renders text as a QR code for a terminal: two rows of modules per
// line of half-block characters, dark on a light border, which phone
// cameras read from a dark or light terminal alike.
func QR(text string) (string, error) {
	q, err := qrcode.New(text, qrcode.Medium)
	if err != nil {
		return "", fmt.Errorf("making the QR code: %w", err)
	}
	return q.ToSmallString(false), nil
}

// PhoneHowTo writes what a person needs to join from a phone: the
// address, a QR code of it and how to get past (or install) the gateway's
// self-signed certificate on iOS and Android. cert is nil when the
// certificate is a real one (--cert, --acme): then only the address and
// the QR code are written.
func PhoneHowTo(w io.Writer, url string, cert *x509.Certificate) error {
	qr, err := QR(url)
	if err != nil {
		return err
	}
	host := strings.TrimPrefix(strings.TrimPrefix(url, "https://"), "http://")
	host = strings.TrimSuffix(host, "/")
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	fmt.Fprintf(w, "=== Join from a phone on this network ===\n\n")
	fmt.Fprintf(w, "Point the phone's camera at this code, or type the address in its browser:\n\n    %s\n\n", url)
	for _, line := range strings.Split(strings.TrimRight(qr, "\n"), "\n") {
		fmt.Fprintf(w, "    %s\n", line)
	}
	fmt.Fprintln(w)
	if cert == nil {
		fmt.Fprintf(w, "=== End of the phone instructions ===\n")
		return nil
	}
	crtURL := strings.TrimSuffix(url, "/") + CertPath
	fmt.Fprintf(w, `The phone first warns that the connection is not private: this gateway made
its own certificate, which no authority signed. Check that it is this one:
its SHA-256 fingerprint is
    %s

To just talk, accept it once:
  iPhone (Safari): tap "Show Details", then "visit this website", then
    "Visit Website" again.
  Android (Chrome): tap "Advanced", then "Proceed to %s (unsafe)".

To install Hark as an app with notifications, the phone must trust the
certificate (browsers keep their app features off on a certificate that
was only accepted):
  iPhone: in Safari open
        %s
    and tap "Allow". Then in Settings tap "Profile Downloaded" (or General >
    VPN & Device Management), the profile "hark relay", Install; then
    Settings > General > About > Certificate Trust Settings: turn on
    "hark relay". Open the address again and tap Share > "Add to Home Screen".
  Android: in Chrome open (accept the warning first, as above)
        %s
    then Settings > Security & privacy > More security settings >
    Encryption & credentials > Install a certificate > CA certificate >
    Install anyway, and pick the downloaded hark-gateway.crt. Open the
    address again; Chrome's menu offers "Install app".
  Both show the SHA-256 fingerprint in the certificate's details: it must
  be the one above. Remove it again in the same settings when done.

=== End of the phone instructions ===
`, HexFingerprint(cert.Raw), host, crtURL, crtURL)
	return nil
}
