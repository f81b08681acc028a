package accounts

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/hark-intercom/hark/proto"
)

// Channel is one configured channel.
type Channel struct {
	Name string
	Mode proto.ChannelMode
}

// Channels is the relay's channel configuration: the channels in order (their
// voice ids are 1, 2, 3… in this order) and the one a client joins when it
// names none.
type Channels struct {
	List    []Channel
	Default string
}

// DefaultChannels is used when no channels file exists: "lobby"
// (push-to-talk, the default) and "ops" (open: several may talk at once).
func DefaultChannels() Channels {
	return Channels{
		List:    []Channel{{Name: "lobby", Mode: proto.ModePTT}, {Name: "ops", Mode: proto.ModeOpen}},
		Default: "lobby",
	}
}

// The channels file (DATA/channels.json or --channels FILE):
//
//	{
//	  "default": "lobby",
//	  "channels": [
//	    {"name": "lobby", "mode": "ptt"},
//	    {"name": "ops",   "mode": "open"}
//	  ]
//	}
//
// mode is "ptt" (one talker at a time; the default when omitted) or "open".
// "default" may be omitted: the first channel is then the default.
type channelsJSON struct {
	Default  string `json:"default"`
	Channels []struct {
		Name string `json:"name"`
		Mode string `json:"mode"`
	} `json:"channels"`
}

// ParseChannels parses a channels file's contents (see [LoadChannels]).
func ParseChannels(b []byte) (Channels, error) {
	var f channelsJSON
	if err := json.Unmarshal(b, &f); err != nil {
		return Channels{}, err
	}
	var c Channels
	seen := map[string]bool{}
	for i, ch := range f.Channels {
		if err := CheckName("channel", ch.Name); err != nil {
			return Channels{}, fmt.Errorf("channel %d: %w", i+1, err)
		}
		if seen[ch.Name] {
			return Channels{}, fmt.Errorf("channel %q is listed twice", ch.Name)
		}
		seen[ch.Name] = true
		var m proto.ChannelMode
		switch strings.ToLower(ch.Mode) {
		case "", "ptt":
			m = proto.ModePTT
		case "open":
			m = proto.ModeOpen
		default:
			return Channels{}, fmt.Errorf("channel %q: unknown mode %q (use \"ptt\" or \"open\")", ch.Name, ch.Mode)
		}
		c.List = append(c.List, Channel{Name: ch.Name, Mode: m})
	}
	if len(c.List) == 0 {
		return Channels{}, errors.New("no channels listed")
	}
	if len(c.List) >= int(proto.PageChannel) {
		return Channels{}, fmt.Errorf("too many channels: %d", len(c.List))
	}
	c.Default = f.Default
	if c.Default == "" {
		c.Default = c.List[0].Name
	}
	if !seen[c.Default] {
		return Channels{}, fmt.Errorf("the default channel %q is not in the list", c.Default)
	}
	return c, nil
}

// LoadChannels reads a channels file. If the file does not exist and
// mustExist is false it returns [DefaultChannels].
func LoadChannels(path string, mustExist bool) (Channels, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && !mustExist {
		return DefaultChannels(), nil
	}
	if err != nil {
		return Channels{}, err
	}
	c, err := ParseChannels(b)
	if err != nil {
		return Channels{}, fmt.Errorf("channels file %s: %w", path, err)
	}
	return c, nil
}
