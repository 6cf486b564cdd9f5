package main

import (
	"sync"
	"time"
)

// trimmer keeps the executable's resident pages to what the agent uses
// (see trimExecutable): once after start-up, and again whenever the
// file-backed part of the RSS has grown by more than slack since the last
// trim. A phase the agent goes through once in a while (the first
// charging session, a firmware download, a burst of CSMS requests, a
// `evsed ctl` run that reads the same executable into the page cache)
// maps code that the steady state does not need; the next look gives it
// back, and what is needed again is read back page by page. Looking is a
// read of /proc/self/statm; nothing is written.
type trimmer struct {
	every time.Duration
	slack int64
	trim  func() (int, error)
	// resident returns the file-backed resident bytes; trimmed is its
	// value after the last trim.
	resident func() (int64, error)

	mu      sync.Mutex
	timer   *time.Timer
	trimmed int64
	stopped bool
}

// startTrimmer trims after first, then looks every every.
func startTrimmer(first, every time.Duration, slack int64) (stop func()) {
	t := &trimmer{every: every, slack: slack, trim: trimExecutable, resident: fileResident}
	t.start(first)
	return t.stop
}

func (t *trimmer) start(first time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.trimmed = -1 // the first look always trims
	t.timer = time.AfterFunc(first, t.look)
}

func (t *trimmer) look() {
	now, err := t.resident()
	t.mu.Lock()
	due := err == nil && (t.trimmed < 0 || now > t.trimmed+t.slack)
	t.mu.Unlock()
	if due {
		_, _ = t.trim() // an old kernel without MADV_PAGEOUT: nothing to do
		if after, err := t.resident(); err == nil {
			now = after
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if due {
		t.trimmed = now
	}
	if !t.stopped {
		t.timer.Reset(t.every)
	}
}

func (t *trimmer) stop() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.stopped = true
	t.timer.Stop()
}
