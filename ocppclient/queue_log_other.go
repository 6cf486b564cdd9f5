//go:build !linux

package ocppclient

import "os"

// fdatasync is f.Sync where the system has no fdatasync of its own.
func fdatasync(f *os.File) error { return f.Sync() }

// adviseRandom does nothing where the page cache's large folios are not
// Linux's.
func adviseRandom(*os.File) {}
