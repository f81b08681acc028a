package engine

import (
	"fmt"
	"strings"

	"github.com/hark-intercom/hark/internal/tones"
)

// Cue is one of the local sounds the engine plays on the playback device.
type Cue uint8

// The cues.
const (
	CueRing       Cue = iota // someone rang every station
	CueBusy                  // the floor was refused (someone else is talking); loops while the talk key is held
	CueTalkPermit            // the floor was granted: speak now
	CueRoger                 // another talker's transmission ended: you may answer
	CueJoin                  // someone joined your channel
	CueLeave                 // someone left your channel
	CueMessage               // a text message arrived
	CueAlarm                 // an alarm: loops until this station acknowledges it
	CueCall                  // someone started a call to you alone (whisper)
	numCues
)

var cueNames = [numCues]string{"ring", "busy", "permit", "roger", "join", "leave", "message", "alarm", "call"}

func (c Cue) String() string {
	if c < numCues {
		return cueNames[c]
	}
	return fmt.Sprintf("cue(%d)", uint8(c))
}

// CueSet is a set of cues, bit i being Cue i. The zero value is empty.
type CueSet uint16

// AllCues holds every cue.
const AllCues CueSet = 1<<numCues - 1

// Has reports whether c is in s.
func (s CueSet) Has(c Cue) bool { return s&(1<<c) != 0 }

// With returns s with c added.
func (s CueSet) With(c Cue) CueSet { return s | 1<<c }

func (s CueSet) String() string {
	var names []string
	for c := Cue(0); c < numCues; c++ {
		if s.Has(c) {
			names = append(names, c.String())
		}
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ",")
}

// CueNames lists the names ParseCues accepts, for help texts.
func CueNames() string { return strings.Join(cueNames[:], ", ") }

// ParseCues parses a comma-separated list of cue names ("ring,busy"), "all"
// or "none" (or "").
func ParseCues(list string) (CueSet, error) {
	var s CueSet
	for _, f := range strings.Split(list, ",") {
		f = strings.ToLower(strings.TrimSpace(f))
		switch f {
		case "", "none":
			continue
		case "all":
			s = AllCues
			continue
		case "talk-permit", "talkpermit":
			f = "permit"
		case "eot", "end":
			f = "roger"
		case "text":
			f = "message"
		}
		found := false
		for c := Cue(0); c < numCues; c++ {
			if cueNames[c] == f {
				s = s.With(c)
				found = true
			}
		}
		if !found {
			return 0, fmt.Errorf("unknown sound %q: the sounds are %s (or all, none)", f, CueNames())
		}
	}
	return s, nil
}

// cueSounds are the precomputed sounds, indexed by Cue.
type cueSounds [numCues][]int16

func makeCueSounds() *cueSounds {
	return &cueSounds{
		CueRing:       tones.Ring(),
		CueBusy:       tones.Busy(),
		CueTalkPermit: tones.TalkPermit(),
		CueRoger:      tones.Roger(),
		CueJoin:       tones.Join(),
		CueLeave:      tones.Leave(),
		CueMessage:    tones.Message(),
		CueAlarm:      tones.Alarm(),
		CueCall:       tones.Call(),
	}
}

// cueCmd is a request to the player on the audio thread.
type cueCmd struct {
	cue  Cue
	loop bool // start looping (busy); with stop: stop it
	stop bool
}

// voice is one sound being played.
type voice struct {
	cue  Cue
	pos  int
	loop bool
}

// player mixes cues into playback periods. It lives on the audio thread:
// only mix touches its fields; requests arrive on cmds.
type player struct {
	sounds *cueSounds
	cmds   chan cueCmd
	voices []voice // at most maxVoices
}

const maxVoices = 8

func newPlayer() *player {
	return &player{sounds: makeCueSounds(), cmds: make(chan cueCmd, 32), voices: make([]voice, 0, maxVoices)}
}

// send queues a request without blocking; it reports false when the queue
// was full (the cue is dropped).
func (p *player) send(c cueCmd) bool {
	select {
	case p.cmds <- c:
		return true
	default:
		return false
	}
}

// mix adds the playing cues to out (with saturation). Audio thread only.
func (p *player) mix(out []int16) {
	for {
		var c cueCmd
		select {
		case c = <-p.cmds:
		default:
			goto drained
		}
		if c.stop {
			p.voices = p.drop(c.cue)
			continue
		}
		if c.loop {
			p.voices = p.drop(c.cue) // one busy loop at a time
		}
		if len(p.voices) < maxVoices {
			p.voices = append(p.voices, voice{cue: c.cue, loop: c.loop})
		}
	}
drained:
	kept := p.voices[:0]
	for _, v := range p.voices {
		snd := p.sounds[v.cue]
		for i := range out {
			if v.pos >= len(snd) {
				if !v.loop || len(snd) == 0 {
					break
				}
				v.pos = 0
			}
			out[i] = sat(int32(out[i]) + int32(snd[v.pos]))
			v.pos++
		}
		if v.loop || v.pos < len(snd) {
			kept = append(kept, v)
		}
	}
	p.voices = kept
}

func (p *player) drop(c Cue) []voice {
	kept := p.voices[:0]
	for _, v := range p.voices {
		if v.cue != c {
			kept = append(kept, v)
		}
	}
	return kept
}

func sat(v int32) int16 {
	if v > 32767 {
		return 32767
	}
	if v < -32768 {
		return -32768
	}
	return int16(v)
}
