//go:build !linux && !darwin && !freebsd

package firmware

// freeSpace cannot tell on this platform: only Options.MaxSize bounds a
// download.
func freeSpace(string) (int64, bool) { return 0, false }
