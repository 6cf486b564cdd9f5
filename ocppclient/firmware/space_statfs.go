//go:build linux || darwin || freebsd

package firmware

import "syscall"

// freeSpace returns the bytes an unprivileged process may still write on
// dir's file system, and false when it cannot tell.
func freeSpace(dir string) (int64, bool) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, false
	}
	free := uint64(st.Bavail) * uint64(st.Bsize)
	if free > 1<<62 {
		free = 1 << 62
	}
	return int64(free), true
}
