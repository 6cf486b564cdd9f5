package clock

import (
	"context"
	"runtime"
	"testing"
	"time"
)

func TestFakeFiresInDeadlineOrder(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f := NewFake(start)
	var got []string
	var at []time.Duration
	f.AfterFunc(3*time.Second, func() { got = append(got, "c"); at = append(at, f.Now().Sub(start)) })
	f.AfterFunc(1*time.Second, func() { got = append(got, "a"); at = append(at, f.Now().Sub(start)) })
	tm := f.NewTimer(2 * time.Second)
	stopped := f.AfterFunc(2*time.Second, func() { got = append(got, "never") })
	if !stopped.Stop() {
		t.Fatal("Stop of a pending timer reported false")
	}
	f.Advance(2500 * time.Millisecond)
	select {
	case v := <-tm.C():
		if v.Sub(start) != 2*time.Second {
			t.Fatalf("timer delivered %v, want +2s", v.Sub(start))
		}
	default:
		t.Fatal("timer did not fire")
	}
	f.Advance(time.Second)
	if len(got) != 2 || got[0] != "a" || got[1] != "c" {
		t.Fatalf("order %v, want [a c]", got)
	}
	if at[0] != time.Second || at[1] != 3*time.Second {
		t.Fatalf("callbacks saw Now at %v, want [1s 3s]", at)
	}
	if f.Now().Sub(start) != 3500*time.Millisecond {
		t.Fatalf("Now = +%v, want +3.5s", f.Now().Sub(start))
	}
	if f.Pending() != 0 {
		t.Fatalf("Pending = %d, want 0", f.Pending())
	}
}

func TestFakeTimerReset(t *testing.T) {
	f := NewFake(time.Unix(0, 0))
	n := 0
	tm := f.AfterFunc(time.Second, func() { n++ })
	f.Advance(900 * time.Millisecond)
	if !tm.Reset(time.Second) {
		t.Fatal("Reset of a pending timer reported false")
	}
	f.Advance(900 * time.Millisecond)
	if n != 0 {
		t.Fatal("timer fired before its reset deadline")
	}
	f.Advance(100 * time.Millisecond)
	if n != 1 {
		t.Fatalf("fired %d times, want 1", n)
	}
}

func TestSleep(t *testing.T) {
	f := NewFake(time.Unix(0, 0))
	done := make(chan bool, 1)
	go func() { done <- Sleep(context.Background(), f, time.Second) }()
	for f.Pending() == 0 {
		runtime.Gosched()
	}
	f.Advance(time.Second)
	if !<-done {
		t.Fatal("Sleep reported a cancelled context after its time passed")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if Sleep(ctx, f, time.Hour) {
		t.Fatal("Sleep with an ended context reported true")
	}
}
