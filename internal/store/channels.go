package store

import (
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/hark-intercom/hark/internal/accounts"
	"github.com/hark-intercom/hark/proto"
)

// HistoryMode is what a channel keeps. The values are proto.ChannelHistory's.
type HistoryMode uint8

// History modes.
const (
	HistoryOff   HistoryMode = 0 // nothing is kept
	HistoryText  HistoryMode = 1 // texts are kept
	HistoryVoice HistoryMode = 2 // texts and transmissions are kept
)

func (h HistoryMode) String() string {
	switch h {
	case HistoryOff:
		return "off"
	case HistoryText:
		return "text"
	case HistoryVoice:
		return "voice"
	}
	return "history(" + strconv.Itoa(int(h)) + ")"
}

// ChannelSettings are a channel's settings. A zero limit means no limit.
// Written and read as "key=value" words (see [ChannelSettings.String]):
//
//	mode=ptt|open  history=off|text|voice  max-length=60s  max-tx-bytes=1MB
//	max-count=1000  max-age=7d  max-bytes=100MB
type ChannelSettings struct {
	Mode    proto.ChannelMode
	History HistoryMode
	// MaxLength is the longest part of a transmission kept: a longer one is
	// stored cut at this length (flag ItemCut).
	MaxLength time.Duration
	// MaxTxBytes is the most Opus bytes kept of one transmission (cut, as
	// for MaxLength).
	MaxTxBytes int64
	// MaxCount and MaxAge bound what the channel keeps (texts and
	// transmissions), MaxBytes the Opus bytes of its transmissions: the
	// oldest items go first (MaxBytes removes transmissions only).
	MaxCount int64
	MaxAge   time.Duration
	MaxBytes int64
	// MaxTalk is the longest transmission in the channel (the relay cuts
	// it there and the talker must press again); 0 means the relay's own
	// limit (relay --max-talk).
	MaxTalk time.Duration
	// Talk and Listen are the role a user needs to talk in the channel
	// and to join or monitor it (0: everyone; an admin always may).
	Talk, Listen proto.Role
}

// DefaultSettings are a new channel's settings: texts kept (voice is
// recorded only when an admin turns it on: people must know), a week, at
// most 1000 items and 100 MB; transmissions kept up to 60 s and 1 MB.
func DefaultSettings(mode proto.ChannelMode) ChannelSettings {
	return ChannelSettings{Mode: mode, History: HistoryText, MaxLength: 60 * time.Second, MaxTxBytes: 1 << 20,
		MaxCount: 1000, MaxAge: 7 * 24 * time.Hour, MaxBytes: 100 << 20}
}

// String writes every setting, in the form Apply reads (max-talk only when
// the channel has its own).
func (c ChannelSettings) String() string {
	s := fmt.Sprintf("mode=%s history=%s max-length=%s max-tx-bytes=%s max-count=%s max-age=%s max-bytes=%s",
		c.Mode, c.History, fmtDur(c.MaxLength), fmtBytes(c.MaxTxBytes), fmtCount(c.MaxCount), fmtDur(c.MaxAge), fmtBytes(c.MaxBytes))
	if c.MaxTalk > 0 {
		s += " max-talk=" + fmtDur(c.MaxTalk)
	}
	if c.Talk != 0 {
		s += " talk=" + c.Talk.String()
	}
	if c.Listen != 0 {
		s += " listen=" + c.Listen.String()
	}
	return s
}

// parseWho reads who may talk or listen: everyone, or a role.
func parseWho(v string) (proto.Role, error) {
	switch strings.ToLower(v) {
	case "everyone", "all", "anyone":
		return 0, nil
	case "page":
		return proto.RolePage, nil
	case "admin":
		return proto.RoleAdmin, nil
	}
	return 0, errors.New("use everyone, page or admin (the role a user needs; an admin always may)")
}

// SettingsHelp describes the settings for error messages and help texts.
const SettingsHelp = "settings are key=value words: mode=ptt|open, history=off|text|voice, max-length=60s, max-tx-bytes=1MB, " +
	"max-count=1000, max-age=7d (or 24h, 30m), max-bytes=100MB, max-talk=30s (the longest transmission; none: the relay's own), talk=everyone|page|admin and listen=everyone|page|admin (who may talk in it, who may join or hear it); 0 or none: no limit"

// Apply returns c changed by the "key=value" words of s.
func (c ChannelSettings) Apply(s string) (ChannelSettings, error) {
	for _, w := range strings.Fields(s) {
		k, v, ok := strings.Cut(w, "=")
		if !ok || v == "" {
			return c, fmt.Errorf("%q is not key=value: %s", w, SettingsHelp)
		}
		var err error
		switch strings.ToLower(k) {
		case "mode":
			switch strings.ToLower(v) {
			case "ptt":
				c.Mode = proto.ModePTT
			case "open":
				c.Mode = proto.ModeOpen
			default:
				err = errors.New("use ptt or open")
			}
		case "history":
			switch strings.ToLower(v) {
			case "off", "none":
				c.History = HistoryOff
			case "text":
				c.History = HistoryText
			case "voice":
				c.History = HistoryVoice
			default:
				err = errors.New("use off, text or voice")
			}
		case "max-length":
			c.MaxLength, err = parseDur(v)
		case "max-age":
			c.MaxAge, err = parseDur(v)
		case "talk":
			c.Talk, err = parseWho(v)
		case "listen":
			c.Listen, err = parseWho(v)
		case "max-talk":
			c.MaxTalk, err = parseDur(v)
			if err == nil && c.MaxTalk > 0 && c.MaxTalk < time.Second {
				err = errors.New("at least 1s (a shorter transmission says nothing)")
			}
		case "max-tx-bytes":
			c.MaxTxBytes, err = ParseBytes(v)
		case "max-bytes":
			c.MaxBytes, err = ParseBytes(v)
		case "max-count":
			if isNone(v) {
				c.MaxCount = 0
			} else if c.MaxCount, err = strconv.ParseInt(v, 10, 64); err == nil && c.MaxCount < 0 {
				err = errors.New("negative")
			}
		default:
			return c, fmt.Errorf("unknown setting %q: %s", k, SettingsHelp)
		}
		if err != nil {
			return c, fmt.Errorf("%s=%s: %v (%s)", k, v, err, SettingsHelp)
		}
	}
	return c, nil
}

func isNone(v string) bool {
	v = strings.ToLower(v)
	return v == "0" || v == "none" || v == "off" || v == "unlimited"
}

func parseDur(v string) (time.Duration, error) {
	if isNone(v) {
		return 0, nil
	}
	if n, ok := strings.CutSuffix(v, "d"); ok {
		d, err := strconv.ParseFloat(n, 64)
		if err != nil || d < 0 {
			return 0, errors.New("not a duration")
		}
		return time.Duration(d * 24 * float64(time.Hour)), nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, errors.New("not a duration (e.g. 90s, 30m, 24h, 7d)")
	}
	return d, nil
}

func fmtDur(d time.Duration) string {
	switch {
	case d == 0:
		return "none"
	case d%(24*time.Hour) == 0:
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"
	case d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	case d%time.Minute == 0:
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	case d%time.Second == 0:
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	}
	return d.String()
}

func fmtCount(n int64) string {
	if n == 0 {
		return "none"
	}
	return strconv.FormatInt(n, 10)
}

var byteUnits = []struct {
	s string
	n int64
}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"GB", 1 << 30}, {"MB", 1 << 20}, {"KB", 1 << 10}, {"kB", 1 << 10}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}, {"k", 1 << 10}, {"B", 1}}

// ParseBytes reads a size: 1500, 64KB, 50MB, 2GB (powers of 1024; KiB/MiB/GiB
// also accepted); 0 or none: no limit.
func ParseBytes(v string) (int64, error) {
	if isNone(v) {
		return 0, nil
	}
	mul := int64(1)
	for _, u := range byteUnits {
		if n, ok := strings.CutSuffix(v, u.s); ok {
			v, mul = n, u.n
			break
		}
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || f < 0 {
		return 0, errors.New("not a size (e.g. 500KB, 50MB, 2GB)")
	}
	return int64(f * float64(mul)), nil
}

func fmtBytes(n int64) string {
	switch {
	case n == 0:
		return "none"
	case n%(1<<30) == 0:
		return strconv.FormatInt(n>>30, 10) + "GB"
	case n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + "MB"
	case n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + "KB"
	}
	return strconv.FormatInt(n, 10)
}

// Channel is a listed channel with its settings.
type Channel struct {
	Name     string
	Settings ChannelSettings
}

// Channels returns the listed channels in order, and the default one.
func (s *Store) Channels() ([]Channel, string, error) {
	rows, err := s.rdb.Query(`SELECT name, settings FROM channels WHERE position IS NOT NULL ORDER BY position`)
	if err != nil {
		return nil, "", fmt.Errorf("history store %s: cannot read the channels: %w", s.path, err)
	}
	defer rows.Close()
	var out []Channel
	for rows.Next() {
		var c Channel
		var set string
		if err := rows.Scan(&c.Name, &set); err != nil {
			return nil, "", err
		}
		if c.Settings, err = DefaultSettings(proto.ModePTT).Apply(set); err != nil {
			return nil, "", fmt.Errorf("history store %s: channel %s: %w", s.path, c.Name, err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	var def string
	s.rdb.QueryRow(`SELECT value FROM meta WHERE key = 'default_channel'`).Scan(&def)
	return out, def, nil
}

// AccountsChannels returns the listed channels as the relay's configuration.
func (s *Store) AccountsChannels() (accounts.Channels, error) {
	l, def, err := s.Channels()
	if err != nil {
		return accounts.Channels{}, err
	}
	var c accounts.Channels
	for _, ch := range l {
		c.List = append(c.List, accounts.Channel{Name: ch.Name, Mode: ch.Settings.Mode})
	}
	c.Default = def
	return c, nil
}

// ChannelsVersion returns a number that changes whenever a channel's
// settings change (here or in another process).
func (s *Store) ChannelsVersion() (uint64, error) { return s.version("channels") }

// SetChannel changes a listed channel's settings by the "key=value" words
// of settings and returns the new settings.
func (s *Store) SetChannel(name, settings string) (ChannelSettings, error) {
	var out ChannelSettings
	err := s.tx(func(tx *sql.Tx) error {
		var cur string
		err := tx.QueryRow(`SELECT settings FROM channels WHERE name = ? AND position IS NOT NULL`, name).Scan(&cur)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("there is no channel %q", name)
		}
		if err != nil {
			return err
		}
		c, err := DefaultSettings(proto.ModePTT).Apply(cur)
		if err != nil {
			return err
		}
		if out, err = c.Apply(settings); err != nil {
			return err
		}
		if _, err := tx.Exec(`UPDATE channels SET settings = ? WHERE name = ?`, out.String(), name); err != nil {
			return err
		}
		return bump(tx, "channels")
	})
	return out, err
}

// applyChannels makes list the listed channels, in order: a new channel gets
// the default settings with its mode, a known one keeps its settings but
// takes the mode from the list, and a channel not in the list is no longer
// listed (its history stays until purged).
func applyChannels(tx *sql.Tx, c accounts.Channels) error {
	if _, err := tx.Exec(`UPDATE channels SET position = NULL`); err != nil {
		return err
	}
	for i, ch := range c.List {
		var cur string
		set := DefaultSettings(ch.Mode)
		err := tx.QueryRow(`SELECT settings FROM channels WHERE name = ?`, ch.Name).Scan(&cur)
		if err == nil {
			if set, err = DefaultSettings(ch.Mode).Apply(cur); err != nil {
				return err
			}
			set.Mode = ch.Mode
		} else if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if _, err := tx.Exec(`INSERT INTO channels(name, position, settings) VALUES(?, ?, ?)
			ON CONFLICT(name) DO UPDATE SET position = excluded.position, settings = excluded.settings`,
			ch.Name, i, set.String()); err != nil {
			return err
		}
	}
	if err := setMeta(tx, "default_channel", c.Default); err != nil {
		return err
	}
	return bump(tx, "channels")
}

// ImportReport says what [Store.Import] did.
type ImportReport struct {
	Users         int    // accounts imported from the users file (first start only)
	UsersFile     string // the users file imported, "" if none was
	ChannelsFrom  string // the channels file applied, "default" for the default channels, "" if nothing changed
	ChannelsCount int
}

// Import brings the relay's configuration files into the store. The users
// file (users.json) is imported once, on the first start; from then on the
// store holds the accounts (`relay user` edits them there) and the file is
// left as it is. The channels file (channelsFile; a missing one means the
// default channels unless mustExist) is applied on the first start and
// again whenever its contents change, so that editing channels.json keeps
// working as before; settings made with `relay channel set` are kept (the
// file gives the list, the order, the default and each channel's mode).
// Neither file is modified.
func (s *Store) Import(usersFile, channelsFile string, mustExist bool) (ImportReport, error) {
	var rep ImportReport
	var users []accounts.User
	_, done := s.meta("users_imported")
	if !done && usersFile != "" {
		if _, err := os.Stat(usersFile); err == nil {
			us, err := accounts.Open(usersFile)
			if err != nil {
				return rep, fmt.Errorf("importing %s: %w (fix the file, or move it away to start without its users)", usersFile, err)
			}
			if users, err = us.List(); err != nil {
				return rep, fmt.Errorf("importing %s: %w", usersFile, err)
			}
			rep.UsersFile = usersFile
		} else if !errors.Is(err, fs.ErrNotExist) {
			return rep, fmt.Errorf("importing %s: %w", usersFile, err)
		}
	}
	var chans accounts.Channels
	hash := ""
	b, err := os.ReadFile(channelsFile)
	switch {
	case err == nil:
		if chans, err = accounts.ParseChannels(b); err != nil {
			return rep, fmt.Errorf("channels file %s: %w", channelsFile, err)
		}
		h := sha256.Sum256(b)
		hash = hex.EncodeToString(h[:])
	case errors.Is(err, fs.ErrNotExist) && !mustExist:
		if _, ok := s.meta("channels_hash"); !ok {
			chans, hash = accounts.DefaultChannels(), "default"
		}
	default:
		return rep, err
	}
	if old, _ := s.meta("channels_hash"); hash == old {
		hash = ""
	}
	err = s.tx(func(tx *sql.Tx) error {
		if !done {
			upto := s.maxIDTx(tx)
			for _, u := range users {
				var n int
				tx.QueryRow(`SELECT COUNT(*) FROM accounts WHERE name = ?`, u.Name).Scan(&n)
				if n > 0 {
					continue
				}
				if err := addAccount(tx, u, upto); err != nil {
					return err
				}
				rep.Users++
			}
			if err := setMeta(tx, "users_imported", time.Now().UTC().Format(time.RFC3339)+" "+usersFile); err != nil {
				return err
			}
			if err := bump(tx, "accounts"); err != nil {
				return err
			}
		}
		if hash != "" {
			if err := applyChannels(tx, chans); err != nil {
				return err
			}
			rep.ChannelsFrom, rep.ChannelsCount = channelsFile, len(chans.List)
			if hash == "default" {
				rep.ChannelsFrom = "default"
			}
			return setMeta(tx, "channels_hash", hash)
		}
		return nil
	})
	if err != nil {
		return rep, fmt.Errorf("history store %s: import: %w", s.path, err)
	}
	return rep, s.refreshAccounts()
}

// Imported reports whether the store has been set up from the
// configuration files (see [Store.Import]).
func (s *Store) Imported() bool {
	_, ok := s.meta("users_imported")
	return ok
}
