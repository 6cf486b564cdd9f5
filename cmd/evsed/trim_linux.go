package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// trimExecutable gives back the pages of evsed's own executable that
// start-up touched and the steady state does not need, and stops the kernel
// from reading ahead around later page faults in it. Start-up runs the
// init code of every package, which, with read-ahead and fault-around (the
// kernel maps whole blocks of the file around each fault, large folios on
// recent kernels), leaves nearly the whole 9-10 MB binary resident: most of
// the agent's RSS, on a device that may have little memory. The pages are
// clean and file-backed: those needed again are read back from the file,
// one page at a time, and stay.
//
// Only the read-only mappings of the executable are touched (code and
// constant data, never the writable ones). It returns how many mappings it
// advised; errors mean an old kernel without MADV_PAGEOUT (5.4) and change
// nothing that matters.
func trimExecutable() (int, error) {
	exe, err := os.Executable()
	if err != nil {
		return 0, err
	}
	if err := flush(exe); err != nil {
		return 0, err
	}
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// address perms offset dev inode path
		fs := strings.Fields(sc.Text())
		if len(fs) < 6 || fs[5] != exe || strings.ContainsRune(fs[1], 'w') {
			continue
		}
		lo, hi, ok := strings.Cut(fs[0], "-")
		a, err1 := strconv.ParseUint(lo, 16, 64)
		b, err2 := strconv.ParseUint(hi, 16, 64)
		if !ok || err1 != nil || err2 != nil || b <= a {
			return n, fmt.Errorf("trim: bad mapping %q", fs[0])
		}
		for _, advice := range []int{unix.MADV_RANDOM, unix.MADV_PAGEOUT} {
			if err := madvise(uintptr(a), uintptr(b-a), advice); err != nil {
				return n, fmt.Errorf("trim: madvise %d of %s: %w", advice, fs[0], err)
			}
		}
		n++
	}
	if err := sc.Err(); err != nil {
		return n, err
	}
	return n, dropCache(exe)
}

// dropCache drops the executable's clean pages from the page cache, now
// that no mapping of this process holds them. Without it the pages stay
// cached, in large folios on recent kernels (as the build or exec's
// read-ahead wrote them), and a later fault maps a whole folio or its
// cached neighbours (fault-around) again: one charging session's first
// pass through the code brought 6.5 MiB of the executable back. Read
// back one page at a time (MADV_RANDOM above), only what runs returns.
func dropCache(exe string) error {
	f, err := os.Open(exe)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
		return fmt.Errorf("trim: fadvise %s: %w", exe, err)
	}
	return nil
}

// flush waits until the executable's pages in the page cache are on
// storage, which is at once for an installed one. A page still dirty (a
// binary written moments before it started: just updated, or just built)
// is neither paged out nor dropped, and stays resident: a fleet started
// right after its build kept 4.4 of its 5.9 MB of constant data after the
// first trim. (fsync is allowed on a descriptor open for reading.)
func flush(exe string) error {
	f, err := os.Open(exe)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := unix.Fdatasync(int(f.Fd())); err != nil {
		return fmt.Errorf("trim: fdatasync %s: %w", exe, err)
	}
	return nil
}

// madvise advises on a mapping given by address, which no Go slice covers:
// the executable's own pages.
func madvise(addr, length uintptr, advice int) error {
	if _, _, e := unix.Syscall(unix.SYS_MADVISE, addr, length, uintptr(advice)); e != 0 {
		return e
	}
	return nil
}

// fileResident returns the process's file-backed resident bytes (the
// third field of /proc/self/statm, in pages): the executable's pages, the
// shared libraries' and the database's mapping.
func fileResident() (int64, error) {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0, err
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return 0, fmt.Errorf("trim: /proc/self/statm: %q", b)
	}
	pages, err := strconv.ParseInt(f[2], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("trim: /proc/self/statm: %w", err)
	}
	return pages * int64(os.Getpagesize()), nil
}
