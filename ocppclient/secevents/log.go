package secevents

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/evsed/evsed/clock"
)

// LogOptions configure a Log. Zero values are documented per field.
type LogOptions struct {
	// Dir is the directory of the log files, created (mode 0700) when
	// missing. Required.
	Dir string
	// MaxBytes bounds one file, in bytes; 0 means 256 KiB. A single
	// event longer than that still goes into a file of its own.
	MaxBytes int64
	// Files is how many files are kept, the current one included; 0
	// means 4.
	Files int
	// Clock stamps Clear's SecurityLogWasCleared event and events
	// appended without a time; nil means the wall clock.
	Clock clock.Clock
}

// Defaults of LogOptions.
const (
	defaultMaxBytes = 256 << 10
	defaultFiles    = 4
)

// LogName is the name of the current log file, and the name the log has
// in a log archive.
const LogName = "security.log"

// Log is the rotating local security log; see the package doc.
type Log struct {
	opts LogOptions
	clk  clock.Clock

	mu   sync.Mutex // guards f, size and the files
	f    *os.File   // the current file, open for appending; nil once closed
	size int64      // bytes in f
}

// OpenLog opens the log under opts.Dir, appending to the current file.
func OpenLog(opts LogOptions) (*Log, error) {
	if opts.Dir == "" {
		return nil, errors.New("secevents: open log: no directory")
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = defaultMaxBytes
	}
	if opts.Files <= 0 {
		opts.Files = defaultFiles
	}
	if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("secevents: open log: %w", err)
	}
	l := &Log{opts: opts, clk: clock.Or(opts.Clock)}
	if err := l.openCurrent(); err != nil {
		return nil, fmt.Errorf("secevents: open log: %w", err)
	}
	return l, nil
}

// path returns the name of file i: 0 is the current one, 1 the one before.
func (l *Log) path(i int) string {
	if i == 0 {
		return filepath.Join(l.opts.Dir, LogName)
	}
	return filepath.Join(l.opts.Dir, LogName+"."+strconv.Itoa(i))
}

// openCurrent opens file 0 for appending. l.mu must be held or l unshared.
func (l *Log) openCurrent() error {
	f, err := os.OpenFile(l.path(0), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	l.f, l.size = f, fi.Size()
	return nil
}

// record is an Event as a log line.
type record struct {
	Time     time.Time `json:"time"`
	Type     Type      `json:"type"`
	TechInfo string    `json:"techInfo,omitempty"`
	Critical bool      `json:"critical,omitempty"`
}

// Append writes e to the log and fsyncs it, rotating first when the line
// would take the current file past MaxBytes. TechInfo is cut to
// MaxTechInfo bytes, and a zero Time is set to the log clock's now. It
// returns the event as logged.
func (l *Log) Append(e Event) (Event, error) {
	e.TechInfo = truncate(e.TechInfo, MaxTechInfo)
	if e.Time.IsZero() {
		e.Time = l.clk.Now()
	}
	line, err := json.Marshal(record{Time: e.Time.UTC(), Type: e.Type, TechInfo: e.TechInfo, Critical: e.Critical()})
	if err != nil {
		return e, fmt.Errorf("secevents: append %s: %w", e.Type, err)
	}
	line = append(line, '\n')
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return e, fmt.Errorf("secevents: append %s: log closed", e.Type)
	}
	if l.size > 0 && l.size+int64(len(line)) > l.opts.MaxBytes {
		if err := l.rotate(); err != nil {
			return e, fmt.Errorf("secevents: append %s: rotate: %w", e.Type, err)
		}
	}
	n, err := l.f.Write(line)
	l.size += int64(n)
	if err == nil {
		err = l.f.Sync()
	}
	if err != nil {
		return e, fmt.Errorf("secevents: append %s: %w", e.Type, err)
	}
	return e, nil
}

// rotate moves file i to i+1 for every i from the oldest kept down to 0,
// dropping the oldest, and opens a new current file. l.mu must be held.
func (l *Log) rotate() error {
	if err := l.f.Close(); err != nil {
		return err
	}
	l.f = nil
	last := l.opts.Files - 1
	if err := os.Remove(l.path(last)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	for i := last - 1; i >= 0; i-- {
		if err := os.Rename(l.path(i), l.path(i+1)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	if err := l.openCurrent(); err != nil {
		return err
	}
	return syncDir(l.opts.Dir)
}

// syncDir fsyncs dir so that renames in it are durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Read returns the logged events with from <= Time <= to, oldest first; a
// zero from or to leaves that side open. A line that does not parse (cut
// by a power failure) is skipped.
func (l *Log) Read(from, to time.Time) ([]Event, error) {
	var out []Event
	err := l.scan(from, to, func(r record, _ []byte) error {
		out = append(out, Event{Type: r.Type, Time: r.Time, TechInfo: r.TechInfo})
		return nil
	})
	return out, err
}

// Name returns LogName: the log's name in a log archive.
func (l *Log) Name() string { return LogName }

// WriteWindow writes the log lines of the events with from <= Time <= to
// to w, oldest first, as they are stored (JSON lines), and returns the
// bytes written; a zero from or to leaves that side open. It is how a
// SecurityLog upload collects the log.
func (l *Log) WriteWindow(w io.Writer, from, to time.Time) (int64, error) {
	var n int64
	err := l.scan(from, to, func(_ record, line []byte) error {
		m, err := w.Write(line)
		n += int64(m)
		return err
	})
	return n, err
}

// scan calls fn for each parsed line in the window, oldest first, with the
// line and its newline.
func (l *Log) scan(from, to time.Time, fn func(record, []byte) error) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := l.opts.Files - 1; i >= 0; i-- {
		f, err := os.Open(l.path(i))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("secevents: read log: %w", err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 0, 4096), 1<<20)
		for sc.Scan() {
			var r record
			if json.Unmarshal(sc.Bytes(), &r) != nil || r.Type == "" {
				continue
			}
			if (!from.IsZero() && r.Time.Before(from)) || (!to.IsZero() && r.Time.After(to)) {
				continue
			}
			if err := fn(r, append(slices.Clip(sc.Bytes()), '\n')); err != nil { // a copy
				f.Close()
				return fmt.Errorf("secevents: read log: %w", err)
			}
		}
		err = sc.Err()
		f.Close()
		if err != nil {
			return fmt.Errorf("secevents: read log: %w", err)
		}
	}
	return nil
}

// Clear removes every log file and starts a new log whose first event is
// SecurityLogWasCleared, stamped by the log's clock; it returns that event
// for the caller to send (it is critical).
func (l *Log) Clear() (Event, error) {
	l.mu.Lock()
	if l.f == nil {
		l.mu.Unlock()
		return Event{}, errors.New("secevents: clear: log closed")
	}
	err := l.f.Close()
	l.f = nil
	for i := 0; i < l.opts.Files && err == nil; i++ {
		if e := os.Remove(l.path(i)); e != nil && !errors.Is(e, fs.ErrNotExist) {
			err = e
		}
	}
	if err == nil {
		err = l.openCurrent()
	}
	if err == nil {
		err = syncDir(l.opts.Dir)
	}
	l.mu.Unlock()
	if err != nil {
		return Event{}, fmt.Errorf("secevents: clear: %w", err)
	}
	return l.Append(Event{Type: SecurityLogWasCleared, Time: l.clk.Now()})
}

// Close closes the current file. The Log must not be used after.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}
