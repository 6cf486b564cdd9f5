package lazylog

import (
	"bytes"
	"io"
	"log/slog"
	"testing"
)

// TestSameOutput checks that a lazy logger writes what the eager one does,
// with attributes before and after groups and records below the level
// dropped.
func TestSameOutput(t *testing.T) {
	tests := []struct {
		name string
		log  func(with func(*slog.Logger, ...any) *slog.Logger, l *slog.Logger)
	}{
		{"one attr", func(with func(*slog.Logger, ...any) *slog.Logger, l *slog.Logger) {
			with(l, "station", "CP1").Warn("fault", "code", 3)
		}},
		{"nested", func(with func(*slog.Logger, ...any) *slog.Logger, l *slog.Logger) {
			s := with(l, "station", "CP1")
			c := with(s, "connector", 2)
			c.Info("plugged", "pilot", "B")
			s.Error("halt")
		}},
		{"With on the result", func(with func(*slog.Logger, ...any) *slog.Logger, l *slog.Logger) {
			with(l, "cp", "X").With("attempt", 1).Warn("retry", "in", "1s")
		}},
		{"group", func(with func(*slog.Logger, ...any) *slog.Logger, l *slog.Logger) {
			with(l, "board", "sim").WithGroup("ev").With("phases", 3).Info("plugged", "a", 16)
		}},
		{"below level", func(with func(*slog.Logger, ...any) *slog.Logger, l *slog.Logger) {
			with(l, "cp", "X").Debug("send", "msg_id", "1")
		}},
		{"an Attr", func(with func(*slog.Logger, ...any) *slog.Logger, l *slog.Logger) {
			with(with(l, slog.Int("connector", 2)), "evse", 1).Warn("fault")
		}},
		{"a key without a value", func(with func(*slog.Logger, ...any) *slog.Logger, l *slog.Logger) {
			with(l, "lonely").Info("odd")
		}},
		{"no attrs", func(with func(*slog.Logger, ...any) *slog.Logger, l *slog.Logger) {
			with(l).Info("plain")
		}},
	}
	eager := func(l *slog.Logger, args ...any) *slog.Logger { return l.With(args...) }
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var want, got bytes.Buffer
			opts := &slog.HandlerOptions{Level: slog.LevelInfo, ReplaceAttr: dropTime}
			tc.log(eager, slog.New(slog.NewTextHandler(&want, opts)))
			tc.log(With, slog.New(slog.NewTextHandler(&got, opts)))
			if got.String() != want.String() {
				t.Errorf("lazy logger wrote\n%s\nwant\n%s", got.String(), want.String())
			}
		})
	}
}

func dropTime(groups []string, a slog.Attr) slog.Attr {
	if a.Key == slog.TimeKey && len(groups) == 0 {
		return slog.Attr{}
	}
	return a
}

// BenchmarkWith reports what a derived logger costs (B/op is what a station
// or connector keeps for its logger).
func BenchmarkWith(b *testing.B) {
	base := slog.New(slog.NewTextHandler(io.Discard, nil))
	b.ReportAllocs()
	var keep *slog.Logger
	for b.Loop() {
		keep = With(base, "station", "CP0001")
	}
	_ = keep
}
