package authlist

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkLookup looks tokens up in a list of 10,000 entries, as a
// charger does on every card swipe; the figure to watch besides ns/op is
// allocs/op (the entry's strings and nothing more).
func BenchmarkLookup(b *testing.B) {
	const n = 10000
	l, _, _ := newList(b)
	changes := make([]Change, n)
	for i := range changes {
		changes[i] = Change{Token: fmt.Sprintf("04%08X", i*7919), Info: &Info{Status: Accepted, Expiry: t0.Add(time.Duration(i) * time.Hour)}}
	}
	if err := l.Update(Full, 1, changes, n); err != nil {
		b.Fatal(err)
	}
	b.Run("hit", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, ok := l.Lookup(changes[i%n].Token, "", t0); !ok {
				b.Fatal("miss")
			}
			i++
		}
	})
	b.Run("miss", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := l.Lookup("FFFFFFFFFF", "", t0); ok {
				b.Fatal("hit")
			}
		}
	})
}
