package wav

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
)

const headerSize = 44

// ErrClosed is returned by a [Writer] used after Close.
var ErrClosed = errors.New("wav: writer closed")

// Writer streams 16-bit PCM to a WAV file. The file is a valid WAV (an
// empty one at first) after NewWriter and after every successful Flush and
// Close: they patch the RIFF and data sizes in the header. Call Flush
// periodically (say once a second) so that a recording interrupted by a
// crash or Ctrl-C loses at most the unflushed tail.
//
// A Writer made by [NewStreamWriter] writes to something that cannot seek
// (a pipe, standard output): its header says "read to the end" (sizes
// 0xFFFFFFFF) from the start and is never patched; Flush only writes the
// buffered samples.
//
// A Writer is safe for concurrent use. Close does not close the underlying
// file unless the Writer came from [CreateFile]. Data beyond 4 GiB is
// written with saturated (0xFFFFFFFF) sizes, which readers treat as "read
// to the end".
type Writer struct {
	mu sync.Mutex
	// guarded by mu:
	ws        io.WriteSeeker // nil for a stream (NewStreamWriter)
	bw        *bufio.Writer
	start     int64 // offset of the RIFF header in ws
	dataBytes int64 // bytes of samples written (buffered or not)
	channels  int
	err       error // sticky error
	closed    bool
	scratch   []byte
	file      *os.File // closed by Close when set (CreateFile)
}

// NewWriter writes a WAV header for 16-bit PCM at sampleRate with channels
// interleaved channels at the current position of w.
func NewWriter(w io.WriteSeeker, sampleRate, channels int) (*Writer, error) {
	if _, err := validateEncode(Format{Rate: sampleRate, Channels: channels, Bits: 16}); err != nil {
		return nil, err
	}
	start, err := w.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil, fmt.Errorf("wav: output is not seekable: %w", err)
	}
	if err := writeHeader(w, sampleRate, channels, 36, 0); err != nil {
		return nil, err
	}
	return &Writer{ws: w, bw: bufio.NewWriterSize(w, 64<<10), start: start, channels: channels}, nil
}

// NewStreamWriter writes a WAV header for 16-bit PCM at sampleRate with
// channels interleaved channels to w, which need not seek (a pipe): the
// header's sizes say "read to the end" (0xFFFFFFFF), as for a stream of
// unknown length, and are never patched. Close does not close w.
func NewStreamWriter(w io.Writer, sampleRate, channels int) (*Writer, error) {
	if _, err := validateEncode(Format{Rate: sampleRate, Channels: channels, Bits: 16}); err != nil {
		return nil, err
	}
	if err := writeHeader(w, sampleRate, channels, 0xFFFFFFFF, 0xFFFFFFFF); err != nil {
		return nil, err
	}
	return &Writer{bw: bufio.NewWriterSize(w, 64<<10), channels: channels}, nil
}

// writeHeader writes a 44-byte PCM WAV header with the given RIFF and data
// sizes.
func writeHeader(w io.Writer, sampleRate, channels int, riff, data uint32) error {
	hdr := make([]byte, 0, headerSize)
	le := binary.LittleEndian
	hdr = append(hdr, "RIFF"...)
	hdr = le.AppendUint32(hdr, riff)
	hdr = append(hdr, "WAVE"...)
	hdr = appendChunk(hdr, "fmt ", fmtChunk(Format{Rate: sampleRate, Channels: channels, Bits: 16}, tagPCM))
	hdr = append(hdr, "data"...)
	hdr = le.AppendUint32(hdr, data)
	if _, err := w.Write(hdr); err != nil {
		return fmt.Errorf("wav: writing header: %w", err)
	}
	return nil
}

// Write appends interleaved samples; len(pcm) must be a multiple of the
// channel count. The samples are copied; the caller keeps pcm.
func (w *Writer) Write(pcm []int16) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	if w.err != nil {
		return w.err
	}
	if len(pcm)%w.channels != 0 {
		return fmt.Errorf("wav: %d samples is not a whole number of %d-channel frames", len(pcm), w.channels)
	}
	b := w.scratch[:0]
	for _, v := range pcm {
		b = binary.LittleEndian.AppendUint16(b, uint16(v))
	}
	w.scratch = b
	if _, err := w.bw.Write(b); err != nil {
		w.err = fmt.Errorf("wav: writing samples: %w", err)
		return w.err
	}
	w.dataBytes += int64(len(b))
	return nil
}

// Frames returns the number of sample frames written so far.
func (w *Writer) Frames() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.dataBytes / int64(2*w.channels)
}

// Flush writes buffered samples and patches the header sizes, leaving the
// file valid.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	return w.flushLocked()
}

func (w *Writer) flushLocked() error {
	if w.err != nil {
		return w.err
	}
	if err := w.bw.Flush(); err != nil {
		w.err = fmt.Errorf("wav: writing samples: %w", err)
		return w.err
	}
	if w.ws == nil {
		return nil // a stream: the header already says "read to the end"
	}
	data := uint32(0xFFFFFFFF)
	riff := uint32(0xFFFFFFFF)
	if w.dataBytes <= 0xFFFFFFFF-headerSize {
		data = uint32(w.dataBytes)
		riff = uint32(w.dataBytes + headerSize - 8)
	}
	var b [4]byte
	patch := func(off int64, v uint32) error {
		if _, err := w.ws.Seek(w.start+off, io.SeekStart); err != nil {
			return err
		}
		binary.LittleEndian.PutUint32(b[:], v)
		_, err := w.ws.Write(b[:])
		return err
	}
	if err := patch(4, riff); err != nil {
		w.err = fmt.Errorf("wav: patching header: %w", err)
		return w.err
	}
	if err := patch(40, data); err != nil {
		w.err = fmt.Errorf("wav: patching header: %w", err)
		return w.err
	}
	if _, err := w.ws.Seek(w.start+headerSize+w.dataBytes, io.SeekStart); err != nil {
		w.err = fmt.Errorf("wav: seeking to end: %w", err)
		return w.err
	}
	return nil
}

// Close flushes and patches the header for the last time. It closes the
// file only for a Writer made by [CreateFile]; a Writer made by [NewWriter]
// leaves the underlying writer open. Further calls return ErrClosed.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	err := w.flushLocked()
	w.closed = true
	if w.file != nil {
		if cerr := w.file.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("wav: closing %s: %w", w.file.Name(), cerr)
		}
	}
	return err
}

// CreateFile creates (or truncates) the file at path and returns a Writer
// for it, like [NewWriter]. Unlike a Writer made by NewWriter, its Close
// also closes the file (after patching the header). The format is checked
// before the file is touched; if the header cannot be written, a file
// CreateFile made is removed again, one that existed before is left.
func CreateFile(path string, sampleRate, channels int) (*Writer, error) {
	if _, err := validateEncode(Format{Rate: sampleRate, Channels: channels, Bits: 16}); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
	created := err == nil
	if errors.Is(err, os.ErrExist) {
		f, err = os.Create(path)
	}
	if err != nil {
		return nil, err
	}
	w, err := NewWriter(f, sampleRate, channels)
	if err != nil {
		f.Close()
		if created {
			os.Remove(path)
		}
		return nil, err
	}
	w.file = f
	return w, nil
}
