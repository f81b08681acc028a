package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/hark-intercom/hark/internal/store"
	"github.com/urfave/cli/v2"
)

// openStore opens DATA/hark.db for an administration command (next to a
// running relay, if there is one: SQLite lets both write). On a data
// directory the relay has not started on yet it imports users.json and
// channels.json first, as the relay's first start would.
func openStore(c *cli.Context) (*store.Store, error) {
	data := c.String("data")
	st, err := store.Open(filepath.Join(data, store.FileName), store.Options{NoWriter: true})
	if err != nil {
		return nil, err
	}
	if !st.Imported() {
		if _, err := st.Import(filepath.Join(data, "users.json"), filepath.Join(data, "channels.json"), false); err != nil {
			st.Close()
			return nil, err
		}
	}
	return st, nil
}

func keeps(h store.HistoryMode) string {
	switch h {
	case store.HistoryOff:
		return "nothing"
	case store.HistoryText:
		return "texts"
	case store.HistoryVoice:
		return "texts and voice"
	}
	return h.String()
}

func channelCommand() *cli.Command {
	return &cli.Command{
		Name:  "channel",
		Usage: "show or change the channels' settings in DATA/hark.db (a running relay applies changes within a second)",
		Subcommands: []*cli.Command{
			{
				Name:      "list",
				Usage:     "list the channels and their settings",
				ArgsUsage: " ",
				Flags:     []cli.Flag{dataFlag},
				Action: func(c *cli.Context) error {
					st, err := openStore(c)
					if err != nil {
						return err
					}
					defer st.Close()
					l, def, err := st.Channels()
					if err != nil {
						return err
					}
					for _, ch := range l {
						mark := " "
						if ch.Name == def {
							mark = "*"
						}
						fmt.Printf("%s %-20s %s\n", mark, ch.Name, ch.Settings)
					}
					fmt.Println("(* the default channel)")
					return nil
				},
			},
			{
				Name:      "set",
				Usage:     "change a channel's settings: " + store.SettingsHelp,
				ArgsUsage: "NAME KEY=VALUE...",
				Description: `Examples:
   relay channel set lobby history=voice max-age=24h --data DIR
   relay channel set ops history=text max-count=500
history=off keeps nothing, text keeps texts, voice keeps texts and every
transmission (the talk programs show that the channel records voice).
A transmission longer than max-length (or max-tx-bytes) is kept cut at that
length. When a channel holds more than max-count items, items older than
max-age or more than max-bytes of voice, the oldest go first.`,
				Flags: []cli.Flag{dataFlag},
				Action: func(c *cli.Context) error {
					if c.NArg() < 2 {
						return errors.New("give a channel and at least one setting: relay channel set NAME history=voice max-age=24h (" + store.SettingsHelp + ")")
					}
					st, err := openStore(c)
					if err != nil {
						return err
					}
					defer st.Close()
					set, err := st.SetChannel(c.Args().First(), strings.Join(c.Args().Tail(), " "))
					if err != nil {
						if l, _, lerr := st.Channels(); lerr == nil && strings.HasPrefix(err.Error(), "there is no channel") {
							var names []string
							for _, ch := range l {
								names = append(names, ch.Name)
							}
							return fmt.Errorf("%w; the channels are: %s", err, strings.Join(names, ", "))
						}
						return err
					}
					fmt.Printf("%s: %s\n", c.Args().First(), set)
					fmt.Println("A running relay applies this within a second and tells the people in the channel.")
					return nil
				},
			},
		},
	}
}

func historyCommand() *cli.Command {
	return &cli.Command{
		Name:  "history",
		Usage: "show or delete what the relay keeps (works while the relay runs)",
		Subcommands: []*cli.Command{
			{
				Name:      "stats",
				Usage:     "what each channel keeps: texts, transmissions, bytes of voice, oldest and newest",
				ArgsUsage: " ",
				Flags:     []cli.Flag{dataFlag},
				Action: func(c *cli.Context) error {
					st, err := openStore(c)
					if err != nil {
						return err
					}
					defer st.Close()
					l, size, err := st.HistoryStats()
					if err != nil {
						return err
					}
					w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
					if len(l) > 0 {
						fmt.Fprintln(w, "CHANNEL\tTEXTS\tTRANSMISSIONS\tPAGES\tVOICE BYTES\tOLDEST\tNEWEST")
					}
					for _, s := range l {
						name := s.Channel
						if name == "" {
							name = "(private texts, rings, pages)"
						}
						fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%d\t%s\t%s\n", name, s.Texts, s.Transmissions, s.Pages, s.Bytes,
							s.Oldest.Format("2006-01-02 15:04"), s.Newest.Format("2006-01-02 15:04"))
					}
					w.Flush()
					if len(l) == 0 {
						fmt.Println("nothing stored yet")
					}
					fmt.Printf("database %s: %d bytes on disk\n", st.Path(), size)
					return nil
				},
			},
			{
				Name:      "purge",
				Usage:     "delete a channel's history, or the part older than --before",
				ArgsUsage: " ",
				Flags: []cli.Flag{dataFlag,
					&cli.StringFlag{Name: "channel", Usage: "the channel whose history to delete (required)"},
					&cli.StringFlag{Name: "before", Usage: "delete only what is older than this: a time (2026-12-01, 2026-12-01T15:04, RFC 3339) or an age (24h, 7d); default: everything"},
				},
				Action: func(c *cli.Context) error {
					if c.NArg() > 0 {
						return fmt.Errorf("unexpected %q: relay history purge --channel NAME [--before TIME]", c.Args().First())
					}
					ch := c.String("channel")
					if ch == "" {
						return errors.New("say which channel: relay history purge --channel NAME [--before 24h]")
					}
					before, err := parseBefore(c.String("before"), time.Now())
					if err != nil {
						return err
					}
					st, err := openStore(c)
					if err != nil {
						return err
					}
					defer st.Close()
					n, err := st.Purge(ch, before)
					if err != nil {
						return err
					}
					if before.IsZero() {
						fmt.Printf("deleted %d items of %s (all of its history)\n", n, ch)
					} else {
						fmt.Printf("deleted %d items of %s older than %s\n", n, ch, before.Format(time.RFC3339))
					}
					return nil
				},
			},
		},
	}
}

// parseBefore reads --before: "" (zero time: everything), an age ("24h",
// "7d") or a time.
func parseBefore(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if n, ok := strings.CutSuffix(s, "d"); ok {
		var d float64
		if _, err := fmt.Sscanf(n, "%g", &d); err == nil && d > 0 {
			return now.Add(-time.Duration(d * 24 * float64(time.Hour))), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("--before %q: give an age (24h, 7d) or a time (2026-12-01, 2026-12-01T15:04)", s)
}
