// C side of the ring-buffer streams (see ring.go).
#ifndef HARK_RING_H
#define HARK_RING_H

#include <stdint.h>

typedef struct hark_stream hark_stream;

// hark_open initialises a context and a device with a capture half, a
// playback half or both (one duplex device). capId and playId point to
// ma_device_ids (copied) or are NULL for the default devices. wakefd is the
// non-blocking write end of a pipe, written after a callback that leaves a
// chunk for the consumer: capWake frames or more waiting in the capture
// ring, or playWake frames or fewer still queued for playback (see
// hark_set_wake). Returns a ma_result; *out is set on success.
int hark_open(hark_stream** out, int hasCap, int hasPlay, const int* backends, int nbackends,
              const void* capId, const void* playId, int idsize, int periodFrames, int periods,
              int capRing, int playRing, int wakefd, int capWake, int playWake);
int hark_start(hark_stream* s);
void hark_stop(hark_stream* s);
void hark_close(hark_stream* s);
// hark_read copies exactly frames captured frames, or none; returns frames
// copied. It first drops frames captured before the last pause.
int hark_read(hark_stream* s, int16_t* dst, int frames);
// hark_write copies up to frames frames for playback; returns frames copied.
int hark_write(hark_stream* s, const int16_t* src, int frames);
// hark_space returns frames that can be written (playback) now.
int hark_space(hark_stream* s);
// hark_poll returns the callback count, frames lost to a full capture ring
// and to an empty playback ring, and whether the device stopped on its own.
void hark_poll(hark_stream* s, uint64_t* callbacks, uint64_t* capXruns, uint64_t* playXruns, int* stopped);
// hark_version_ok checks that the compiled miniaudio matches our header.
int hark_version_ok(void);
int hark_device_id_size(void);
// hark_set_wake changes a half's wake threshold (see hark_open); play
// selects the playback half.
void hark_set_wake(hark_stream* s, int play, int wakeAt);
// hark_set_paused pauses (1) or resumes (0) a half. A paused capture half
// writes nothing to its ring and never wakes the consumer (the level is
// still measured); on resume the reader skips what was captured before.
// A paused playback half plays what is queued, then silence, without
// waking the consumer or counting underruns.
void hark_set_paused(hark_stream* s, int play, int paused);
// hark_wake writes the wake pipe.
void hark_wake(hark_stream* s);
// hark_mean_square is the mean square (full scale 1) of the samples of the
// last capture callback.
double hark_mean_square(hark_stream* s);
void hark_stop_device(hark_stream* s);
// hark_audio_tid is the Linux thread id of the audio thread (0 before its
// first callback or elsewhere).
int hark_audio_tid(hark_stream* s);
// hark_since_callback_ns is the time since the last callback started (-1
// before the first).
int64_t hark_since_callback_ns(hark_stream* s);

#endif
