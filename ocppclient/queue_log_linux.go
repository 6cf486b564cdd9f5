package ocppclient

import (
	"os"

	"golang.org/x/sys/unix"
)

// fdatasync flushes f's data and what is needed to read it back, not its
// times: an append into the allocated file is then one block on the device.
func fdatasync(f *os.File) error {
	for {
		err := unix.Fdatasync(int(f.Fd()))
		if err != unix.EINTR {
			return err
		}
	}
}

// adviseRandom turns off read-ahead on f: reading the log at open would
// otherwise fill the page cache with large folios, and each later append
// into one would count as the whole folio in /proc/PID/io write_bytes. It
// is advice only; an error changes nothing that matters.
func adviseRandom(f *os.File) { _ = unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_RANDOM) }
