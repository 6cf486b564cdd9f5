package localapi

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// LogLine is one log record as the page and the "log" events show it.
type LogLine struct {
	// Seq numbers the lines from 1, in the order they were logged.
	Seq uint64 `json:"seq"`
	// Time is when the record was made.
	Time time.Time `json:"time"`
	// Level is "DEBUG", "INFO", "WARN" or "ERROR".
	Level string `json:"level"`
	// Msg is the record's message.
	Msg string `json:"msg"`
	// Attrs are the record's attributes as key=value text, groups as
	// dotted prefixes.
	Attrs string `json:"attrs"`
}

// maxLogLineBytes bounds one line's Msg plus Attrs: a huge attribute must
// not pin a large string in the buffer.
const maxLogLineBytes = 1 << 10

// LogBuffer is a slog.Handler that keeps the latest records in a bounded
// ring for the page, and passes every record on to another handler. Build
// it with NewLogBuffer; it is safe for concurrent use, and handlers derived
// with WithAttrs and WithGroup share its ring.
type LogBuffer struct {
	next   slog.Handler
	ring   *logRing
	prefix string // groups opened by WithGroup, as "a.b."
	attrs  string // attributes added by WithAttrs, formatted
}

// logRing is the buffer shared by a LogBuffer and the handlers derived
// from it.
type logRing struct {
	mu    sync.Mutex // guards lines, next, seq
	lines []LogLine  // capacity = the buffer's size
	next  int        // where the next line goes once full
	seq   uint64     // the Seq of the latest line
}

var _ slog.Handler = (*LogBuffer)(nil)

// NewLogBuffer returns a handler that keeps the last size records (0 means
// 200) and passes every record to next, whose Enabled decides what is
// kept.
func NewLogBuffer(next slog.Handler, size int) *LogBuffer {
	if size <= 0 {
		size = 200
	}
	return &LogBuffer{next: next, ring: &logRing{lines: make([]LogLine, 0, size)}}
}

// Enabled implements slog.Handler.
func (b *LogBuffer) Enabled(ctx context.Context, l slog.Level) bool { return b.next.Enabled(ctx, l) }

// Handle implements slog.Handler: it keeps the record, then passes it on.
func (b *LogBuffer) Handle(ctx context.Context, r slog.Record) error {
	var sb strings.Builder
	sb.WriteString(b.attrs)
	r.Attrs(func(a slog.Attr) bool {
		appendAttr(&sb, b.prefix, a)
		return sb.Len() < maxLogLineBytes
	})
	line := LogLine{Time: r.Time, Level: r.Level.String(), Msg: truncate(r.Message, maxLogLineBytes),
		Attrs: truncate(strings.TrimSpace(sb.String()), maxLogLineBytes-len(r.Message))}
	b.ring.add(line)
	return b.next.Handle(ctx, r)
}

// WithAttrs implements slog.Handler.
func (b *LogBuffer) WithAttrs(as []slog.Attr) slog.Handler {
	var sb strings.Builder
	sb.WriteString(b.attrs)
	for _, a := range as {
		appendAttr(&sb, b.prefix, a)
	}
	return &LogBuffer{next: b.next.WithAttrs(as), ring: b.ring, prefix: b.prefix, attrs: sb.String()}
}

// WithGroup implements slog.Handler.
func (b *LogBuffer) WithGroup(name string) slog.Handler {
	if name == "" {
		return b
	}
	return &LogBuffer{next: b.next.WithGroup(name), ring: b.ring, prefix: b.prefix + name + ".", attrs: b.attrs}
}

// Lines returns the kept lines with a Seq above after, oldest first; 0
// returns them all. The slice is the caller's.
func (b *LogBuffer) Lines(after uint64) []LogLine { return b.ring.since(after) }

// appendAttr writes " key=value", resolving the value and flattening
// groups.
func appendAttr(sb *strings.Builder, prefix string, a slog.Attr) {
	a.Value = a.Value.Resolve()
	if a.Equal(slog.Attr{}) {
		return
	}
	if a.Value.Kind() == slog.KindGroup {
		p := prefix
		if a.Key != "" {
			p += a.Key + "."
		}
		for _, g := range a.Value.Group() {
			appendAttr(sb, p, g)
		}
		return
	}
	v := a.Value.String()
	if strings.ContainsAny(v, " \t\n\"=") || v == "" {
		v = fmt.Sprintf("%q", v)
	}
	sb.WriteString(" " + prefix + a.Key + "=" + v)
}

func truncate(s string, n int) string {
	if n < 0 {
		n = 0
	}
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// Name implements the log uploader's Source (GetDiagnostics): the
// archive entry of the recent lines.
func (b *LogBuffer) Name() string { return "evsed-recent.log" }

// WriteWindow implements the log uploader's Source: the lines the ring
// still holds with from <= time <= to (a zero side open), oldest first,
// one per line as RFC 3339 time, level, message and attributes.
func (b *LogBuffer) WriteWindow(w io.Writer, from, to time.Time) (int64, error) {
	var n int64
	for _, l := range b.ring.since(0) {
		if !from.IsZero() && l.Time.Before(from) || !to.IsZero() && l.Time.After(to) {
			continue
		}
		line := l.Time.UTC().Format(time.RFC3339Nano) + " " + l.Level + " " + l.Msg
		if l.Attrs != "" {
			line += " " + l.Attrs
		}
		k, err := io.WriteString(w, line+"\n")
		n += int64(k)
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func (r *logRing) add(l LogLine) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seq++
	l.Seq = r.seq
	if len(r.lines) < cap(r.lines) {
		r.lines = append(r.lines, l)
		return
	}
	r.lines[r.next] = l
	r.next = (r.next + 1) % len(r.lines)
}

func (r *logRing) since(after uint64) []LogLine {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]LogLine, 0, len(r.lines))
	for i := range r.lines {
		l := r.lines[(r.next+i)%len(r.lines)]
		if l.Seq > after {
			out = append(out, l)
		}
	}
	return out
}

// latest returns the Seq of the latest line; 0 before the first.
func (r *logRing) latest() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.seq
}
