// Package web holds the browser client of Hark: a single page (plain HTML,
// CSS and JavaScript, no build step) that the gateway serves. It speaks the
// websocket protocol documented in internal/gateway.
//
// Query parameters understood by the page (for people and for tests):
//
//	?path=worklet|mediarecorder  how the microphone is sent (default worklet:
//	                             20 ms PCM frames; mediarecorder: WebM/Ogg Opus)
//	?playback=pcm|wav            live PCM frames (default) or one WAV per transmission
//	?processing=on               turn on the browser's echo cancellation, noise
//	                             suppression and gain control (off by default:
//	                             push-to-talk is half duplex, and the raw signal
//	                             is cleaner)
//	?name=NAME                   fill in the login form's name (a password is
//	                             never taken from the URL: it would stay in
//	                             the browser's history and the server logs)
//	?channel=NAME                channel to join after login
package web

import "embed"

// FS holds the page: index.html, app.js, history.js (the timeline of what
// the intercom kept), style.css, the AudioWorklet modules, and what makes it
// an installable app: pwa.js, the service worker sw.js,
// manifest.webmanifest and the icons (drawn by icons/gen.go).
//
//go:embed index.html app.js history.js intercom.js listen.js style.css capture-worklet.js play-worklet.js record-worklet.js
//go:embed pwa.js sw.js wt.js manifest.webmanifest icons/*.png
var FS embed.FS
