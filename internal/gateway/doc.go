// Package gateway bridges web browsers to a Hark relay. It serves the page in
// package web and a websocket at /ws; each websocket is one browser user, and
// the gateway runs one relay client session for each (through the RelaySession
// seam, implemented with internal/client).
//
// # Websocket protocol (version 1)
//
// Text frames carry JSON objects with a "t" (type) field; binary frames carry
// audio and start with a one-byte kind. Unknown JSON types are answered with an
// error and otherwise ignored; unknown fields are ignored.
//
// Browser to gateway, JSON:
//
//	{"t":"login","name":"ann","password":"","channel":"","playback":"pcm"}
//	    First message, required. playback "pcm" (default) streams PCM frames;
//	    "wav" sends one WAV blob per transmission (browsers that cannot play
//	    live audio). channel "" joins the relay's default channel.
//	{"t":"join","channel":"ops"}              switch channel
//	{"t":"talk","on":true,"format":"pcm","rate":48000}
//	{"t":"talk","on":true,"format":"opus"}    Opus packets encoded by the page (WebCodecs)
//	{"t":"talk","on":true,"format":"webm"}    (or "ogg", or "mp4": Safari's fragmented MP4 with Opus; AAC is refused)
//	{"t":"talk","on":true,"format":"pcm","rate":48000,"page":true}
//	    a page: heard in every channel, over anyone talking (only for users
//	    whose welcome lists the "page" role; others get an error "forbidden")
//	{"t":"talk","on":true,"format":"opus","to":"bob"}
//	    a call: only bob hears it, wherever he is, and no channel floor is
//	    needed; refused with an error "no_user" when bob is not online,
//	    "busy" when someone else is calling him. "to":"bob,carol" calls
//	    several (at most 16), "to":"role:page" everyone online with the
//	    role (as talk send --to); one offline or already called refuses
//	    the whole call, naming them
//	{"t":"talk","on":false}                   release: ends the transmission
//	{"t":"listen","channels":["ops","dock"]}  also hear these channels (the whole
//	    set each time; [] for none); you still talk only in your channel
//	{"t":"text","text":"hello","to":""}       to "" = the channel, else one user's name
//	{"t":"ring","text":""}                    ring every station
//	{"t":"alarm","text":""}                   raise an alarm: every station rings until acknowledged
//	{"t":"alarm_ack","id":5}                  acknowledge alarm 5 at this station (the sender's calls it off)
//	{"t":"ping","n":7}                        answered by {"t":"pong","n":7}
//	{"t":"history","req":1,"channel":"ops","before":0,"after":0,"limit":50,"kinds":0}
//	    list stored items (ITEM, below); channel "" = every channel
//	    the user may see and their private texts, rings and pages
//	{"t":"play","id":42}                      replay a stored transmission
//	{"t":"play_stop"}                         stop the replay
//
// Browser to gateway, binary (only between talk on and talk off, except WAV):
//
//	0x01 PCM:   kind u8, flags u8, reserved u16, seq u32 LE, then int16 LE mono
//	            samples at the talk message's rate (any length; the gateway
//	            resamples to 48 kHz, cuts 20 ms frames and encodes Opus)
//	0x04 Opus:  kind u8, flags u8, reserved u16, seq u32 LE, then one Opus
//	            packet (48 kHz, up to 60 ms) that the gateway forwards
//	            untouched if a datagram can carry it (WebCodecs
//	            AudioEncoder in the page; see "Audio paths" for larger ones)
//	0x02 media: kind u8, then the next bytes of the MediaRecorder stream
//	            (WebM or Ogg Opus; chunks may cut elements anywhere). Opus
//	            packets are forwarded without re-encoding.
//	0x03 clip:  kind u8, then a whole WAV file (any rate and sample format).
//	            The gateway takes the floor, sends it paced in real time,
//	            and releases; {"t":"clip"} messages report progress.
//
// Gateway to browser, JSON:
//
//	{"t":"welcome","session":12,"name":"ann","server":"…","channels":[{"name":"ops","mode":"ptt","id":2,"listen_only":false,"closed":false}],"roles":["page"],"max_clip_bytes":10485760}
//	    roles: "page" (may page every channel), "admin"; max_clip_bytes: the
//	    largest WAV clip message the gateway takes (Config.MaxClipBytes)
//	{"t":"joined","channel":"ops","mode":"ptt","listen_only":false,"max_talk_ms":60000}
//	    listen_only: the channel's rules let this user listen, not talk or
//	    write (sent again when an admin changes the rules)
//	{"t":"presence","users":[{"id":12,"name":"ann","channel":"ops","talking":false}]}
//	    the whole roster (after each join)
//	{"t":"user","kind":"online"|"offline"|"moved","user":{"id":12,"name":"ann","channel":"ops","talking":false}}
//	    one change to the roster
//	{"t":"talking","channel":"ops","id":3,"name":"bob","on":true,"priority":false}
//	    with "monitored":true for a channel heard besides the own one (not
//	    the page's floor)
//	{"t":"listening","channels":[{"name":"ops","id":2}]}  the channels heard now
//	{"t":"call","from":"alice","to":"bob","on":true,"mine":false,"to_me":true}
//	    a call to or from this user started or ended
//	{"t":"floor","granted":true,"max_ms":60000}   the transmission is on the air
//	{"t":"busy","holder":"bob","text":"bob is talking …"}  floor refused; audio is discarded
//	{"t":"text","from":"bob","to":"","channel":"ops","time":1700000000000,"text":"hi"}
//	{"t":"ring","from":"bob","time":1700000000000,"text":""}
//	    with "alarm":5 for an alarm: it rings until this station acknowledges
//	{"t":"alarm_ack","id":5,"name":"ann","pending":2,"over":false,"mine":false,"text":"ann acknowledged …"}
//	    someone acknowledged an alarm; "over" when it stopped for everyone
//	    (every station acknowledged or left; or its sender, "name", called
//	    it off with "pending" stations left); "mine": this user's own;
//	    "text" says it for a person (client.AlarmAckText)
//	{"t":"page","from":"boss","on":true}
//	{"t":"clip","text":"Sent your clip (4.2 s)"}
//	{"t":"state","state":"connected"|"reconnecting","text":"…"}   the gateway's relay link
//	{"t":"error","code":"rate"|"size"|"format"|"auth"|…,"text":"a sentence for a person"}
//	    at login also "relay" (the relay is not reachable: the page retries),
//	    "relay_cert" (the relay's certificate is not the trusted one: the
//	    operator must act), "full", "ratelimit", "shutdown"
//	{"t":"bye","code":"kicked"|"replaced"|"shutdown"|…,"text":"…"}  then the socket closes
//	    "shutdown": the gateway is stopping (Server.Close); the page shows
//	    the text and logs in again when the gateway is back
//	{"t":"pong","n":7}
//	{"t":"missed","items":[ITEM…],"more":false}
//	    what the user missed since they last looked (after login and after
//	    each reconnection of the gateway to the relay), oldest first; the
//	    page shows it under a "while you were away" divider
//	{"t":"missed","items":[ITEM…],"more":false,"away":true}
//	    transmissions said in the channel (and pages) while the gateway's
//	    session was reconnecting to the relay, oldest first: the gateway
//	    then plays them to the page one after another as replays
//	    ({"t":"replay",…} as for a replay the page asked for), when the
//	    channel is quiet; the page says they were missed while reconnecting
//	{"t":"history","req":1,"channel":"ops","items":[ITEM…],"more":false[,"error":"…"]}
//	    the answer to a history request (newest first unless "after" was given)
//	{"t":"text_ack","id":5,"to":"carol","status":"sent"|"delivered"|"waiting"}
//	    what became of a text this page sent ("waiting": carol is offline,
//	    the relay delivers it at her next login; "delivered" follows then,
//	    without "to" for a text sent in an earlier session: the page knows
//	    it by its id)
//	{"t":"replay","id":42,"state":"playing"|"done"|"stopped"|"error","item":ITEM,"text":"…"}
//	    a replay's progress; "stopped" when a transmission (someone's or
//	    the user's own) interrupted it
//
// With a relay that keeps history, "welcome" has "history":true, "joined"
// has "history":"off"|"text"|"voice" (voice: the channel records what is
// said, and the page says so), and "text" has the stored "id" and
// "history":true for a text delivered from history rather than live. An
// ITEM is {"id":42,"kind":"text"|"private"|"voice"|"ring"|"page",
// "time":UNIXMS,"from":"bob","channel":"ops","to":"","text":"…",
// "duration_ms":4200,"audio":true,"cut":false,"waiting":false}.
//
// The page turns a text typed as "@name message" into {"t":"text",
// "to":"name"}: the way to write to someone who is offline, whom its list
// of recipients (people online) does not offer.
//
// Gateway to browser, binary:
//
//	0x01 PCM:   kind u8, flags u8 (1 start, 2 end, 4 priority), channel u16 LE
//	            (the voice id of the channel the audio comes from, as in the
//	            welcome; 0xFFFD a call to this user alone; 0 a replay),
//	            talker session u32 LE, then 20 ms of int16 LE mono at 48 kHz.
//	            One stream per talker; the page mixes them.
//	0x03 WAV:   kind u8, flags u8, reserved u16, talker u32 LE, then a WAV file
//	            holding one whole transmission (playback "wav" only).
//
// A replay comes as the talker 0xFFFFFFF0 (history.ReplayTalker), paced in
// real time like live voice (or as one WAV blob with playback "wav").
//
// # WebTransport
//
// With Config.WebTransport, GET /webtransport (WebTransportPath) tells the
// page how to reach the relay itself over WebTransport: the relay's URL and
// the hash of the short-lived certificate it shows browsers, checked
// against the pinned relay certificate (RelayWebTransport). A page whose
// browser has WebTransport and WebCodecs Opus races that session against
// this websocket (web/wt.js speaks the relay's protocol) and, when it wins,
// closes the websocket: the gateway is then out of that page's path.
//
// # Audio paths
//
// Browser to relay: PCM is resampled if needed and encoded with one Opus
// encoder per session; Opus packets from the page's WebCodecs encoder are
// checked (TOC: a valid packet of at most 60 ms) and forwarded untouched;
// WebM/Ogg/MP4 is demuxed (internal/webm) and forwarded untouched (Chromium's
// packets last 60 ms), each packet when its own timestamp says it is due
// (MediaRecorder hands the recording over in bursts, which listeners would
// take for network jitter). An Opus packet too large for a datagram
// (Chromium's MediaRecorder makes 60 ms packets of 1225–1286 bytes) is
// split into one packet per frame without re-encoding (RFC 6716 §3.2); a
// single frame still too large is decoded and encoded again; both are
// counted (hark_gateway_voice_repacked_total) and logged once per session,
// and audio that cannot be sent is counted, logged and told to the page.
// WAV clips are decoded (internal/wav), resampled, encoded and paced; they
// are not charged to the live audio rate limit (they come whole, one at a
// time, up to Config.MaxClipBytes). Audio that arrives before the
// floor is granted is held (up to MaxHold) and sent on the grant; a denial
// discards it and the page shows who holds the floor.
//
// Relay to browser: a hub per channel decodes each talker once, however many
// browsers listen (the voice reaches the gateway once per session, so the hub
// deduplicates by talker and sequence; a browser that hears other channels
// besides its own is a member of their hubs too, and a call to a user goes
// through a private hub of that browser's session), through the jitter buffer and
// time-stretching playout of the talk client (internal/playout): a tick loop
// takes 20 ms of each talker's audio at a time, smoothed of the network's
// jitter, reordering and losses, and puts it on every member's bounded
// queue, which drops its oldest audio when a browser is slow (counted). A
// browser does not get audio while it transmits itself. WAV listeners get
// each transmission once it is over, every frame decoded in order.
//
// # Limits
//
// Every request must name the gateway in its Host header: an IP address,
// localhost, this machine's name, a DNS name of the TLS certificate or one
// of Config.AllowedHosts; others get 403 (DNS rebinding).
//
// Per session: JSON messages up to 16 KiB, PCM and media messages up to 64
// KiB, WAV clips up to Config.MaxClipBytes (the websocket read limit);
// control messages and audio bytes are rate limited; violations are answered
// with an error message and counted, and a session that keeps violating is
// closed. Nothing a browser sends can affect another session.
package gateway
