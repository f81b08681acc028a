// C side of the ring-buffer streams (see ring.go).
#ifndef HARK_RING_H
#define HARK_RING_H

#include <stdint.h>

typedef struct hark_stream hark_stream;

// hark_open initialises a context and a device; id points to a
// ma_device_id (copied) or is NULL for the default device. wakefd is the
// non-blocking write end of a pipe written once per callback. Returns a
// ma_result; *out is set on success.
int hark_open(hark_stream** out, int capture, const int* backends, int nbackends,
              const void* id, int idsize, int periodFrames, int periods, int ringFrames, int wakefd);
int hark_start(hark_stream* s);
void hark_stop(hark_stream* s);
void hark_close(hark_stream* s);
// hark_read copies exactly frames captured frames, or none; returns frames copied.
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
int hark_device_id_size(void);
void hark_stop_device(hark_stream* s);

#endif
