package delivery

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// ErrLocked is returned by Lock when another process dispatches the same outbox.
var ErrLocked = errors.New("another process is dispatching this outbox")

// DispatchLock is the exclusive right to dispatch one database's outbox, held as an flock on a file next
// to the database. One dispatcher per outbox is what makes crash recovery simple: whoever takes the lock
// knows that a message still marked "sending" belongs to a process that died, and requeues it at once.
// The kernel releases the lock when its holder exits, kill -9 included, so it can never go stale.
type DispatchLock struct{ f *os.File }

// Lock takes the dispatch lock at path without waiting; ErrLocked means another process holds it.
func Lock(path string) (*DispatchLock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("dispatch lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, ErrLocked
		}
		return nil, fmt.Errorf("dispatch lock %s: %w", path, err)
	}
	return &DispatchLock{f: f}, nil
}

// Unlock releases the lock.
func (l *DispatchLock) Unlock() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close() // closing the last descriptor releases the flock
	l.f = nil
	return err
}
