// Command loadcsms runs the recording test CSMS (ocppclient/ocpptest, on
// ocpp-go's central system) on a free loopback port for scripts/fleet-load:
// it prints "url ws://..." once listening, then every 10 s (and at exit) a
// line with the charge points connected and the messages recorded, and
// stops on SIGINT or SIGTERM. It runs in its own process so that its memory
// is not counted in the fleet's.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/evsed/evsed/ocppclient/ocpptest"
)

func main() {
	heartbeat := flag.Duration("heartbeat", 60*time.Second, "HeartbeatInterval given in BootNotification.conf")
	flag.Parse()
	csms, err := ocpptest.Start(ocpptest.Options{HeartbeatInterval: *heartbeat})
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadcsms:", err)
		os.Exit(1)
	}
	fmt.Println("url", csms.URL())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	tick := time.NewTicker(10 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			fmt.Println("records", len(csms.Records()))
		case <-sig:
			// No csms.Stop: ocpp-go's server may wait on connections
			// being torn down; the process exit closes every socket.
			fmt.Println("records", len(csms.Records()))
			return
		}
	}
}
