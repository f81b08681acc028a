// C side of the ring-buffer streams (see ring.go).
#ifndef HARK_RING_H
#define HARK_RING_H

#include <stdint.h>

typedef struct hark_stream hark_stream;

// hark_open initialises a context and a device; id points to a
// ma_device_id (copied) or is NULL for the default device. wakefd is the
// non-blocking write end of a pipe, written after a callback that leaves a
// chunk for the consumer: capture, when at least wakeAt frames are waiting;
// playback, when at most wakeAt frames are still queued (see hark_set_wake).
// Returns a ma_result; *out is set on success.
int hark_open(hark_stream** out, int capture, const int* backends, int nbackends,
              const void* id, int idsize, int periodFrames, int periods, int ringFrames, int wakefd, int wakeAt);
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
// hark_poll returns the callback count, frames lost to full or empty rings,
// and whether the device stopped on its own.
void hark_poll(hark_stream* s, uint64_t* callbacks, uint64_t* xruns, int* stopped);
// hark_version_ok checks that the compiled miniaudio matches our header.
int hark_version_ok(void);
// hark_set_wake changes the wake threshold (see hark_open).
void hark_set_wake(hark_stream* s, int wakeAt);
// hark_set_paused pauses (1) or resumes (0) the stream. A paused capture
// stream writes nothing to the ring and never wakes the consumer (it still
// measures the level); on resume the reader skips what was captured before.
// A paused playback stream plays what is queued, then silence, without
// waking the consumer or counting underruns.
void hark_set_paused(hark_stream* s, int paused);
// hark_wake writes the wake pipe.
void hark_wake(hark_stream* s);
// hark_mean_square is the mean square (full scale 1) of the samples of the
// last capture callback.
double hark_mean_square(hark_stream* s);
int hark_device_id_size(void);
void hark_stop_device(hark_stream* s);

#endif
