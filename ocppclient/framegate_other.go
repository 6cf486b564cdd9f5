//go:build !unix

package ocppclient

import "net"

// newWaiter returns nil: without a poller to wait on, a connection reads
// on one goroutine inside the websocket library.
func newWaiter(net.Conn) waiter { return nil }
