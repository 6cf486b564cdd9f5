package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

// fsType names the file system holding dir, because an fsync on tmpfs costs
// nothing and would flatter the queue's figures.
func fsType(dir string) string {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return "an unknown file system"
	}
	// Magic numbers from statfs(2).
	switch uint32(st.Type) {
	case 0xef53:
		return "ext2/3/4"
	case 0x58465342:
		return "xfs"
	case 0x9123683e:
		return "btrfs"
	case 0x01021994:
		return "tmpfs (fsync is free: queue figures flattered)"
	case 0x794c7630:
		return "overlayfs"
	case 0x2fc12fc1:
		return "zfs"
	case 0xf2f52010:
		return "f2fs"
	}
	return fmt.Sprintf("file system type %#x", uint32(st.Type))
}

// scratchDevice makes a file system of its own for the agent's data dir: a
// 256 MiB ext4 image (4 KiB blocks and a journal, as on a Raspberry Pi's SD
// card) on a loop device, mounted noatime (Raspberry Pi OS's default) at
// dir/mnt. Its block device's counters then hold the agent's writes alone,
// journal included, which the shared disk's cannot on a machine where
// other programs write. It needs root, mkfs.ext4 and mount(8), which sets
// the loop device up to go away with the mount; undo unmounts it.
func scratchDevice(ctx context.Context, dir string) (mnt, dev string, undo func(), err error) {
	if os.Geteuid() != 0 {
		return "", "", nil, errors.New("needs root (a loop device of its own)")
	}
	img := filepath.Join(dir, "device.img")
	if err := os.WriteFile(img, nil, 0o600); err != nil {
		return "", "", nil, err
	}
	if err := os.Truncate(img, 256<<20); err != nil {
		return "", "", nil, err
	}
	// Initialise the inode tables and journal now, not in the background
	// during the measurement.
	if out, err := exec.CommandContext(ctx, "mkfs.ext4", "-q", "-F", "-b", "4096",
		"-E", "lazy_itable_init=0,lazy_journal_init=0", img).CombinedOutput(); err != nil {
		return "", "", nil, fmt.Errorf("mkfs.ext4: %v: %s", err, bytes.TrimSpace(out))
	}
	mnt = filepath.Join(dir, "mnt")
	if err := os.MkdirAll(mnt, 0o750); err != nil {
		return "", "", nil, err
	}
	if out, err := exec.CommandContext(ctx, "mount", "-t", "ext4", "-o", "loop,noatime", img, mnt).CombinedOutput(); err != nil {
		return "", "", nil, fmt.Errorf("mount: %v: %s", err, bytes.TrimSpace(out))
	}
	undo = func() { _ = syscall.Unmount(mnt, 0) }
	if dev, err = mountSource(mnt); err != nil {
		undo()
		return "", "", nil, err
	}
	return mnt, filepath.Base(dev), undo, nil
}

// mountSource returns the device mounted at mnt, from /proc/self/mountinfo
// (mount point in the fifth field, source after the " - " separator and the
// file system type).
func mountSource(mnt string) (string, error) {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return "", err
	}
	for l := range strings.Lines(string(data)) {
		f := strings.Fields(l)
		if len(f) < 5 || f[4] != mnt {
			continue
		}
		_, rest, ok := strings.Cut(l, " - ")
		if r := strings.Fields(rest); ok && len(r) >= 2 {
			return r[1], nil
		}
	}
	return "", fmt.Errorf("%s is not a mount point", mnt)
}
