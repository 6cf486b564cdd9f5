package modbus

import (
	"fmt"
	"os"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

// servePTY serves s as an RTU slave on the master side of a new
// pseudo-terminal and returns the rtu:// URL of its slave side, which the
// Modbus client opens as a serial port.
func servePTY(t testing.TB, s *sim) (string, *rtuServer) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	var n int
	var ioErr error
	// Control, not Fd: Fd would put the master into blocking mode, and
	// Close could then not interrupt the server's Read.
	raw, err := master.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	if err := raw.Control(func(fd uintptr) {
		if ioErr = unix.IoctlSetPointerInt(int(fd), unix.TIOCSPTLCK, 0); ioErr != nil {
			return
		}
		n, ioErr = unix.IoctlGetInt(int(fd), unix.TIOCGPTN)
	}); err != nil || ioErr != nil {
		master.Close()
		t.Fatalf("unlock pty: %v %v", err, ioErr)
	}
	path := fmt.Sprintf("/dev/pts/%d", n)
	// Hold the slave open for the whole test, in raw mode: the line
	// discipline must not echo or translate bytes before the client sets
	// its own modes, and the master must not see a hang-up (EIO) while the
	// client reopens the port after a timeout.
	slave, err := unix.Open(path, unix.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		master.Close()
		t.Fatal(err)
	}
	tio, err := unix.IoctlGetTermios(slave, unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	tio.Iflag, tio.Oflag, tio.Lflag = 0, 0, 0
	tio.Cflag = tio.Cflag&^(unix.CSIZE|unix.PARENB) | unix.CS8 | unix.CREAD | unix.CLOCAL
	tio.Cc[unix.VMIN], tio.Cc[unix.VTIME] = 1, 0
	if err := unix.IoctlSetTermios(slave, unix.TCSETS, tio); err != nil {
		t.Fatal(err)
	}
	rs := &rtuServer{s: s}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		rs.serve(master)
	}()
	t.Cleanup(func() {
		master.Close()
		wg.Wait()
		unix.Close(slave)
	})
	return "rtu://" + path + "?baud=115200", rs
}
