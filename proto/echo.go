package proto

import "time"

// Echo test ("test my microphone"): a client sends a short transmission to
// [EchoChannel] instead of its channel, without asking for the floor; the
// relay keeps its frames (at most [MaxEchoDuration]; frames beyond are
// dropped and counted) and, after the frame with [FlagEnd], sends them back
// to that client alone, at the pace they came, with [FlagEcho] set, Channel
// [EchoChannel] and Sender the client's own session id. Nobody else hears
// it, and it holds no floor. Added in version 2 as the feature
// [FeatureEcho]; a relay without it drops such frames (unknown channel).

// EchoChannel is the channel id of an echo test's frames, both ways.
const EchoChannel uint16 = 0xFFFE

// FlagEcho marks a frame the relay plays back in an echo test. Receivers of
// version 2 on ignore flags they do not know; the relay sets it only on
// frames it sends to the session that asked for the echo, which offered
// [FeatureEcho].
const FlagEcho VoiceFlags = 1 << 3

// FeatureEcho: the relay plays echo tests back (see [EchoChannel]).
// Assigned in version 2.
const FeatureEcho Features = 1 << 2

// MaxEchoDuration is the longest echo test the relay keeps.
const MaxEchoDuration = 10 * time.Second
