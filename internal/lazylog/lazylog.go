// Package lazylog derives loggers that carry attributes without paying for
// them until a record is written.
//
// slog.Logger.With hands its attributes to the handler at once, and the
// standard handlers format them into a copy of their state: a few hundred
// bytes per logger, which is the right trade for a logger that writes often.
// The station, connector, board and transport loggers of evsed write a line
// now and then, and the fleet simulator holds thousands of each. A logger
// from With keeps its attributes as they are and hands them to the handler
// only for a record the handler is going to write, so that it costs a small
// fixed amount until then and writes exactly what l.With would have.
package lazylog

import (
	"context"
	"log/slog"
	"slices"
)

// With returns a logger that writes what l.With(args...) would write, but
// derives the handler's copy with the attributes only for a record that is
// enabled, and drops it afterwards. Further With calls on the result add to
// its attributes the same way.
func With(l *slog.Logger, args ...any) *slog.Logger {
	if attr, ok := onlyAttr(args); ok {
		// The common case, a station's id or a connector's number: the
		// logger and its handler in one 64-byte allocation.
		o := &one{h: single{inner: l.Handler(), attr: attr}}
		o.logger = *slog.New(&o.h)
		return &o.logger
	}
	return slog.New(handler{inner: l.Handler()}).With(args...)
}

// onlyAttr returns the attribute args make when they make exactly one, as
// slog.Logger.With reads them: a key and its value, or an Attr.
func onlyAttr(args []any) (slog.Attr, bool) {
	switch len(args) {
	case 1:
		a, ok := args[0].(slog.Attr)
		return a, ok
	case 2:
		if key, ok := args[0].(string); ok {
			return slog.Any(key, args[1]), true
		}
	}
	return slog.Attr{}, false
}

// one is a logger with its handler, allocated together.
type one struct {
	logger slog.Logger
	h      single
}

// single holds one attribute for inner until a record needs it.
type single struct {
	inner slog.Handler
	attr  slog.Attr
}

// Enabled implements slog.Handler.
func (h *single) Enabled(ctx context.Context, level slog.Level) bool {
	return h.inner.Enabled(ctx, level)
}

// Handle implements slog.Handler.
func (h *single) Handle(ctx context.Context, r slog.Record) error {
	return h.inner.WithAttrs([]slog.Attr{h.attr}).Handle(ctx, r)
}

// WithAttrs implements slog.Handler; the attributes stay unformatted.
func (h *single) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	return handler{inner: h.inner, attrs: append([]slog.Attr{h.attr}, attrs...)}
}

// WithGroup implements slog.Handler, as handler's does.
func (h *single) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return h.inner.WithAttrs([]slog.Attr{h.attr}).WithGroup(name)
}

// handler holds attributes for inner until a record needs them.
type handler struct {
	inner slog.Handler
	attrs []slog.Attr // read-only once the handler is built
}

// Enabled implements slog.Handler: the attributes do not change which
// records are written.
func (h handler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.inner.Enabled(ctx, level)
}

// Handle implements slog.Handler.
func (h handler) Handle(ctx context.Context, r slog.Record) error {
	return h.inner.WithAttrs(h.attrs).Handle(ctx, r)
}

// WithAttrs implements slog.Handler; the attributes stay unformatted.
func (h handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	return handler{inner: h.inner, attrs: slices.Concat(h.attrs, attrs)}
}

// WithGroup implements slog.Handler. A group qualifies the attributes added
// after it, not those held so far, so they go to the handler first.
func (h handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return h.inner.WithAttrs(h.attrs).WithGroup(name)
}
