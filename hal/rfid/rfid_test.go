package rfid_test

// The polling and UID logic is tested against a fake UIDReader (the real
// mfrc522 driver waits for its IRQ pin in real time), in virtual time.

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/evsed/evsed/clock"
	"github.com/evsed/evsed/hal"
	"github.com/evsed/evsed/hal/pilot/pilottest"
	"github.com/evsed/evsed/hal/rfid"
)

// field is a fake reader: the card in the field, or none.
type field struct {
	mu   sync.Mutex
	card []byte
}

func (f *field) ReadUID(time.Duration) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.card == nil {
		return nil, errors.New("mfrc522: timeout")
	}
	return slices.Clone(f.card), nil
}

func (f *field) Halt() error { return nil }

func (f *field) put(c []byte) { f.mu.Lock(); f.card = c; f.mu.Unlock() }

func TestReaderDebouncesCards(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	f := &field{}
	r, err := rfid.New(rfid.Options{Connector: 1, Dev: f, Interval: 100 * time.Millisecond, Gone: 2, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var tags []string
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- r.Run(ctx, func(e hal.Event) {
			if e.Kind != hal.CardPresented || e.Connector != 1 {
				t.Errorf("event %+v", e)
			}
			mu.Lock()
			tags = append(tags, e.IDTag)
			mu.Unlock()
		})
	}()
	a, b := []byte{0x04, 0xa2, 0x2b, 0x9f}, []byte{0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03}
	steps := []struct {
		card  []byte
		polls int
	}{
		{a, 5},   // resting on the reader: once
		{nil, 1}, // one empty poll (a flaky read) is not a removal
		{a, 2},
		{nil, 2}, // removed
		{a, 1},   // presented again
		{b, 1},   // another card at once
	}
	for _, s := range steps {
		f.put(s.card)
		pilottest.Step(t, clk, 1, s.polls, 100*time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	want := []string{"04A22B9F", "04A22B9F", "DEADBEEF010203"}
	if !slices.Equal(tags, want) {
		t.Fatalf("tags %v, want %v", tags, want)
	}
}

// slowField is a reader without a card whose every read waits out its
// timeout, as the chip does, on the fake clock.
type slowField struct {
	clk   *clock.Fake
	start time.Time
	mu    sync.Mutex // guards at
	at    []time.Duration
}

func (f *slowField) ReadUID(timeout time.Duration) ([]byte, error) {
	f.mu.Lock()
	f.at = append(f.at, f.clk.Now().Sub(f.start))
	f.mu.Unlock()
	f.clk.Advance(timeout)
	return nil, errors.New("mfrc522: timeout")
}

func (f *slowField) Halt() error { return nil }

func TestReaderRestsAfterEachRead(t *testing.T) {
	// Interval counts from the end of a read: the reader gets a full
	// interval of rest after each wait for a card.
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	clk := clock.NewFake(start)
	f := &slowField{clk: clk, start: start}
	r, err := rfid.New(rfid.Options{Dev: f, Interval: 100 * time.Millisecond, ReadTimeout: 50 * time.Millisecond, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx, func(e hal.Event) { t.Errorf("event %+v without a card", e) }) }()
	pilottest.Step(t, clk, 1, 3, 100*time.Millisecond)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	want := []time.Duration{100 * time.Millisecond, 250 * time.Millisecond, 400 * time.Millisecond}
	if !slices.Equal(f.at, want) {
		t.Fatalf("reads at %v, want %v", f.at, want)
	}
}
