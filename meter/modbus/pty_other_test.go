//go:build !linux

package modbus

import "testing"

// servePTY needs Linux pseudo-terminal ioctls; elsewhere the serial tests
// skip and rtuovertcp covers RTU framing.
func servePTY(t testing.TB, s *sim) (string, *rtuServer) {
	t.Skip("pseudo-terminal serial tests run on Linux only")
	return "", nil
}
