package job

import (
	"context"
	"testing"
)

// A new job replaces the running one only through Cancel, which ends it
// and waits; Cancel without a running job, or after it ended, says so.
func TestRunner(t *testing.T) {
	var r Runner
	if r.Cancel() {
		t.Fatal("Cancel before any job reported one running")
	}
	r.Wait() // no job: returns at once

	started, ended := make(chan struct{}), make(chan struct{})
	r.Go(context.Background(), func(ctx context.Context) {
		close(started)
		<-ctx.Done()
		close(ended)
	})
	<-started
	if !r.Cancel() {
		t.Fatal("Cancel of a running job reported none")
	}
	select {
	case <-ended:
	default:
		t.Fatal("Cancel returned before the job ended")
	}

	r.Go(context.Background(), func(context.Context) {})
	r.Wait()
	if r.Cancel() {
		t.Error("Cancel after the job ended reported one running")
	}
}
