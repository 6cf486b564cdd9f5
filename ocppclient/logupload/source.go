package logupload

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// Source is one entry of a log archive.
type Source interface {
	// Name is the entry's file name in the archive.
	Name() string
	// WriteWindow writes the source's lines with from <= time <= to
	// (a zero side open) to w, oldest first, and returns the bytes
	// written.
	WriteWindow(w io.Writer, from, to time.Time) (int64, error)
}

// Files is a Source over rotated text log files. Zero values are
// documented per field.
type Files struct {
	// Entry is the name in the archive. Required.
	Entry string
	// Glob matches the files, for instance "/var/log/evsed/evsed.log*";
	// they are read oldest first (by modification time, then name).
	// Required.
	Glob string
	// Time reads a line's time, false when it has none; nil means
	// LineTime.
	Time func(line []byte) (time.Time, bool)
}

var _ Source = (*Files)(nil)

// Name implements Source.
func (f *Files) Name() string { return f.Entry }

// WriteWindow implements Source. A line without a time is kept or dropped
// with the line before it; lines before the first time are dropped when
// from is set.
func (f *Files) WriteWindow(w io.Writer, from, to time.Time) (int64, error) {
	paths, err := filepath.Glob(f.Glob)
	if err != nil {
		return 0, fmt.Errorf("logupload: %s: %w", f.Entry, err)
	}
	type file struct {
		path string
		mod  time.Time
	}
	var files []file
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		files = append(files, file{p, fi.ModTime()})
	}
	slices.SortStableFunc(files, func(a, b file) int {
		if c := a.mod.Compare(b.mod); c != 0 {
			return c
		}
		// Rotated names count up with age: evsed.log.2 before evsed.log.1.
		return -bytes.Compare([]byte(a.path), []byte(b.path))
	})
	timeOf := f.Time
	if timeOf == nil {
		timeOf = LineTime
	}
	var n int64
	keep := from.IsZero()
	for _, fl := range files {
		fh, err := os.Open(fl.path)
		if err != nil {
			return n, fmt.Errorf("logupload: %s: %w", f.Entry, err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Bytes()
			if t, ok := timeOf(line); ok {
				keep = (from.IsZero() || !t.Before(from)) && (to.IsZero() || !t.After(to))
			}
			if !keep {
				continue
			}
			m, err := w.Write(append(slices.Clip(line), '\n')) // Clip: a copy, not the scanner's buffer
			n += int64(m)
			if err != nil {
				fh.Close()
				return n, fmt.Errorf("logupload: %s: %w", f.Entry, err)
			}
		}
		err = sc.Err()
		fh.Close()
		if err != nil {
			return n, fmt.Errorf("logupload: %s: %s: %w", f.Entry, fl.path, err)
		}
	}
	return n, nil
}

// LineTime reads the time of a log line written by log/slog's JSON
// handler ({"time":"..."), by its text handler (time=...), or starting
// with an RFC 3339 time, and reports false for any other line.
func LineTime(line []byte) (time.Time, bool) {
	var v []byte
	switch {
	case bytes.HasPrefix(line, []byte(`{"time":"`)):
		v = line[len(`{"time":"`):]
		if i := bytes.IndexByte(v, '"'); i > 0 {
			v = v[:i]
		}
	case bytes.HasPrefix(line, []byte("time=")):
		v = line[len("time="):]
		if i := bytes.IndexByte(v, ' '); i > 0 {
			v = v[:i]
		}
	default:
		v = line
		if i := bytes.IndexAny(v, " \t"); i > 0 {
			v = v[:i]
		}
	}
	t, err := time.Parse(time.RFC3339Nano, string(v))
	return t, err == nil
}
