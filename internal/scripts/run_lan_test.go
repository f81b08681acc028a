package scripts

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// `make run LAN=1` serves the page on this machine's LAN address over
// HTTPS, prints that address with a QR code and the certificate steps for
// iPhone and Android, and the page answers there with the certificate it
// made for that address.
func TestRunLAN(t *testing.T) {
	bin := buildBinaries(t)
	l, err := net.Listen("tcp", ":0") // a port free on every address
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(l.Addr().String())
	l.Close()
	runDir := t.TempDir()
	env := []string{"BIN=" + bin, "RUN_DIR=" + runDir, "RELAY_ADDR=" + freePort(t, "udp"),
		"GATEWAY_ADDR=" + freePort(t, "tcp"), "METRICS_ADDR=" + freePort(t, "tcp"), "LAN=1", "LAN_LISTEN=:" + port}
	cmd, out := runScript(t, env)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
		select {
		case <-done:
		case <-time.After(waitLimit):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	})
	timeout := time.After(waitLimit)
	for !strings.Contains(out.String(), "Hark is running") {
		select {
		case <-out.change:
		case err := <-done:
			if strings.Contains(out.String(), "no address on a local network") {
				t.Skipf("this machine has no LAN address:\n%s", out)
			}
			t.Fatalf("make run LAN=1 stopped (%v):\n%s", err, out)
		case <-timeout:
			t.Fatalf("make run LAN=1 never said it was running:\n%s", out)
		}
	}
	text := out.String()
	m := regexp.MustCompile(`Web page \(open it in a browser\):\s+(https://([0-9.]+):` + port + `/)`).FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no https://LAN-ADDRESS:%s/ as the web page:\n%s", port, text)
	}
	url, ip := m[1], m[2]
	if net.ParseIP(ip).IsLoopback() {
		t.Errorf("the LAN address is a loopback one: %s", ip)
	}
	for _, want := range []string{"=== Join from a phone on this network ===", "    " + url + "\n", "████",
		`"Show Details"`, `"Proceed to ` + ip + ` (unsafe)"`, url + "hark-gateway.crt", "=== End of the phone instructions ==="} {
		if !strings.Contains(text, want) {
			t.Errorf("make run LAN=1 does not print %q:\n%s", want, text)
		}
	}
	// A phone that installed the certificate reaches the page without a warning.
	pem, err := os.ReadFile(filepath.Join(runDir, "gateway", "gateway-lan-"+ip+".crt"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	res, err := c.Get(url + "manifest.webmanifest")
	if err != nil {
		t.Fatalf("the page at %s: %v", url, err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("%s: %s", url, res.Status)
	}
}
