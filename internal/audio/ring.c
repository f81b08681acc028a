//go:build linux || darwin || freebsd || netbsd || openbsd

// Ring-buffer streams: the audio thread never calls Go. It copies samples
// between the device and lock-free single-producer single-consumer rings
// (ma_pcm_rb) and writes one byte to a pipe; a Go goroutine waits on the
// pipe through the runtime's poller and moves whole chunks. Calling Go
// from a foreign thread 100 times a second keeps the runtime's sysmon
// thread awake (several percent of a core); this way costs well under one.
//
// A stream has a capture half, a playback half, or both (a duplex device:
// one audio thread, one callback with the input and the output of the same
// period, one wake-up for both halves).

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/syscall.h>
#endif
#include "include/miniaudio.h"
#include "ring.h"

typedef struct {
	ma_pcm_rb rb;
	int rbInit;
	int wakeAt;         // atomic; see hark_set_wake
	int paused;         // atomic; see hark_set_paused
	int wasPaused;      // audio thread only
	uint64_t xruns;     // atomic: frames lost to a full (capture) or empty (playback) ring
	uint64_t written;   // capture: frames committed to the ring (atomic)
	uint64_t freshFrom; // capture: frames before this were written before a pause (atomic)
	uint64_t readCount; // capture: frames read or skipped (consumer only)
} hark_half;

struct hark_stream {
	ma_context ctx;
	ma_device dev;
	ma_device_id capId, playId;
	hark_half cap, play;
	int hasCap, hasPlay;
	int wakefd;
	int ctxInit, devInit;
	volatile int closing;
	volatile int stopped;
	uint64_t callbacks;
	int tid;           // the audio thread's Linux thread id, 0 until its first callback (atomic)
	int64_t lastCbNs;  // CLOCK_MONOTONIC time of the last callback, 0 before the first (atomic)
	double meanSquare; // mean square of the last callback's input, full scale 1 (atomic)
};

static int64_t nowNs(void) {
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void wake(hark_stream* s) {
	if (s->wakefd >= 0) {
		char b = 1;
		ssize_t r = write(s->wakefd, &b, 1); // non-blocking; a full pipe already wakes the reader
		(void)r;
	}
}

// captureData handles a callback's input; it reports whether the consumer
// has a chunk to read.
static int captureData(hark_stream* s, const int16_t* src, ma_uint32 n) {
	hark_half* h = &s->cap;
	if (n > 0 && src != NULL) {
		double sum = 0;
		for (ma_uint32 i = 0; i < n; i++) {
			double v = (double)src[i];
			sum += v * v;
		}
		double ms = sum / (double)n / (32768.0 * 32768.0);
		__atomic_store(&s->meanSquare, &ms, __ATOMIC_RELAXED);
	}
	if (__atomic_load_n(&h->paused, __ATOMIC_ACQUIRE)) {
		// Nothing is written while paused: the consumer is not woken and
		// nothing counts as lost. What the ring still holds from before
		// the pause is skipped by the reader after it.
		h->wasPaused = 1;
		return 0;
	}
	if (h->wasPaused) {
		h->wasPaused = 0;
		__atomic_store_n(&h->freshFrom, __atomic_load_n(&h->written, __ATOMIC_RELAXED), __ATOMIC_RELEASE);
	}
	ma_uint32 left = n;
	while (left > 0) {
		ma_uint32 chunk = left;
		void* p;
		if (ma_pcm_rb_acquire_write(&h->rb, &chunk, &p) != MA_SUCCESS || chunk == 0) {
			break;
		}
		memcpy(p, src, chunk * sizeof(int16_t));
		ma_pcm_rb_commit_write(&h->rb, chunk);
		__atomic_add_fetch(&h->written, chunk, __ATOMIC_RELEASE);
		src += chunk;
		left -= chunk;
	}
	if (left > 0) {
		__atomic_add_fetch(&h->xruns, left, __ATOMIC_RELAXED);
	}
	return (int)ma_pcm_rb_available_read(&h->rb) >= __atomic_load_n(&h->wakeAt, __ATOMIC_RELAXED);
}

// playbackData fills a callback's output; it reports whether the producer
// has room for a chunk.
static int playbackData(hark_stream* s, int16_t* dst, ma_uint32 n) {
	hark_half* h = &s->play;
	int paused = __atomic_load_n(&h->paused, __ATOMIC_ACQUIRE);
	ma_uint32 left = n;
	while (left > 0) {
		ma_uint32 chunk = left;
		void* p;
		if (ma_pcm_rb_acquire_read(&h->rb, &chunk, &p) != MA_SUCCESS || chunk == 0) {
			break;
		}
		memcpy(dst, p, chunk * sizeof(int16_t));
		ma_pcm_rb_commit_read(&h->rb, chunk);
		dst += chunk;
		left -= chunk;
	}
	if (left > 0) {
		memset(dst, 0, left * sizeof(int16_t));
		if (!paused) {
			__atomic_add_fetch(&h->xruns, left, __ATOMIC_RELAXED);
		}
	}
	return !paused && (int)ma_pcm_rb_available_read(&h->rb) <= __atomic_load_n(&h->wakeAt, __ATOMIC_RELAXED);
}

static void hark_data(ma_device* d, void* out, const void* in, ma_uint32 n) {
	hark_stream* s = (hark_stream*)d->pUserData;
	__atomic_store_n(&s->lastCbNs, nowNs(), __ATOMIC_RELAXED);
	if (__atomic_add_fetch(&s->callbacks, 1, __ATOMIC_RELAXED) == 1) {
#if defined(__linux__)
		__atomic_store_n(&s->tid, (int)syscall(SYS_gettid), __ATOMIC_RELAXED);
#endif
	}
	int w = 0;
	if (s->hasCap) {
		w |= captureData(s, (const int16_t*)in, n);
	}
	if (s->hasPlay) {
		w |= playbackData(s, (int16_t*)out, n);
	}
	// Wake the consumer only when it has a whole chunk to do.
	if (w) {
		wake(s);
	}
}

static void hark_notify(const ma_device_notification* n) {
	hark_stream* s = (hark_stream*)n->pDevice->pUserData;
	if (n->type == ma_device_notification_type_stopped && !s->closing) {
		__atomic_store_n(&s->stopped, 1, __ATOMIC_RELEASE);
		wake(s);
	}
}

int hark_version_ok(void) {
	ma_uint32 major, minor, rev;
	ma_version(&major, &minor, &rev);
	return major == MA_VERSION_MAJOR && minor == MA_VERSION_MINOR && rev == MA_VERSION_REVISION;
}

int hark_device_id_size(void) { return (int)sizeof(ma_device_id); }

int hark_open(hark_stream** out, int hasCap, int hasPlay, const int* backends, int nbackends,
              const void* capId, const void* playId, int idsize, int periodFrames, int periods,
              int capRing, int playRing, int wakefd, int capWake, int playWake) {
	hark_stream* s = (hark_stream*)calloc(1, sizeof(hark_stream));
	if (s == NULL) {
		return MA_OUT_OF_MEMORY;
	}
	s->hasCap = hasCap;
	s->hasPlay = hasPlay;
	s->wakefd = wakefd;
	s->cap.wakeAt = capWake;
	s->play.wakeAt = playWake;
	ma_backend bs[32];
	if (nbackends > 32) {
		nbackends = 32;
	}
	for (int i = 0; i < nbackends; i++) {
		bs[i] = (ma_backend)backends[i];
	}
	ma_result r = ma_context_init(nbackends > 0 ? bs : NULL, (ma_uint32)nbackends, NULL, &s->ctx);
	if (r != MA_SUCCESS) {
		hark_close(s);
		return r;
	}
	s->ctxInit = 1;
	if (hasCap) {
		r = ma_pcm_rb_init(ma_format_s16, 1, (ma_uint32)capRing, NULL, NULL, &s->cap.rb);
		if (r != MA_SUCCESS) {
			hark_close(s);
			return r;
		}
		s->cap.rbInit = 1;
	}
	if (hasPlay) {
		r = ma_pcm_rb_init(ma_format_s16, 1, (ma_uint32)playRing, NULL, NULL, &s->play.rb);
		if (r != MA_SUCCESS) {
			hark_close(s);
			return r;
		}
		s->play.rbInit = 1;
	}
	ma_device_type type = hasCap && hasPlay ? ma_device_type_duplex : hasCap ? ma_device_type_capture : ma_device_type_playback;
	ma_device_config cfg = ma_device_config_init(type);
	cfg.sampleRate = 48000;
	cfg.periodSizeInFrames = (ma_uint32)periodFrames;
	cfg.periods = (ma_uint32)periods;
	cfg.performanceProfile = ma_performance_profile_low_latency;
	cfg.dataCallback = hark_data;
	cfg.notificationCallback = hark_notify;
	cfg.pUserData = s;
	if (hasCap) {
		cfg.capture.format = ma_format_s16;
		cfg.capture.channels = 1;
		if (capId != NULL && idsize == (int)sizeof(ma_device_id)) {
			memcpy(&s->capId, capId, sizeof(ma_device_id));
			cfg.capture.pDeviceID = &s->capId;
		}
	}
	if (hasPlay) {
		cfg.playback.format = ma_format_s16;
		cfg.playback.channels = 1;
		if (playId != NULL && idsize == (int)sizeof(ma_device_id)) {
			memcpy(&s->playId, playId, sizeof(ma_device_id));
			cfg.playback.pDeviceID = &s->playId;
		}
	}
	r = ma_device_init(&s->ctx, &cfg, &s->dev);
	if (r != MA_SUCCESS) {
		hark_close(s);
		return r;
	}
	s->devInit = 1;
	*out = s;
	return MA_SUCCESS;
}

int hark_start(hark_stream* s) { return ma_device_start(&s->dev); }

void hark_stop(hark_stream* s) {
	s->closing = 1;
	if (s->devInit) {
		ma_device_stop(&s->dev);
	}
}

void hark_close(hark_stream* s) {
	s->closing = 1;
	if (s->devInit) {
		ma_device_uninit(&s->dev);
	}
	if (s->cap.rbInit) {
		ma_pcm_rb_uninit(&s->cap.rb);
	}
	if (s->play.rbInit) {
		ma_pcm_rb_uninit(&s->play.rb);
	}
	if (s->ctxInit) {
		ma_context_uninit(&s->ctx);
	}
	free(s);
}

int hark_read(hark_stream* s, int16_t* dst, int frames) {
	hark_half* h = &s->cap;
	// Skip what was captured before the last pause.
	uint64_t fresh = __atomic_load_n(&h->freshFrom, __ATOMIC_ACQUIRE);
	while (h->readCount < fresh) {
		ma_uint32 chunk = (ma_uint32)(fresh - h->readCount);
		void* p;
		if (ma_pcm_rb_acquire_read(&h->rb, &chunk, &p) != MA_SUCCESS || chunk == 0) {
			break;
		}
		ma_pcm_rb_commit_read(&h->rb, chunk);
		h->readCount += chunk;
	}
	if ((int)ma_pcm_rb_available_read(&h->rb) < frames) {
		return 0;
	}
	int done = 0;
	while (done < frames) {
		ma_uint32 chunk = (ma_uint32)(frames - done);
		void* p;
		if (ma_pcm_rb_acquire_read(&h->rb, &chunk, &p) != MA_SUCCESS || chunk == 0) {
			break;
		}
		memcpy(dst + done, p, chunk * sizeof(int16_t));
		ma_pcm_rb_commit_read(&h->rb, chunk);
		done += (int)chunk;
	}
	h->readCount += (uint64_t)done;
	return done;
}

int hark_write(hark_stream* s, const int16_t* src, int frames) {
	hark_half* h = &s->play;
	int done = 0;
	while (done < frames) {
		ma_uint32 chunk = (ma_uint32)(frames - done);
		void* p;
		if (ma_pcm_rb_acquire_write(&h->rb, &chunk, &p) != MA_SUCCESS || chunk == 0) {
			break;
		}
		memcpy(p, src + done, chunk * sizeof(int16_t));
		ma_pcm_rb_commit_write(&h->rb, chunk);
		done += (int)chunk;
	}
	return done;
}

int64_t hark_since_callback_ns(hark_stream* s) {
	int64_t last = __atomic_load_n(&s->lastCbNs, __ATOMIC_RELAXED);
	return last == 0 ? -1 : nowNs() - last;
}

int hark_space(hark_stream* s) { return (int)ma_pcm_rb_available_write(&s->play.rb); }

void hark_poll(hark_stream* s, uint64_t* callbacks, uint64_t* capXruns, uint64_t* playXruns, int* stopped) {
	*callbacks = __atomic_load_n(&s->callbacks, __ATOMIC_RELAXED);
	*capXruns = __atomic_load_n(&s->cap.xruns, __ATOMIC_RELAXED);
	*playXruns = __atomic_load_n(&s->play.xruns, __ATOMIC_RELAXED);
	*stopped = __atomic_load_n(&s->stopped, __ATOMIC_ACQUIRE);
}

static hark_half* half(hark_stream* s, int play) { return play ? &s->play : &s->cap; }

void hark_set_wake(hark_stream* s, int play, int wakeAt) {
	__atomic_store_n(&half(s, play)->wakeAt, wakeAt, __ATOMIC_RELAXED);
}

void hark_set_paused(hark_stream* s, int play, int paused) {
	__atomic_store_n(&half(s, play)->paused, paused, __ATOMIC_RELEASE);
}

void hark_wake(hark_stream* s) { wake(s); }

double hark_mean_square(hark_stream* s) {
	double ms;
	__atomic_load(&s->meanSquare, &ms, __ATOMIC_RELAXED);
	return ms;
}

// hark_stop_device stops the device as if it had been unplugged (the stop
// notification fires); for tests.
void hark_stop_device(hark_stream* s) { ma_device_stop(&s->dev); }

int hark_audio_tid(hark_stream* s) { return __atomic_load_n(&s->tid, __ATOMIC_RELAXED); }
