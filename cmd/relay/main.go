// Command relay is Hark's voice relay server.
//
//	relay --data DIR [--listen :4275] [--open] [--metrics 127.0.0.1:9275]
//	relay fingerprint --data DIR
//	relay user add NAME --roles page,admin --data DIR   (password on stdin)
//	relay user add NAME --reset-password --data DIR     (new password for NAME)
//	relay user del NAME --data DIR
//	relay user list --data DIR
//	relay channel list --data DIR
//	relay channel set NAME history=voice max-age=24h ... --data DIR
//	relay history stats --data DIR
//	relay history purge --channel C [--before T] --data DIR
//
// Every flag can also be set by an environment variable (HARK_…, see --help).
package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/hark-intercom/hark/internal/accounts"
	"github.com/hark-intercom/hark/internal/certs"
	"github.com/hark-intercom/hark/internal/relay"
	"github.com/hark-intercom/hark/internal/store"
	"github.com/hark-intercom/hark/internal/udpbatch"
	"github.com/hark-intercom/hark/proto"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/urfave/cli/v2"
	"golang.org/x/term"
)

func main() {
	if err := app().Run(flagsFirst(os.Args)); err != nil {
		fmt.Fprintln(os.Stderr, "relay:", err)
		os.Exit(1)
	}
}

var dataFlag = &cli.StringFlag{
	Name: "data", Value: "hark-data", EnvVars: []string{"HARK_DATA"},
	Usage: "directory for the relay's certificate (relay.crt, relay.key), database (hark.db: accounts, channel settings and history; users.json and channels.json are imported from here) and session secret (session.secret: lets clients notice a restart at once and log in again without a password check); created if missing",
}

func app() *cli.App {
	a := &cli.App{
		Name:  "relay",
		Usage: "Hark push-to-talk intercom relay: forwards voice between talk clients",
		Description: `The relay is the server every Hark client connects to. Start it, note the
fingerprint it prints, and give that to the clients (talk --fingerprint ...).

Quick start on a trusted network (anyone may log in with any name):
   relay --open --data ./hark-data

With accounts:
   relay user add alice --roles page,admin --data ./hark-data   (asks for a password)
   relay --data ./hark-data

On first start the relay makes a self-signed TLS certificate in the data
directory; clients pin its fingerprint (like SSH host keys). Use --cert and
--key for a certificate of your own.

Channels come from --channels FILE or DATA/channels.json, for example
   {"default": "lobby", "channels": [{"name": "lobby", "mode": "ptt"},
                                     {"name": "ops", "mode": "open"}]}
("ptt": one talker at a time; "open": anyone may talk at once). Without a file
the channels are lobby (ptt, default) and ops (open).

The relay keeps its accounts, channel settings and history in DATA/hark.db
(SQLite). On the first start it imports DATA/users.json (then manage users with
relay user ...; the file is left as it is) and the channels file (applied again
whenever you edit it). By default a channel keeps its texts for a week; to keep
its voice too (people are told in their programs that it is recorded):
   relay channel set lobby history=voice max-age=24h --data ./hark-data
This works while the relay runs: it applies the change within a second.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "listen", Value: fmt.Sprintf(":%d", proto.DefaultPort), EnvVars: []string{"HARK_LISTEN"},
				Usage: "UDP address to listen on: HOST:PORT, HOST (port 4275) or :PORT (\":4275\" is every interface, \"127.0.0.1\" this machine only)"},
			dataFlag,
			&cli.BoolFlag{Name: "udp-batch", EnvVars: []string{"HARK_UDP_BATCH"},
				Usage: "experimental: send the packets for all listeners with one system call per batch (sendmmsg), which costs less CPU per listener on a busy relay (BENCHMARKS.md, issue 16); IPv4 only: the relay then listens on IPv4 addresses alone"},
			&cli.BoolFlag{Name: "open", EnvVars: []string{"HARK_OPEN"},
				Usage: "accept any user name without a password (trusted networks only); everyone may page, nobody is admin"},
			&cli.BoolFlag{Name: "webtransport", Value: true, EnvVars: []string{"HARK_WEBTRANSPORT"},
				Usage: "also accept browsers (WebTransport over HTTP/3) on the UDP port; --webtransport=false: only native clients, browsers use the gateway's websocket"},
			&cli.BoolFlag{Name: "limit-loopback", EnvVars: []string{"HARK_LIMIT_LOOPBACK"},
				Usage: "limit wrong passwords from this machine per name too (without it, logins from 127.0.0.1 are never refused for failures: a gateway there limits them per browser, so one browser cannot lock a name out of every other); for a relay with no gateway on its machine"},
			&cli.StringFlag{Name: "cert", EnvVars: []string{"HARK_CERT"}, Usage: "TLS certificate file (PEM) instead of the self-signed one"},
			&cli.StringFlag{Name: "key", EnvVars: []string{"HARK_KEY"}, Usage: "TLS key file (PEM) for --cert"},
			&cli.StringFlag{Name: "metrics", EnvVars: []string{"HARK_METRICS"},
				Usage: "serve Prometheus metrics on this TCP address at /metrics (e.g. 127.0.0.1:9275); off when empty"},
			&cli.StringFlag{Name: "channels", EnvVars: []string{"HARK_CHANNELS"}, Usage: "channels file (JSON); default DATA/channels.json if it exists"},
			&cli.DurationFlag{Name: "max-talk", Value: 60 * time.Second, EnvVars: []string{"HARK_MAX_TALK"},
				Usage: "longest single transmission or page before the relay cuts it"},
			&cli.DurationFlag{Name: "floor-timeout", Value: 600 * time.Millisecond, EnvVars: []string{"HARK_FLOOR_TIMEOUT"},
				Usage: "free the floor when a talker's voice stops arriving for this long"},
			&cli.StringFlag{Name: "history-max-bytes", Value: "1GB", EnvVars: []string{"HARK_HISTORY_MAX_BYTES"},
				Usage: "most bytes of recorded voice kept over all channels (oldest removed first); 0: no cap"},
			&cli.StringFlag{Name: "log-level", Value: "info", EnvVars: []string{"HARK_LOG_LEVEL"}, Usage: "debug, info, warn or error"},
			&cli.BoolFlag{Name: "log-json", EnvVars: []string{"HARK_LOG_JSON"}, Usage: "write logs as JSON lines"},
		},
		Action: serve,
		Commands: []*cli.Command{
			{
				Name:      "fingerprint",
				Usage:     "print the fingerprint clients must pin, from the certificate in --data (e.g. /var/lib/hark-relay under systemd)",
				ArgsUsage: " ",
				Flags: []cli.Flag{dataFlag,
					&cli.StringFlag{Name: "cert", EnvVars: []string{"HARK_CERT"}, Usage: "TLS certificate file (PEM) instead of DATA/relay.crt"},
					&cli.BoolFlag{Name: "create", Usage: "make the certificate if DATA has none yet (to hand out the fingerprint before the relay's first start)"}},
				Action: func(c *cli.Context) error {
					f := c.String("cert")
					if f == "" {
						f, _ = certs.Paths(c.String("data"), "relay")
					}
					if fp, err := certs.ReadFingerprint(f); err == nil {
						fmt.Println(fp)
						return nil
					} else if c.String("cert") != "" || !errors.Is(err, fs.ErrNotExist) {
						return err
					}
					if !c.Bool("create") {
						return fmt.Errorf("there is no relay certificate in %s: give the relay's own --data directory "+
							"(/var/lib/hark-relay with the systemd unit), or add --create to make one there now", c.String("data"))
					}
					cert, _, err := certs.LoadOrCreate(c.String("data"), "relay")
					if err != nil {
						return err
					}
					fmt.Println(certs.FingerprintOf(cert))
					return nil
				},
			},
			{
				Name:  "user",
				Usage: "manage accounts in DATA/hark.db (a running relay picks changes up by itself: new users can log in at once, a deleted user's session ends within seconds)",
				Subcommands: []*cli.Command{
					{
						Name:      "add",
						Usage:     "add a user, or with --reset-password give an existing one a new password; the password is read from standard input",
						ArgsUsage: "NAME",
						Flags: []cli.Flag{dataFlag,
							&cli.StringFlag{Name: "roles", Usage: "comma-separated roles: page (may page all channels), admin (may list and kick sessions); empty for none (with --reset-password: the user keeps their roles unless this is given)"},
							&cli.BoolFlag{Name: "reset-password", Usage: "the user exists already: replace their password (without it an existing name is refused, so that a typo cannot overwrite someone else's account)"}},
						Action: userAdd,
					},
					{
						Name: "del", Aliases: []string{"delete", "rm"},
						Usage:     "remove a user and their private texts; a running relay ends their session within seconds",
						ArgsUsage: "NAME",
						Flags:     []cli.Flag{dataFlag},
						Action: func(c *cli.Context) error {
							if c.NArg() != 1 {
								return errors.New("give one user name: relay user del NAME")
							}
							st, err := openStore(c)
							if err != nil {
								return err
							}
							defer st.Close()
							if err := st.Delete(c.Args().First()); err != nil {
								return err
							}
							fmt.Printf("removed %s and their private texts\n", c.Args().First())
							return nil
						},
					},
					{
						Name:      "list",
						Usage:     "list users and their roles",
						ArgsUsage: " ",
						Flags:     []cli.Flag{dataFlag},
						Action: func(c *cli.Context) error {
							var l []accounts.User
							where := filepath.Join(c.String("data"), store.FileName)
							if _, err := os.Stat(where); errors.Is(err, fs.ErrNotExist) {
								// Nothing to create for a look: read users.json (if any) as the relay will import it.
								us, err := accounts.Open(usersPath(c))
								if err != nil {
									return err
								}
								if l, err = us.List(); err != nil {
									return err
								}
								where = us.Path()
							} else {
								st, err := openStore(c)
								if err != nil {
									return err
								}
								defer st.Close()
								if l, err = st.List(); err != nil {
									return err
								}
							}
							if len(l) == 0 {
								fmt.Printf("no users in %s\n", where)
							}
							for _, u := range l {
								r := u.Roles.String()
								if r == "" {
									r = "-"
								}
								fmt.Printf("%-24s %s\n", u.Name, r)
							}
							return nil
						},
					},
				},
			},
			channelCommand(),
			historyCommand(),
			clusterCommand(),
		},
	}
	a.Flags = append(a.Flags, clusterFlags...)
	return a
}

// flagsFirst lets flags follow the user name in `relay user add NAME
// --roles page` (the cli package stops parsing flags at the first argument)
// by moving them in front of it.
func flagsFirst(args []string) []string {
	if len(args) < 3 || (args[1] != "user" && args[1] != "channel" && args[1] != "history") {
		return args
	}
	takesValue := map[string]bool{"roles": true, "data": true, "channel": true, "before": true}
	head := append([]string{}, args[:3]...)
	var flags, pos []string
	rest := args[3:]
	for i := 0; i < len(rest); i++ {
		a := rest[i]
		if a == "--" {
			pos = append(pos, rest[i+1:]...)
			break
		}
		if strings.HasPrefix(a, "-") && len(a) > 1 {
			flags = append(flags, a)
			name := strings.TrimLeft(a, "-")
			if takesValue[name] && i+1 < len(rest) {
				i++
				flags = append(flags, rest[i])
			}
			continue
		}
		pos = append(pos, a)
	}
	return append(append(head, flags...), pos...)
}

func usersPath(c *cli.Context) string { return filepath.Join(c.String("data"), "users.json") }

func userAdd(c *cli.Context) error {
	if c.NArg() != 1 {
		return errors.New("give one user name: relay user add NAME --roles page,admin")
	}
	name := c.Args().First()
	if err := accounts.CheckName("user", name); err != nil {
		return err
	}
	roles, err := accounts.ParseRoles(c.String("roles"))
	if err != nil {
		return err
	}
	st, err := openStore(c)
	if err != nil {
		return err
	}
	defer st.Close()
	reset := c.Bool("reset-password")
	exists := func() error {
		return fmt.Errorf("%s already exists in %s: nothing changed. To give them a new password: relay user add %s --reset-password --data %s "+
			"(they keep their roles unless --roles is given); to remove them: relay user del %s --data %s",
			name, st.Path(), name, c.String("data"), name, c.String("data"))
	}
	if !reset && st.Has(name) { // before asking for a password that would be thrown away
		return exists()
	}
	pw, err := readPassword(name)
	if err != nil {
		return err
	}
	replaced := false
	if reset {
		err = st.Put(name, pw, func(old accounts.User, ok bool) (proto.Role, error) {
			replaced = ok
			if ok && !c.IsSet("roles") {
				roles = old.Roles
			}
			return roles, nil
		})
	} else {
		err = st.Add(name, pw, roles)
	}
	if errors.Is(err, accounts.ErrUserExists) {
		return exists()
	}
	if err != nil {
		return err
	}
	r := roles.String()
	if r == "" {
		r = "no roles"
	}
	if replaced {
		fmt.Printf("new password for %s (%s) saved in %s\n", name, r, st.Path())
	} else {
		fmt.Printf("saved %s (%s) in %s\n", name, r, st.Path())
	}
	return nil
}

// readPassword reads a password without echo on a terminal (asking twice),
// or one line from a pipe.
func readPassword(name string) (string, error) {
	fd := int(os.Stdin.Fd())
	if term.IsTerminal(fd) {
		fmt.Fprintf(os.Stderr, "Password for %s: ", name)
		a, err := term.ReadPassword(fd)
		fmt.Fprintln(os.Stderr)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(os.Stderr, "Again: ")
		b, err := term.ReadPassword(fd)
		fmt.Fprintln(os.Stderr)
		if err != nil {
			return "", err
		}
		if string(a) != string(b) {
			return "", errors.New("the two passwords differ; nothing saved")
		}
		return string(a), nil
	}
	line, err := bufio.NewReader(os.Stdin).ReadString('\n')
	if err != nil && line == "" {
		return "", errors.New("no password on standard input (pipe one line, e.g. echo secret | relay user add NAME)")
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func newLogger(c *cli.Context) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(c.String("log-level"))); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	if c.Bool("log-json") {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts)), nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts)), nil
}

func serve(c *cli.Context) error {
	if c.NArg() > 0 {
		return fmt.Errorf("unknown command %q: see relay --help", c.Args().First())
	}
	log, err := newLogger(c)
	if err != nil {
		return err
	}
	data := c.String("data")
	if err := os.MkdirAll(data, 0o700); err != nil {
		return fmt.Errorf("cannot create the data directory: %w", err)
	}

	listen, err := relay.ListenAddr(c.String("listen"))
	if err != nil {
		return fmt.Errorf("--listen: %w", err)
	}
	var cert = struct{ created bool }{}
	cfg := relay.Config{
		Listen: listen, Open: c.Bool("open"), LimitLoopback: c.Bool("limit-loopback"), Logger: log, WebTransport: c.Bool("webtransport"),
		MaxTalk: c.Duration("max-talk"), FloorTimeout: c.Duration("floor-timeout"),
	}
	switch {
	case c.String("cert") != "" || c.String("key") != "":
		if c.String("cert") == "" || c.String("key") == "" {
			return errors.New("--cert and --key go together")
		}
		cfg.Cert, err = certs.Load(c.String("cert"), c.String("key"))
	default:
		cfg.Cert, cert.created, err = certs.LoadOrCreate(data, "relay")
	}
	if err != nil {
		return err
	}

	if cfg.Secret, _, err = certs.LoadOrCreateSecret(data, certs.SecretFile); err != nil {
		return fmt.Errorf("the relay's session secret: %w", err)
	}
	cl, err := setupCluster(c, data, log, &cfg)
	if err != nil {
		return err
	}
	if cl != nil {
		defer cl.Close() // after Serve
	}

	chPath, must := c.String("channels"), true
	if chPath == "" {
		chPath, must = filepath.Join(data, "channels.json"), false
	}
	maxBytes, err := store.ParseBytes(c.String("history-max-bytes"))
	if err != nil {
		return fmt.Errorf("--history-max-bytes: %w", err)
	}
	if maxBytes == 0 {
		maxBytes = -1
	}
	st, err := store.Open(filepath.Join(data, store.FileName), store.Options{Logger: log, TotalMaxBytes: maxBytes})
	if err != nil {
		return err
	}
	defer st.Close() // after Serve: commits what the relay queued
	rep, err := st.Import(filepath.Join(data, "users.json"), chPath, must)
	if err != nil {
		return err
	}
	if rep.UsersFile != "" {
		log.Info("imported the users file into the database; manage users with `relay user` from now on (the file is left as it is and no longer read)",
			"users", rep.Users, "file", rep.UsersFile, "db", st.Path())
	}
	if rep.ChannelsFrom != "" {
		log.Info("channels applied to the database", "from", rep.ChannelsFrom, "channels", rep.ChannelsCount)
	}
	if cfg.Channels, err = st.AccountsChannels(); err != nil {
		return err
	}
	cfg.History = st
	var users *store.Store
	if !cfg.Open {
		users = st
		cfg.Users = st
	}
	r, err := relay.New(cfg)
	if err != nil {
		return err
	}
	network := "udp"
	if c.Bool("udp-batch") {
		network = "udp4" // udpbatch sends to IPv4 peers of an IPv4 socket only
	}
	pc, err := net.ListenPacket(network, cfg.Listen)
	if err != nil && network == "udp4" {
		return fmt.Errorf("--udp-batch: cannot listen on UDP %s over IPv4: %w (the batched sends work on IPv4 addresses only: give an IPv4 --listen address such as 0.0.0.0:%d or leave --udp-batch out; or another relay is running)", cfg.Listen, err, proto.DefaultPort)
	}
	if err != nil {
		return fmt.Errorf("cannot listen on UDP %s: %w (is another relay running?)", cfg.Listen, err)
	}
	defer pc.Close()
	if c.Bool("udp-batch") {
		bc, err := udpbatch.New(pc.(*net.UDPConn))
		if err != nil {
			return fmt.Errorf("--udp-batch: %w", err)
		}
		defer bc.Close()
		pc = bc
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if addr := c.String("metrics"); addr != "" {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("--metrics: cannot listen on %s: %w", addr, err)
		}
		mux := http.NewServeMux()
		mux.Handle("/metrics", promhttp.HandlerFor(r.Metrics(), promhttp.HandlerOpts{}))
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		go srv.Serve(ln)
		defer srv.Close()
		log.Info("metrics on http://" + ln.Addr().String() + "/metrics")
	}

	printBanner(cfg, pc.LocalAddr(), r.Fingerprint(), cert.created, data, users)
	return r.Serve(ctx, pc)
}

func printBanner(cfg relay.Config, addr net.Addr, fp string, created bool, data string, users *store.Store) {
	host, port, _ := net.SplitHostPort(addr.String())
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		if h, err := os.Hostname(); err == nil {
			host = h
		}
	}
	w := os.Stdout
	if created {
		fmt.Fprintf(w, "Made a new self-signed certificate in %s.\n", data)
	}
	fmt.Fprintf(w, "Hark relay listening on UDP %s\n", addr)
	fmt.Fprintf(w, "Fingerprint: %s\n", fp)
	names := make([]string, len(cfg.Channels.List))
	sets := map[string]store.ChannelSettings{}
	if l, _, err := cfg.History.Channels(); err == nil {
		for _, c := range l {
			sets[c.Name] = c.Settings
		}
	}
	for i, ch := range cfg.Channels.List {
		names[i] = ch.Name + " (" + ch.Mode.String() + ", keeps " + keeps(sets[ch.Name].History) + ")"
	}
	fmt.Fprintf(w, "Channels: %s; default %s\n", strings.Join(names, ", "), cfg.Channels.Default)
	fmt.Fprintf(w, "Connect with:\n  talk --relay %s --fingerprint %s --user NAME ...\n", net.JoinHostPort(host, port), fp)
	switch {
	case cfg.Open:
		fmt.Fprintln(w, "Open mode: any user name is accepted without a password.")
	case users != nil && users.Len() == 0:
		fmt.Fprintf(w, "No users yet: add one with `relay user add NAME --roles page,admin --data %s`, or restart with --open.\n", data)
	}
}
