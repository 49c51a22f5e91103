package main

import (
	"bufio"
	"io"
	"sync"
	"time"
)

// bufferedLog is serve's log output: records are buffered and written at least every flushEvery (and
// whenever 64 KiB are waiting), rather than one write system call per record, which at thousands of
// requests a second costs more than the requests. A crash loses at most the last flushEvery of lines;
// Close writes the rest.
type bufferedLog struct {
	mu   sync.Mutex
	w    *bufio.Writer
	stop chan struct{}
	done chan struct{}
}

const flushEvery = 100 * time.Millisecond

func newBufferedLog(w io.Writer) *bufferedLog {
	b := &bufferedLog{w: bufio.NewWriterSize(w, 64<<10), stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(b.done)
		t := time.NewTicker(flushEvery)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				b.Flush()
			case <-b.stop:
				b.Flush()
				return
			}
		}
	}()
	return b
}

// Write takes one record (slog writes each in one call).
func (b *bufferedLog) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.w.Write(p)
}

// Flush writes what is buffered.
func (b *bufferedLog) Flush() {
	b.mu.Lock()
	defer b.mu.Unlock()
	_ = b.w.Flush()
}

// Close stops the flusher and writes the rest; later writes go straight through.
func (b *bufferedLog) Close() {
	select {
	case <-b.stop:
	default:
		close(b.stop)
		<-b.done
	}
}
