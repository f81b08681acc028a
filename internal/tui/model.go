package tui

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/mattn/go-runewidth"

	"github.com/hark-intercom/hark/internal/client"
	"github.com/hark-intercom/hark/internal/engine"
	"github.com/hark-intercom/hark/internal/ptt"
	"github.com/hark-intercom/hark/proto"
)

// mode is what the keyboard is doing.
type mode int

const (
	modeNormal  mode = iota
	modeText         // typing a text message
	modeChannel      // choosing a channel
	modeVolume       // setting a person's volume
)

const (
	maxMessages   = 200
	levelInterval = 100 * time.Millisecond
	requestTime   = 10 * time.Second
)

type line struct {
	at   time.Time
	text string
	kind int // 0 text, 1 ring, 2 info, 3 own text
}

// model is the bubbletea model. All its fields belong to the program's
// goroutine.
type model struct {
	cfg  Config
	key  string
	ctx  context.Context
	hold *ptt.Hold

	width, height int

	conn    client.State
	connErr string
	welcome proto.Welcome
	channel proto.ChannelInfo
	inChan  bool

	roster   client.Roster
	floor    string // who holds the floor in our channel ("" free)
	paging   string // who is paging every channel
	eng      engine.State
	level    float64 // dBFS, with a peak hold that decays
	lines    []line
	lastRing string

	echoing bool // a microphone test is recording (key e)
	// Listening and calls (intercom.go).
	monitored []proto.ChannelInfo // channels heard besides ours
	heard     map[uint16]string   // who talks in a monitored channel, by its id
	callTo    string              // whom W calls
	calls     client.Calls        // the call on the air, "alice → you"
	alarms    *client.Alarms      // alarms ringing here, ours too, oldest first (key a acknowledges the newest)

	mode  mode
	input []rune
	flash string // one-line notice under the status

	// History (a relay that keeps it).
	waiting     map[uint64]string  // ClientID → recipient of texts waiting for an offline user
	replayStop  context.CancelFunc // stops the replay under way (nil: none)
	replayEpoch int                // counts replays, so a late end of an old one is ignored
}

func newModel(cfg Config, key string, ctx context.Context) *model {
	m := &model{cfg: cfg, key: key, ctx: ctx, hold: ptt.NewHold(cfg.Hold), alarms: &client.Alarms{KeepOwn: true},
		width: 80, height: 24, level: math.Inf(-1), waiting: map[uint64]string{}}
	m.conn = cfg.Client.State()
	m.welcome = cfg.Client.Welcome()
	m.channel, m.inChan = cfg.Client.Channel()
	m.roster.SetSelf(m.welcome.Session)
	m.roster.SetChannel(m.channel.Name)
	if mon, ok := cfg.Client.(Monitorer); ok {
		m.monitored = mon.Monitored()
	}
	return m
}

func (m *model) Init() tea.Cmd { return levelTick() }

// alarmRang shows an alarm ringing here (m.alarms keeps it until
// acknowledged; our own too: a acknowledges it, which calls it off).
func (m *model) alarmRang(at time.Time, r *proto.Ring) {
	if r.From == m.self() {
		m.addLine(1, at, client.RingText(r, m.welcome.Name)+" (press a to call it off)")
	} else {
		m.addLine(1, at, client.RingText(r, m.welcome.Name)+" — press a to acknowledge")
	}
}

// echoTestLength is how long the microphone test (key e) records.
const echoTestLength = 3 * time.Second

// echoDoneMsg ends the microphone test's recording.
type echoDoneMsg struct{}

func levelTick() tea.Cmd {
	return tea.Tick(levelInterval, func(t time.Time) tea.Msg { return levelMsg(t) })
}

func (m *model) self() uint32 { return m.welcome.Session }

func (m *model) addLine(kind int, at time.Time, text string) {
	m.lines = append(m.lines, line{at: at, text: text, kind: kind})
	if len(m.lines) > maxMessages {
		m.lines = slices.Delete(m.lines, 0, len(m.lines)-maxMessages)
	}
}

func (m *model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
	case levelMsg:
		lvl := m.cfg.Engine.Level()
		// Peak hold with a 20 dB/s fall, so speech reads steadily.
		fall := m.level - 2
		m.level = math.Max(lvl, fall)
		return m, levelTick()
	case expireMsg:
		return m, m.expire(time.Time(msg))
	case echoDoneMsg:
		if m.echoing {
			m.echoing = false
			m.cfg.Engine.PressEcho(false)
			m.flash = "microphone test: playing back what the relay heard…"
		}
	case engineMsg:
		m.eng = msg.s
	case eventMsg:
		m.event(msg.ev)
	case doneMsg:
		if msg.note != "" {
			m.flash = msg.note
		}
	case joinedMsg:
		if msg.err != nil {
			m.flash = "could not switch channel: " + msg.err.Error()
		} else {
			m.channel, m.inChan = msg.ch, true
			m.roster.SetChannel(msg.ch.Name)
			m.floor = ""
			m.flash = "now in channel " + msg.ch.Name
		}
	case monitoredMsg:
		m.monitoredDone(msg)
	case textMsg:
		m.textSent(msg)
	case replayFoundMsg:
		return m, m.replayFound(msg)
	case replayMsg:
		m.replayEnded(msg)
	case tea.KeyMsg:
		return m, m.keyPress(msg)
	}
	return m, nil
}

// event updates the model with a client event.
func (m *model) event(ev client.Event) {
	at := ev.Time
	if at.IsZero() {
		at = time.Now()
	}
	if ev.State != client.StateNone {
		m.conn = ev.State
		m.connErr = ""
		if ev.Err != nil {
			m.connErr = ev.Err.Error()
		}
		switch ev.State {
		case client.StateConnected:
			m.welcome = m.cfg.Client.Welcome()
			m.channel, m.inChan = m.cfg.Client.Channel()
			m.roster.SetSelf(m.welcome.Session)
			m.roster.SetChannel(m.channel.Name)
		case client.StateReconnecting:
			m.floor = ""
			m.addLine(2, at, "connection lost; reconnecting…")
		}
		return
	}
	switch msg := ev.Msg.(type) {
	case *proto.Presence:
		m.roster.Apply(msg)
		if u, ok := m.roster.Talker(m.channel.Name); ok && m.inChan {
			m.floor = u.Name
		}
	case *proto.PresenceChange:
		for _, c := range m.roster.Apply(msg) {
			switch {
			case c.Self:
			case c.Kind == client.ChangeOffline:
				m.addLine(2, at, c.User.Name+" went offline")
			case c.Came && m.inChan:
				m.addLine(2, at, c.User.Name+" joined "+c.User.Channel)
			case c.Went && m.inChan:
				m.addLine(2, at, c.User.Name+" left "+c.Prev.Channel)
			}
		}
	case *proto.Joined:
		m.channel, m.inChan = msg.ChannelInfo, true
		m.roster.SetChannel(msg.Name)
	case *proto.Monitoring:
		m.monitored = msg.Channels
	case *proto.Whisper:
		m.whisperEvent(at, msg)
	case *proto.Talking:
		m.roster.Apply(msg)
		if m.inChan && msg.Channel != m.channel.ID && !msg.Priority &&
			slices.ContainsFunc(m.monitored, func(c proto.ChannelInfo) bool { return c.ID == msg.Channel }) {
			m.talkingElsewhere(msg) // a monitored channel
			return
		}
		name := msg.Name
		if msg.Session == m.self() {
			name = "you"
		}
		switch {
		case msg.Talking:
			m.floor = name
		case m.floor == name:
			m.floor = ""
		}
		if msg.Talking && msg.Session != m.self() {
			m.stopReplay("replay stopped: " + name + " is talking")
		}
	case *proto.Page:
		if msg.Active {
			m.paging = msg.FromName
			m.addLine(1, at, "PAGE from "+msg.FromName+" to every channel")
		} else {
			m.paging = ""
		}
	case *proto.Text:
		when := time.UnixMilli(msg.Time)
		if msg.Time == 0 {
			when = at
		}
		kind := 0
		from := msg.FromName
		if msg.From == m.self() {
			kind, from = 3, "you"
		}
		prefix := from + ": "
		if msg.To != "" {
			if kind == 3 {
				prefix = "you → " + msg.To + ": "
			} else {
				prefix = from + " (private): "
			}
		}
		m.addLine(kind, when, prefix+msg.Text)
	case *proto.Ring:
		if c := m.alarms.Apply(msg, m.self()); c.About {
			if c.Rang {
				m.alarmRang(at, msg)
			}
			return
		}
		when := time.UnixMilli(msg.Time)
		if msg.Time == 0 {
			when = at
		}
		m.addLine(1, when, client.RingText(msg, m.welcome.Name))
		who := msg.FromName
		if msg.From == m.self() {
			who = "you"
		}
		m.lastRing = fmt.Sprintf("%s rang at %s", who, when.Format("15:04:05"))
	case *proto.AlarmAck:
		m.alarms.Apply(msg, m.self())
		m.addLine(2, at, client.AlarmAckText(msg, m.self()))
	case *proto.History:
		m.missed(at, msg)
	case *proto.TextAck:
		if to, ok := m.waiting[msg.ClientID]; ok && msg.Status == proto.TextDelivered {
			delete(m.waiting, msg.ClientID)
			m.addLine(2, at, "your text to "+to+" was delivered")
		}
	case *proto.Error:
		m.addLine(2, at, "relay: "+msg.Text)
	case *proto.Bye:
		m.addLine(2, at, "the relay ended the session: "+msg.Text)
	}
}

// keyName names a key as ptt.ParseKey does.
func keyName(k tea.KeyMsg) string {
	switch k.Type {
	case tea.KeySpace:
		return "space"
	case tea.KeyRunes:
		return string(k.Runes)
	}
	return k.String()
}

// isTalkKey reports whether k is the talk key (possibly several auto-repeats
// read at once).
func (m *model) isTalkKey(k tea.KeyMsg) bool {
	if k.Alt || k.Paste {
		return false
	}
	name := keyName(k)
	if name == m.key {
		return true
	}
	want := m.key
	if want == "space" {
		want = " "
	}
	if k.Type == tea.KeyRunes && len(k.Runes) > 1 && len([]rune(want)) == 1 {
		for _, r := range k.Runes {
			if string(r) != want {
				return false
			}
		}
		return true
	}
	return false
}

func (m *model) expireCmd() tea.Cmd {
	d := m.hold.Deadline()
	if d.IsZero() {
		return nil
	}
	return tea.Tick(time.Until(d), func(t time.Time) tea.Msg { return expireMsg(t) })
}

func (m *model) expire(now time.Time) tea.Cmd {
	d := m.hold.Deadline()
	if d.IsZero() {
		return nil
	}
	if now.Before(d) {
		return m.expireCmd() // a newer key moved the deadline
	}
	if pressed, changed := m.hold.Expire(now); changed {
		m.cfg.Engine.Press(pressed)
	}
	return m.expireCmd()
}

func (m *model) keyPress(k tea.KeyMsg) tea.Cmd {
	if k.Type == tea.KeyCtrlC {
		return tea.Quit
	}
	switch m.mode {
	case modeText:
		return m.textKey(k)
	case modeChannel:
		return m.channelKey(k)
	case modeVolume:
		return m.volumeKey(k)
	case modeListen:
		return m.listenKey(k)
	case modeCall:
		return m.callKey(k)
	}
	if keyName(k) == "W" && !k.Alt && !k.Paste {
		// Hold shift-W to talk to the person picked with w alone. It
		// shares the talk key's hold: one press at a time.
		return m.callPress()
	}
	if m.isTalkKey(k) {
		if pressed, changed := m.hold.Key(time.Now()); changed {
			m.cfg.Engine.Press(pressed)
			if pressed {
				m.stopReplay("replay stopped: you are talking")
			}
		}
		return m.expireCmd()
	}
	if keyName(k) == "P" && !k.Alt && !k.Paste {
		// Hold shift-P to page every channel (the page role is needed).
		// It shares the talk key's hold: one press at a time.
		if pressed, changed := m.hold.Key(time.Now()); changed {
			m.cfg.Engine.PressPage(pressed)
			if pressed {
				m.stopReplay("replay stopped: you are paging")
				m.flash = "paging every channel while you hold P"
			}
		}
		return m.expireCmd()
	}
	switch keyName(k) {
	case "q", "ctrl+d":
		return tea.Quit
	case "t", "enter":
		m.mode, m.input = modeText, nil
		m.releaseTalk()
	case "c":
		m.mode, m.input = modeChannel, nil
		m.releaseTalk()
	case "a":
		ids := m.alarms.Ringing()
		if len(ids) == 0 {
			m.flash = "no alarm to acknowledge"
			return nil
		}
		id := ids[len(ids)-1]
		if err := m.cfg.Client.AckAlarm(id); err != nil {
			m.flash = "could not acknowledge the alarm: " + err.Error()
			return nil
		}
		m.flash = "alarm acknowledged"
	case "!":
		m.flash = "raising an alarm at every station…"
		return m.request(func(ctx context.Context) string {
			if err := m.cfg.Client.Alarm(ctx, ""); err != nil {
				return "alarm failed: " + err.Error()
			}
			return "alarm raised: every station rings until someone there presses a (press a to call it off)"
		})
	case "m":
		m.cfg.Engine.SetMuted(!m.eng.Muted)
		if m.eng.Muted {
			m.flash = "microphone on"
		} else {
			m.flash = "microphone muted: the talk key does nothing until you press m again"
		}
		m.eng.Muted = !m.eng.Muted
	case "d":
		m.cfg.Engine.SetDeafened(!m.eng.Deafened)
		if m.eng.Deafened {
			m.flash = "sound on"
		} else {
			m.flash = "deafened: you hear nobody (rings still ring) until you press d again"
		}
		m.eng.Deafened = !m.eng.Deafened
	case "v":
		m.mode, m.input = modeVolume, nil
		m.releaseTalk()
	case "l":
		if _, ok := m.cfg.Client.(Monitorer); !ok {
			m.flash = "this connection cannot listen to other channels"
			return nil
		}
		m.mode = modeListen
		m.releaseTalk()
	case "w":
		m.mode, m.input = modeCall, nil
		m.releaseTalk()
	case "e":
		if m.echoing {
			return nil
		}
		m.releaseTalk()
		m.echoing = true
		m.cfg.Engine.PressEcho(true)
		m.flash = fmt.Sprintf("microphone test: speak now for %v; the relay plays it back to you alone", echoTestLength)
		return tea.Tick(echoTestLength, func(time.Time) tea.Msg { return echoDoneMsg{} })
	case "r":
		m.flash = "ringing every station…"
		return m.request(func(ctx context.Context) string {
			if err := m.cfg.Client.Ring(ctx, ""); err != nil {
				return "ring failed: " + err.Error()
			}
			return "you rang every station"
		})
	case "p":
		return m.replay()
	case "esc":
		m.flash = ""
		m.stopReplay("replay stopped")
	}
	return nil
}

// releaseTalk stops talking when the keyboard is taken for typing.
func (m *model) releaseTalk() {
	if m.hold.Release() {
		m.cfg.Engine.Press(false)
	}
}

func (m *model) request(f func(ctx context.Context) string) tea.Cmd {
	ctx := m.ctx
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, requestTime)
		defer cancel()
		return doneMsg{note: f(ctx)}
	}
}

func (m *model) edit(k tea.KeyMsg) {
	switch k.Type {
	case tea.KeyBackspace:
		if len(m.input) > 0 {
			m.input = m.input[:len(m.input)-1]
		}
	case tea.KeySpace:
		m.input = append(m.input, ' ')
	case tea.KeyRunes:
		if !k.Alt {
			m.input = append(m.input, k.Runes...)
		}
	}
	if len(m.input) > proto.MaxTextLen {
		m.input = m.input[:proto.MaxTextLen]
	}
}

// textKey edits a text message. "@name text" sends privately.
func (m *model) textKey(k tea.KeyMsg) tea.Cmd {
	switch k.Type {
	case tea.KeyEsc:
		m.mode, m.input = modeNormal, nil
		return nil
	case tea.KeyEnter:
		text := strings.TrimSpace(string(m.input))
		m.mode, m.input = modeNormal, nil
		if text == "" {
			return nil
		}
		to := ""
		if strings.HasPrefix(text, "@") {
			name, rest, _ := strings.Cut(text[1:], " ")
			to, text = name, strings.TrimSpace(rest)
			if to == "" || text == "" {
				m.flash = "a private message is written @NAME TEXT"
				return nil
			}
		}
		return m.sendText(to, text)
	}
	m.edit(k)
	return nil
}

// channelKey picks a channel: its number, or its name and Enter.
func (m *model) channelKey(k tea.KeyMsg) tea.Cmd {
	chans := m.welcome.Channels
	switch k.Type {
	case tea.KeyEsc:
		m.mode, m.input = modeNormal, nil
		return nil
	case tea.KeyEnter:
		want := strings.TrimSpace(string(m.input))
		m.mode, m.input = modeNormal, nil
		if want == "" {
			return nil
		}
		if n, err := strconv.Atoi(want); err == nil && n >= 1 && n <= len(chans) {
			want = chans[n-1].Name
		}
		return m.join(want)
	case tea.KeyRunes:
		// A single digit picks at once when there are fewer than ten channels.
		if len(m.input) == 0 && len(k.Runes) == 1 && len(chans) < 10 {
			if n := int(k.Runes[0] - '0'); n >= 1 && n <= len(chans) {
				m.mode = modeNormal
				return m.join(chans[n-1].Name)
			}
		}
	}
	m.edit(k)
	return nil
}

// volumeKey reads "NAME LEVEL": LEVEL is a percentage (0 to 400, "mute"
// for 0, "reset" for 100); a NAME alone shows that person's volume.
func (m *model) volumeKey(k tea.KeyMsg) tea.Cmd {
	switch k.Type {
	case tea.KeyEsc:
		m.mode, m.input = modeNormal, nil
		return nil
	case tea.KeyEnter:
		in := strings.Fields(string(m.input))
		m.mode, m.input = modeNormal, nil
		if len(in) == 0 {
			return nil
		}
		name := strings.TrimPrefix(in[0], "@")
		chName, isChannel := strings.CutPrefix(in[0], "#")
		if len(in) == 1 && isChannel {
			m.channelVolume(chName, -1)
			return nil
		}
		if len(in) == 1 {
			m.flash = fmt.Sprintf("%s's volume is %.0f%%", name, 100*m.cfg.Engine.Volume(name))
			return nil
		}
		var pct float64
		switch arg := strings.TrimSuffix(in[1], "%"); arg {
		case "mute", "off":
			pct = 0
		case "reset", "normal":
			pct = 100
		default:
			v, err := strconv.ParseFloat(arg, 64)
			if err != nil || v < 0 || v > 400 {
				m.flash = "volume: give a name and a percentage from 0 to 400 (or mute, reset), e.g. bob 50"
				return nil
			}
			pct = v
		}
		if isChannel {
			m.channelVolume(chName, pct)
			return nil
		}
		m.cfg.Engine.SetVolume(name, pct/100)
		if pct == 0 {
			m.flash = name + " is muted for you (v " + name + " reset to hear them again)"
		} else {
			m.flash = fmt.Sprintf("%s's volume is now %.0f%%", name, pct)
		}
		return nil
	}
	m.edit(k)
	return nil
}

func (m *model) join(name string) tea.Cmd {
	m.flash = "switching to " + name + "…"
	ctx := m.ctx
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, requestTime)
		defer cancel()
		ch, err := m.cfg.Client.Join(ctx, name)
		return joinedMsg{ch, err}
	}
}

// View draws the screen: a header, the people and messages side by side,
// the floor and microphone, and the key help or the line being typed.
func (m *model) View() string {
	w, h := max(m.width, 40), max(m.height, 12)
	var b strings.Builder
	put := func(s string) {
		b.WriteString(fit(s, w))
		b.WriteString("\n")
	}

	// Header.
	conn := m.conn.String()
	switch m.conn {
	case client.StateConnected:
		conn = "connected"
	case client.StateReconnecting:
		conn = "RECONNECTING"
	}
	ch := "no channel"
	if m.inChan {
		ch = "#" + m.channel.Name + " (" + modeName(m.channel.Mode) + ")"
		if len(m.monitored) > 0 {
			ch += " +" + m.monitoredNames()
		}
		switch m.channel.History {
		case proto.HistoryVoice:
			ch += " ● recorded"
		case proto.HistoryText:
			ch += " texts kept"
		}
		if m.channel.Access&proto.AccessNoTalk != 0 {
			ch += " listen only"
		}
	}
	put(fmt.Sprintf(" Hark  %s@%s  %s  [%s]", m.welcome.Name, m.cfg.Client.Relay(), ch, conn))
	if m.conn == client.StateReconnecting && m.connErr != "" {
		put("  " + m.connErr)
	} else {
		put(strings.Repeat("─", w))
	}

	// Body: people left, messages right.
	bodyRows := h - 2 - 5
	leftW := 26
	rightW := w - leftW - 3
	left := m.peopleLines(leftW)
	right := m.messageLines(rightW, bodyRows-1)
	for i := range bodyRows {
		l, r := "", ""
		switch {
		case i == 0:
			l = fmt.Sprintf("Online (%d)", m.roster.Len())
			r = "Messages"
		case i-1 < len(left):
			l = left[i-1]
		}
		if i > 0 && i-1 < len(right) {
			r = right[i-1]
		}
		put(pad(l, leftW) + " │ " + r)
	}

	// Status.
	put(strings.Repeat("─", w))
	put(m.floorLine())
	put(m.micLine(w))
	if m.flash != "" {
		put("  " + m.flash)
	} else if m.lastRing != "" {
		put("  last ring: " + m.lastRing)
	} else {
		put("")
	}
	// Keys or input (no newline at the very end, so 24 lines fill 24 rows).
	var last string
	switch m.mode {
	case modeText:
		last = "text (Enter sends, Esc cancels, @name for private)> " + string(m.input) + "█"
	case modeVolume:
		last = "volume (name or #channel and 0-400%, mute or reset; Esc)> " + string(m.input) + "█"
	case modeListen:
		last = m.listenPrompt()
	case modeCall:
		last = "call whom: a name, several (bob, carol) or role:page (then hold W to talk to them alone; Esc)> " + string(m.input) + "█"
	case modeChannel:
		var names []string
		for i, c := range m.welcome.Channels {
			names = append(names, fmt.Sprintf("%d %s", i+1, c.Name))
		}
		last = "channel [" + strings.Join(names, ", ") + "] (number or name, Esc)> " + string(m.input) + "█"
	default:
		talk := m.key + " hold to talk"
		if m.cfg.Hold.Toggle {
			talk = m.key + " talk on/off"
		}
		keys := []string{talk}
		if m.alarms.Len() > 0 {
			keys = append(keys, "a ACKNOWLEDGE ALARM")
		}
		keys = append(keys, "t text", "c channel", "r ring", "! alarm", "P page")
		if m.cfg.Replay != nil {
			keys = append(keys, "p replay")
		}
		keys = append(keys, "l listen", "w call")
		if m.callTo != "" {
			keys = append(keys, "W talk to "+m.callTo)
		}
		keys = append(keys, "e mic test", "m mute", "d deafen", "v volume", "q quit")
		last = strings.Join(keys, " · ")
	}
	b.WriteString(fit(last, w))
	return b.String()
}

func modeName(mo proto.ChannelMode) string {
	if mo == proto.ModeOpen {
		return "open"
	}
	return "ptt"
}

func (m *model) peopleLines(width int) []string {
	users := m.roster.Users()
	mine := m.channel.Name
	slices.SortFunc(users, func(a, b proto.UserInfo) int {
		// Our channel first, then by channel and name.
		am, bm := a.Channel == mine, b.Channel == mine
		if am != bm {
			if am {
				return -1
			}
			return 1
		}
		if c := strings.Compare(a.Channel, b.Channel); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	var out []string
	for _, u := range users {
		mark := "  "
		if u.Talking {
			mark = "▶ "
		}
		name := u.Name
		if u.Session == m.self() {
			name += " (you)"
		}
		chn := u.Channel
		if chn == "" {
			chn = "-"
		}
		s := mark + pad(name, 13) + " " + chn
		if u.Talking {
			s = mark + pad(name, 13) + " TALKING"
		}
		out = append(out, fit(s, width))
	}
	return out
}

// messageLines returns the last rows lines of messages, wrapped to width.
func (m *model) messageLines(width, rows int) []string {
	var out []string
	for i := len(m.lines) - 1; i >= 0 && len(out) < rows; i-- {
		l := m.lines[i]
		text := clock(l.at) + " "
		switch l.kind {
		case 1:
			text += "** " + l.text + " **"
		case 2:
			text += "-- " + l.text
		default:
			text += l.text
		}
		wrapped := wrap(text, width)
		for j := len(wrapped) - 1; j >= 0 && len(out) < rows; j-- {
			out = append(out, wrapped[j])
		}
	}
	slices.Reverse(out)
	return out
}

func (m *model) floorLine() string {
	var s string
	switch {
	case m.paging != "":
		s = "Floor: PAGE by " + m.paging
	case m.calls.String() != "" && (m.eng.Talking || !strings.HasPrefix(m.calls.String(), "you")):
		s = "CALL " + m.calls.String() + " (nobody else hears it)"
	case m.eng.Talking:
		s = "Floor: YOU are talking"
	case m.eng.Requesting:
		s = "Floor: asking for the floor…"
	case m.eng.Busy:
		who := m.floor
		if who == "" {
			who = "someone else"
		}
		s = "Floor: BUSY — " + who + " is talking (release and try again)"
	case m.floor != "" && m.floor != "you":
		s = "Floor: " + m.floor + " is talking"
	default:
		s = "Floor: free"
	}
	if m.eng.Receiving {
		s += "   ♪ receiving"
	}
	s += m.heardLine()
	if m.eng.Deafened {
		s += "   DEAFENED (d)"
	}
	if m.alarms.Len() > 0 {
		s = " ALARM — press a to acknowledge ·" + s
	}
	return " " + s
}

// micLine draws the input level meter from -60 to 0 dBFS.
func (m *model) micLine(width int) string {
	const barW = 30
	lvl := m.level
	fill := 0
	if !math.IsInf(lvl, -1) && !math.IsNaN(lvl) {
		fill = int(math.Round((lvl + 60) / 60 * barW))
	}
	fill = min(max(fill, 0), barW)
	db := "  -∞ dB"
	if !math.IsInf(lvl, -1) && !math.IsNaN(lvl) {
		db = fmt.Sprintf("%4.0f dB", math.Max(lvl, -99))
	}
	state := "idle"
	switch {
	case m.eng.Muted:
		state = "MUTED (m)"
	case m.eng.Talking:
		state = "ON AIR"
	case m.eng.Pressed:
		state = "pressed"
	}
	s := " Mic ▕" + strings.Repeat("█", fill) + strings.Repeat("░", barW-fill) + "▏" + db + "  " + state
	return fit(s, width)
}

// width returns the display cells of s: runes are measured one by one
// (go-runewidth's table), which is much cheaper than grapheme segmentation
// and right for the text shown here (names, messages, box drawing).
func width(s string) int {
	w := 0
	for _, r := range s {
		if r < 0x80 {
			w++
		} else {
			w += runewidth.RuneWidth(r)
		}
	}
	return w
}

// fit cuts s to width display cells.
func fit(s string, cells int) string {
	if len(s) <= cells {
		return s // bytes ≥ cells for any string
	}
	w := 0
	for i, r := range s {
		rw := 1
		if r >= 0x80 {
			rw = runewidth.RuneWidth(r)
		}
		if w+rw > cells {
			return s[:i]
		}
		w += rw
	}
	return s
}

// pad cuts or pads s to exactly width cells.
func pad(s string, cells int) string {
	s = fit(s, cells)
	return s + strings.Repeat(" ", max(0, cells-width(s)))
}

// wrap breaks s into lines of at most cells cells, at spaces when it can.
func wrap(s string, cells int) []string {
	if cells < 8 {
		return []string{fit(s, cells)}
	}
	var out []string
	for width(s) > cells {
		cut := fit(s, cells)
		if i := strings.LastIndexByte(cut, ' '); i > cells/2 {
			cut = cut[:i]
		}
		out = append(out, cut)
		s = "  " + strings.TrimLeft(s[len(cut):], " ")
	}
	return append(out, s)
}
