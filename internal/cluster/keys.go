package cluster

import (
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/hark-intercom/hark/internal/certs"
)

// The cluster's key material lives in DATA/cluster/ of every relay of the
// cluster: the same files everywhere, made once by Init (`relay cluster
// init`) and copied by the operator.
//
//	cluster.crt, cluster.key  the certificate every relay presents on its
//	                          routes and pins on its peers' (TLS 1.3, mutual)
//	cluster.secret            32 random bytes (hex): keys the relays' resume
//	                          tickets (valid at every relay) and is the token
//	                          of the embedded server's loopback client port
//	relay.crt, relay.key      the certificate every relay of the cluster
//	                          presents to clients: one fingerprint to pin,
//	                          whichever relay a client reaches
const (
	KeyDir     = "cluster"
	certName   = "cluster"
	secretName = "cluster.secret"
)

// Keys is the cluster's key material.
type Keys struct {
	Cert   tls.Certificate
	Secret []byte
	Dir    string // where it was read from
}

// ErrNoKeys is returned (wrapped) by LoadKeys when a data directory holds no
// cluster key material.
var ErrNoKeys = errors.New("no cluster key material")

// Init makes the cluster's key material in dataDir/cluster. It refuses to
// overwrite key material that is there already.
func Init(dataDir string) (dir string, err error) {
	dir = filepath.Join(dataDir, KeyDir)
	certFile, keyFile := certs.Paths(dir, certName)
	for _, p := range []string{certFile, keyFile, filepath.Join(dir, secretName)} {
		if _, err := os.Stat(p); err == nil {
			return dir, fmt.Errorf("%s exists already: this data directory has cluster keys (copy the whole %s directory to the other relays; remove it only to make new keys for every relay)", p, dir)
		}
	}
	if _, _, err := certs.LoadOrCreateValid(dir, certName, []string{"hark-cluster"}, certs.Validity); err != nil {
		return dir, err
	}
	if _, _, err := certs.LoadOrCreateSecret(dir, secretName); err != nil {
		return dir, err
	}
	if _, _, err := certs.LoadOrCreate(dir, "relay"); err != nil {
		return dir, err
	}
	return dir, nil
}

// RelayCert reads the certificate the relays of the cluster present to
// clients (made by Init). An error that wraps fs.ErrNotExist means there
// is none (key material from before it was made, or no cluster).
func RelayCert(dataDir string) (tls.Certificate, error) {
	dir := filepath.Join(dataDir, KeyDir)
	cf, kf := certs.Paths(dir, "relay")
	if _, err := os.Stat(cf); err != nil {
		return tls.Certificate{}, err
	}
	return certs.Load(cf, kf)
}

// Token is the password of the embedded server's loopback client port.
func (k Keys) Token() string { return hex.EncodeToString(k.Secret) }

// ClientInfo says where a running relay's embedded NATS server takes
// local clients (`relay cluster status`); kept in DATA/cluster-client.json
// while the relay runs.
type ClientInfo struct {
	URL     string `json:"url"`
	Cluster string `json:"cluster"`
	Node    string `json:"node"`
}

const clientInfoFile = "cluster-client.json"

// ReadClientInfo reads the ClientInfo of the relay running with dataDir.
func ReadClientInfo(dataDir string) (ClientInfo, error) {
	var ci ClientInfo
	b, err := os.ReadFile(filepath.Join(dataDir, clientInfoFile))
	if errors.Is(err, fs.ErrNotExist) {
		return ci, fmt.Errorf("no clustered relay is running with data directory %s (it writes %s while it runs): give the relay's --data, or --nats URL and --cluster NAME", dataDir, clientInfoFile)
	}
	if err != nil {
		return ci, err
	}
	if err := json.Unmarshal(b, &ci); err != nil {
		return ci, fmt.Errorf("%s: %w", filepath.Join(dataDir, clientInfoFile), err)
	}
	return ci, nil
}

// LoadKeys reads the key material Init made in dataDir/cluster.
func LoadKeys(dataDir string) (Keys, error) {
	dir := filepath.Join(dataDir, KeyDir)
	certFile, keyFile := certs.Paths(dir, certName)
	if _, err := os.Stat(certFile); errors.Is(err, fs.ErrNotExist) {
		return Keys{}, fmt.Errorf("%w in %s: run `relay cluster init --data DIR` on one relay and copy its %s directory into the data directory of every relay of the cluster", ErrNoKeys, dir, KeyDir)
	}
	cert, err := certs.Load(certFile, keyFile)
	if err != nil {
		return Keys{}, fmt.Errorf("cluster key material in %s: %w", dir, err)
	}
	if _, err := os.Stat(filepath.Join(dir, secretName)); err != nil {
		return Keys{}, fmt.Errorf("cluster key material in %s: %w (copy the whole directory from the relay where `relay cluster init` ran)", dir, err)
	}
	secret, _, err := certs.LoadOrCreateSecret(dir, secretName) // exists: only read and checked
	if err != nil {
		return Keys{}, err
	}
	return Keys{Cert: cert, Secret: secret, Dir: dir}, nil
}

// routeTLS is the TLS configuration of the routes between relays: each side
// presents the cluster certificate and accepts only a peer that presents
// the same one (pinned by fingerprint, whatever address it is reached at).
func (k Keys) routeTLS() *tls.Config {
	fp := certs.FingerprintOf(k.Cert)
	return &tls.Config{
		MinVersion:            tls.VersionTLS13,
		Certificates:          []tls.Certificate{k.Cert},
		ClientAuth:            tls.RequireAnyClientCert,
		InsecureSkipVerify:    true, // replaced by the pin below
		VerifyPeerCertificate: certs.VerifyPinned(fp),
	}
}
