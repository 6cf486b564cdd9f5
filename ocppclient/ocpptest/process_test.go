package ocpptest

import (
	"context"
	"os"
	"testing"
	"time"

	ocpp16 "github.com/lorenzodonini/ocpp-go/ocpp1.6"
)

// TestProcessHelper is the child of TestProcess: this test binary serving
// a CSMS on its stdin and stdout.
func TestProcessHelper(t *testing.T) {
	if os.Getenv("EVSED_OCPPTEST_CHILD") != "1" {
		t.Skip("runs only as TestProcess's child process")
	}
	if err := ServeProcess(Options{}, os.Stdin, os.Stdout); err != nil {
		t.Fatal(err)
	}
}

func TestProcess(t *testing.T) {
	t.Setenv("EVSED_OCPPTEST_CHILD", "1")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	p, err := StartProcess(ctx, os.Args[0], []string{"-test.run=^TestProcessHelper$"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop()
	cp := ocpp16.NewChargePoint("CPP", nil, nil)
	if err := cp.Start(p.URL()); err != nil {
		t.Fatalf("connect to %s: %v", p.URL(), err)
	}
	defer cp.Stop()
	if _, err := cp.Heartbeat(); err != nil {
		t.Fatalf("Heartbeat: %v", err)
	}
	if err := p.Set("failall", true); err != nil {
		t.Fatal(err)
	}
	if _, err := cp.Heartbeat(); err == nil {
		t.Fatal("Heartbeat answered while the child CSMS fails all calls")
	}
	if err := p.Set("failall", false); err != nil {
		t.Fatal(err)
	}
	if _, err := cp.Heartbeat(); err != nil {
		t.Fatalf("Heartbeat after failall off: %v", err)
	}
	if err := p.Set("bogus", true); err == nil {
		t.Fatal("an unknown command was answered ok")
	}
}
