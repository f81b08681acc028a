package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/hark-intercom/hark/internal/client"
	"github.com/hark-intercom/hark/internal/engine"
	"github.com/hark-intercom/hark/internal/history"
	"github.com/hark-intercom/hark/proto"
)

func init() {
	register(&cli.Command{
		Name:  "history",
		Usage: "list what the relay kept: texts, transmissions, rings and pages",
		Description: `Prints one line per item, oldest first: its number, the local time it
happened, who, where, and the text or how long the transmission lasted
("page", "ring" and "cut" say what kind it was; "cut" means the channel
keeps only the start of long transmissions). Items you had not seen yet
are marked "new", and are counted as seen once listed. Play a
transmission with "talk play NUMBER".

What is kept depends on each channel's settings on the relay (history=off,
text or voice, and how much and how long). Private texts to you are
listed with everything else; texts you sent to someone who was offline
show "waiting" until they are delivered.`,
		Flags: append(withoutFlag(commonFlags(), "channel"),
			&cli.StringFlag{Name: "channel", Aliases: []string{"c"},
				Usage: "list only this `CHANNEL`'s items", DefaultText: "every channel you may see, and your private texts, rings and pages"},
			&cli.DurationFlag{Name: "since", Usage: "list only items from this long ago until now, e.g. 1h or 30m", DefaultText: "no limit"},
			&cli.IntFlag{Name: "limit", Aliases: []string{"n"}, Value: 50, Usage: "list at most this many items (the newest), up to 500"},
		),
		Action: historyList,
	})
	register(&cli.Command{
		Name:      "play",
		Usage:     "play a stored transmission, or save it as a WAV file",
		ArgsUsage: "NUMBER",
		Description: `Fetches the transmission with this number (from "talk history") from the
relay and plays it on the sound card, or with --out writes it to a 48 kHz
mono 16-bit WAV file (or an Ogg Opus file: --out NAME.ogg). Pauses in the
transmission are kept as silence. An existing file is not overwritten
unless --force is given.`,
		Flags: append(append(commonFlags(), withoutFlag(audioFlags(), "mute", "capture-device")...),
			&cli.StringFlag{Name: "out", Aliases: []string{"o"}, TakesFile: true,
				Usage: "write the transmission to `FILE` instead of playing it: a WAV file (48 kHz mono 16-bit), or Ogg Opus when the name ends in .ogg or .opus (the stored sound as it is, smaller); - for standard output (WAV)"},
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "with --out, overwrite the file if it exists"},
		),
		Action: play,
	})
}

// withoutFlag returns flags without the ones named.
func withoutFlag(flags []cli.Flag, names ...string) []cli.Flag {
	return slices.DeleteFunc(flags, func(f cli.Flag) bool { return slices.Contains(names, f.Names()[0]) })
}

func historyList(cc *cli.Context) error {
	if cc.NArg() != 0 {
		return usagef("history takes no arguments (did you mean --channel %s?)", cc.Args().First())
	}
	limit := cc.Int("limit")
	if limit < 1 || limit > 500 {
		return usagef("--limit must be from 1 to 500")
	}
	if cc.Duration("since") < 0 {
		return usagef("--since must be a positive duration, e.g. 1h")
	}
	cfg, err := clientConfig(cc)
	if err != nil {
		return err
	}
	cfg.Channel = "" // --channel filters here; the session joins the default channel
	c, err := dial(cc.Context, cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	if !c.HasHistory() {
		return client.ErrNoHistory
	}
	q := proto.HistoryQuery{Channel: cc.String("channel"), Limit: uint16(limit)}
	if d := cc.Duration("since"); d > 0 {
		q.Since = time.Now().Add(-d).UnixMilli()
	}
	items, more, err := c.History(cc.Context, q)
	if err != nil {
		return err
	}
	// The catch-up came before the answer (the relay sends it at login).
	missed, missedMore := c.Missed()
	isNew := map[uint64]bool{}
	for _, it := range missed {
		isNew[it.ID] = true
	}
	slices.Reverse(items) // oldest first, the newest next to the prompt
	w := cc.App.Writer
	if len(items) == 0 {
		fmt.Fprintln(cc.App.ErrWriter, "nothing kept"+historyScope(q)+" (see \"talk history --help\" for what the relay keeps)")
	}
	if more {
		fmt.Fprintf(cc.App.ErrWriter, "(older items not listed: raise --limit, at most 500, or use --since)\n")
	}
	shown := map[uint64]bool{}
	newCount := 0
	for _, it := range items {
		mark := "   "
		if isNew[it.ID] {
			mark = "new"
			newCount++
		}
		shown[it.ID] = true
		fmt.Fprintf(w, "%s %s\n", mark, history.Line(it, c.Welcome().Name, time.Local))
	}
	// Count as seen the missed items up to the first one not listed.
	var upTo uint64
	ids := make([]uint64, 0, len(missed))
	for _, it := range missed {
		ids = append(ids, it.ID)
	}
	slices.Sort(ids)
	for _, id := range ids {
		if !shown[id] {
			break
		}
		upTo = id
	}
	if unseen := len(missed) - newCount; unseen > 0 || missedMore {
		fmt.Fprintf(cc.App.ErrWriter, "%d new items not listed here (other channels, or older): \"talk history\" without --channel or --since lists everything\n", unseen)
	}
	if upTo > 0 {
		c.MarkRead(upTo)
		// The relay takes it in order: a ping's answer means it has it.
		if _, err := c.Ping(cc.Context); err != nil {
			return fmt.Errorf("could not count the new items as seen: %w", err)
		}
	}
	return nil
}

func historyScope(q proto.HistoryQuery) string {
	s := ""
	if q.Channel != "" {
		s += " in channel " + q.Channel
	}
	if q.Since != 0 {
		s += " since " + time.UnixMilli(q.Since).Format("15:04:05")
	}
	return s
}

func play(cc *cli.Context) error {
	if cc.NArg() != 1 {
		return usagef("play needs the number of one transmission, from \"talk history\" (talk play [flags] NUMBER)")
	}
	id, err := strconv.ParseUint(strings.TrimPrefix(cc.Args().First(), "#"), 10, 64)
	if err != nil || id == 0 {
		return usagef("play: %q is not an item number (\"talk history\" lists them)", cc.Args().First())
	}
	var out recordOut
	toFile := cc.IsSet("out")
	if toFile {
		if out, err = checkOut(cc.String("out"), cc.App.Writer); err != nil {
			return err
		}
		if out.path != "" && !cc.Bool("force") {
			if fi, err := os.Stat(out.path); err == nil && fi.Mode().IsRegular() {
				return usagef("%s already exists: choose another name, or add --force to overwrite it", out.path)
			} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
	} else if cc.Bool("force") {
		return usagef("--force goes with --out FILE (it allows overwriting the file)")
	}
	cfg, err := clientConfig(cc)
	if err != nil {
		return err
	}
	if toFile {
		return playToFile(cc, cfg, id, out)
	}
	return playOnCard(cc, cfg, id)
}

func playToFile(cc *cli.Context, cfg client.Config, id uint64, out recordOut) error {
	c, err := dial(cc.Context, cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	rec, err := c.Fetch(cc.Context, id)
	if err != nil {
		return err
	}
	if ext := strings.ToLower(filepath.Ext(out.path)); ext == ".ogg" || ext == ".opus" {
		return writeOgg(cc, rec, out)
	}
	pcm, st, err := history.Decode(rec.Packets)
	if err != nil {
		return fmt.Errorf("transmission %d: %w", id, err)
	}
	if st.Bad > 0 {
		fmt.Fprintf(cc.App.ErrWriter, "warning: %d of the %d stored packets did not decode; their place is filled with concealment\n", st.Bad, len(rec.Packets))
	}
	w, closeOut, err := out.open()
	if err != nil {
		return err
	}
	defer closeOut()
	if err := w.Write(pcm); err != nil {
		return fmt.Errorf("writing %s: %w", out.name, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", out.name, err)
	}
	fmt.Fprintf(cc.App.ErrWriter, "wrote %v (%s) to %s\n", history.Duration(pcm).Round(10*time.Millisecond),
		history.Describe(rec.Item, cfg.Name), out.name)
	return nil
}

// writeOgg writes the recording as Ogg Opus (its packets as they are) to
// out.path: a new file, or one play's checks allowed to replace.
func writeOgg(cc *cli.Context, rec *client.Recording, out recordOut) error {
	var buf bytes.Buffer
	if err := history.WriteOgg(&buf, rec.Item, rec.Packets); err != nil {
		return fmt.Errorf("transmission %d: %w", rec.Item.ID, err)
	}
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if _, err := os.Stat(out.path); err == nil {
		flags = os.O_WRONLY | os.O_TRUNC // --force, or a named pipe
	}
	f, err := os.OpenFile(out.path, flags, 0o666)
	if err != nil {
		return fmt.Errorf("cannot write %s: %w", out.path, err)
	}
	_, err = f.Write(buf.Bytes())
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", out.path, err)
	}
	fmt.Fprintf(cc.App.ErrWriter, "wrote %v (%s) to %s as Ogg Opus\n", (time.Duration(rec.Item.Duration) * time.Millisecond).Round(10*time.Millisecond),
		history.Describe(rec.Item, ""), out.path)
	return nil
}

// playOnCard plays the transmission through the engine's playout, as live
// voice is played, and returns once it has been heard to the end.
func playOnCard(cc *cli.Context, cfg client.Config, id uint64) error {
	ecfg, err := engineConfig(cc, false)
	if err != nil {
		return err
	}
	ecfg.Logger = cfg.Logger
	// Wait for the end of the sound: the engine says when nothing is
	// audible any more, after it was heard and the last frame was fed.
	var mu sync.Mutex // guards receiving, heard, fedAll
	var receiving, heard, fedAll bool
	finished := make(chan struct{})
	var once sync.Once
	check := func() {
		if fedAll && heard && !receiving {
			once.Do(func() { close(finished) })
		}
	}
	ecfg.OnState = func(s engine.State) {
		mu.Lock()
		receiving = s.Receiving
		heard = heard || receiving
		check()
		mu.Unlock()
	}
	e, err := engine.New(ecfg)
	if err != nil {
		return err
	}
	c, err := dial(cc.Context, cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	if !c.HasHistory() {
		return client.ErrNoHistory
	}
	ctx, cancel := context.WithCancel(cc.Context)
	defer cancel()
	engErr := make(chan error, 1)
	go func() { engErr <- e.Run(ctx, engine.ClientFloor(c)) }()

	item, err := c.Item(ctx, id)
	if err != nil {
		return err
	}
	fmt.Fprintf(cc.App.ErrWriter, "playing %s\n", history.Describe(item, cfg.Name))
	if err := history.Replay(ctx, c, id, e.Voice); err != nil {
		return err
	}
	mu.Lock()
	fedAll = true
	check()
	mu.Unlock()
	// A sound that is never heard (nothing decoded) ends the wait after
	// the longest a jitter buffer holds voice.
	never := time.NewTimer(3 * time.Second)
	defer never.Stop()
	for {
		select {
		case <-finished:
		case <-never.C:
			mu.Lock()
			h := heard
			mu.Unlock()
			if h {
				continue
			}
			cfg.Logger.Warn("the transmission was fetched but nothing of it was heard")
		case err := <-engErr:
			if err != nil {
				return err
			}
			return errors.New("the sound card stopped during the replay")
		case <-ctx.Done():
			return ctx.Err()
		}
		break
	}
	cancel()
	return <-engErr
}
