package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/hark-intercom/hark/internal/certs"
	"github.com/hark-intercom/hark/internal/cluster"
	"github.com/hark-intercom/hark/internal/relay"
	"github.com/nats-io/nats.go"
	"github.com/urfave/cli/v2"
)

var clusterFlags = []cli.Flag{
	&cli.StringFlag{Name: "cluster", EnvVars: []string{"HARK_CLUSTER"},
		Usage: "join the relays' cluster NAME (the same name on every relay): channels, floors, presence, texts, rings and pages are shared; needs --cluster-listen and --peer, or --nats"},
	&cli.StringFlag{Name: "cluster-listen", EnvVars: []string{"HARK_CLUSTER_LISTEN"},
		Usage: "TCP address where this relay's embedded NATS server takes routes from the other relays (e.g. :6222); TLS with the key material in DATA/cluster"},
	&cli.StringSliceFlag{Name: "peer", EnvVars: []string{"HARK_PEERS"},
		Usage: "route address of another relay of the cluster, nats://HOST:PORT (repeat, or separate with commas; listing every relay, this one too, is fine)"},
	&cli.StringFlag{Name: "nats", EnvVars: []string{"HARK_NATS"},
		Usage: "URL of an external NATS cluster with JetStream to use instead of the embedded server (for many relays)"},
	&cli.StringFlag{Name: "node", EnvVars: []string{"HARK_NODE"},
		Usage: "this relay's name in the cluster (unique); default the host name and the cluster port"},
}

// setupCluster joins the cluster the flags name, if any: it returns nil
// without --cluster. The relay then uses the cluster's secret (resume
// tickets valid at every relay) and, without --cert, the cluster's relay
// certificate (one fingerprint for the whole intercom).
func setupCluster(c *cli.Context, data string, log *slog.Logger, cfg *relay.Config) (*cluster.Cluster, error) {
	name := c.String("cluster")
	if name == "" {
		if c.String("cluster-listen") != "" || len(c.StringSlice("peer")) > 0 || c.String("nats") != "" {
			return nil, errors.New("--cluster-listen, --peer and --nats need --cluster NAME (the same name on every relay)")
		}
		return nil, nil
	}
	var peers []string
	for _, p := range c.StringSlice("peer") {
		for _, q := range strings.Split(p, ",") {
			if q = strings.TrimSpace(q); q != "" {
				peers = append(peers, q)
			}
		}
	}
	ccfg := cluster.Config{Name: name, Node: c.String("node"), Listen: c.String("cluster-listen"), Peers: peers,
		NATS: c.String("nats"), DataDir: data, Logger: log}
	if ccfg.NATS == "" {
		if ccfg.Listen == "" {
			return nil, errors.New("--cluster needs --cluster-listen ADDR (where the other relays reach this one, e.g. :6222) and --peer nats://OTHER:6222, or --nats URL for an external NATS")
		}
		if len(peers) == 0 {
			return nil, errors.New("--cluster needs at least one --peer nats://HOST:PORT (the other relays' --cluster-listen addresses)")
		}
	}
	keys, err := cluster.LoadKeys(data)
	if err != nil {
		if ccfg.NATS == "" || !errors.Is(err, cluster.ErrNoKeys) {
			return nil, err
		}
	}
	ccfg.Keys = keys
	if keys.Secret != nil {
		cfg.Secret = keys.Secret
	}
	if c.String("cert") == "" {
		if cert, err := cluster.RelayCert(data); err == nil {
			cfg.Cert = cert
		} else if !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
	}
	cl, err := cluster.New(ccfg)
	if err != nil {
		return nil, err
	}
	cfg.Cluster = cl
	log.Info("joining the relays' cluster", "cluster", name, "node", cl.Node(), "peers", strings.Join(peers, ","), "nats", ccfg.NATS)
	return cl, nil
}

func clusterCommand() *cli.Command {
	return &cli.Command{
		Name:  "cluster",
		Usage: "several relays as one intercom: make the cluster's keys, see its state",
		Subcommands: []*cli.Command{
			{
				Name:      "init",
				Usage:     "make the cluster's key material in DATA/cluster (once, on one relay); copy that directory into the data directory of every relay of the cluster",
				ArgsUsage: " ",
				Flags:     []cli.Flag{dataFlag},
				Action: func(c *cli.Context) error {
					dir, err := cluster.Init(c.String("data"))
					if err != nil {
						return err
					}
					cert, err := cluster.RelayCert(c.String("data"))
					if err != nil {
						return err
					}
					fmt.Printf("Made the cluster's keys in %s.\n", dir)
					fmt.Printf("Copy that directory into the data directory of every relay of the cluster (it holds secrets: keep it private), then start each relay with\n")
					fmt.Printf("  relay --data DIR --cluster NAME --cluster-listen :6222 --peer nats://OTHER-RELAY:6222 ...\n")
					fmt.Printf("Every relay of the cluster presents the same certificate to clients: fingerprint %s\n", certs.FingerprintOf(cert))
					fmt.Printf("Clients take several relays: talk --relay relay1:4275,relay2:4275 --fingerprint %s ...\n", certs.FingerprintOf(cert))
					return nil
				},
			},
			{
				Name:      "status",
				Usage:     "show the relays of the cluster: routes, sessions and channels at each, round trips between them (asks the relay running on this machine with --data, or --nats)",
				ArgsUsage: " ",
				Flags: []cli.Flag{dataFlag,
					&cli.StringFlag{Name: "nats", EnvVars: []string{"HARK_NATS"}, Usage: "URL of the external NATS the cluster uses"},
					&cli.StringFlag{Name: "cluster", EnvVars: []string{"HARK_CLUSTER"}, Usage: "the cluster's name (with --nats)"},
					&cli.DurationFlag{Name: "wait", Value: time.Second, Usage: "how long to collect answers"}},
				Action: clusterStatus,
			},
		},
	}
}

func clusterStatus(c *cli.Context) error {
	data := c.String("data")
	url, name := c.String("nats"), c.String("cluster")
	var opts []nats.Option
	if url == "" {
		info, err := cluster.ReadClientInfo(data)
		if err != nil {
			return err
		}
		url, name = info.URL, info.Cluster
		keys, err := cluster.LoadKeys(data)
		if err != nil {
			return err
		}
		opts = append(opts, nats.Token(keys.Token()))
	}
	if name == "" {
		return errors.New("give the cluster's name with --cluster")
	}
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		return fmt.Errorf("cannot reach the cluster at %s: %w (is the relay running?)", url, err)
	}
	defer nc.Close()
	sts, err := cluster.Status(nc, name, c.Duration("wait"))
	if err != nil {
		return err
	}
	if len(sts) == 0 {
		return fmt.Errorf("no relay of cluster %q answered within %v", name, c.Duration("wait"))
	}
	sort.Slice(sts, func(i, j int) bool { return sts[i].Node < sts[j].Node })
	fmt.Printf("cluster %s: %d relays answered\n", name, len(sts))
	for _, st := range sts {
		fmt.Printf("\n%s: %d sessions, %d voice frames dropped on the way to the other relays\n", st.Node, st.Sessions, st.Dropped)
		if len(st.Routes) > 0 {
			fmt.Printf("  routes to: %s\n", strings.Join(st.Routes, ", "))
		}
		if st.FloorLeader {
			fmt.Printf("  leads the floors (every floor request goes through this relay; if it dies the others elect another within about a second)\n")
		}
		var chs []string
		for ch, n := range st.Channels {
			chs = append(chs, fmt.Sprintf("%s %d", ch, n))
		}
		sort.Strings(chs)
		if len(chs) > 0 {
			fmt.Printf("  channels: %s\n", strings.Join(chs, ", "))
		}
		var rtts []string
		for p, us := range st.RTT {
			rtts = append(rtts, fmt.Sprintf("%s %.2f ms", p, float64(us)/1000))
		}
		sort.Strings(rtts)
		if len(rtts) > 0 {
			fmt.Printf("  round trip to: %s\n", strings.Join(rtts, ", "))
		}
	}
	return nil
}
