package firmware

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Executable is the default Installer for an agent that is one binary
// file: it replaces Path atomically with the image and keeps the binary it
// replaced as Path+".prev", so that it can be rolled back.
//
// Install copies the image beside Path (same directory, so that the final
// rename is atomic), makes it executable (0755), fsyncs it, runs Verify
// on the copy, copies the running binary to Path+".prev" the same way,
// renames the copy over Path, fsyncs the directory, and writes the marker
// Path+".pending" holding a boot count of 0. A crash at any point leaves
// either the old binary or the new one at Path, never a partial file.
//
// The restart itself is Restart's: under systemd (Restart=always in the
// unit), exiting the process is enough for systemd to start the new
// binary, or Restart may run "systemctl restart" for the unit; with no
// Restart the new binary runs from the next start on and Install reports
// Done.
//
// The rollback protects against a new binary that does not come up: the
// binary calls CheckBoot early at every start, which counts the starts
// while the marker is present and, past MaxBoots, restores Path+".prev"
// and reports it, so that the caller exits and the supervisor starts the
// previous binary; once the new binary has connected to the CSMS (its
// BootNotification accepted), it calls Confirm, which removes the marker.
type Executable struct {
	// Path is the binary to replace. Required.
	Path string
	// Verify, when set, checks the installed copy before it replaces
	// Path (for instance: run it with a version flag). Its error fails
	// the install with ErrVerification and leaves Path alone.
	Verify func(ctx context.Context, path string) error
	// Restart, when set, restarts the agent after the replacement;
	// Install then reports Rebooting. Its error is returned, with the new
	// binary in place.
	Restart func(ctx context.Context) error
	// MaxBoots is how many starts of an unconfirmed new binary CheckBoot
	// allows before it rolls back; 0 means 3.
	MaxBoots int
}

var _ Installer = (*Executable)(nil)

// Suffixes of the files Executable keeps beside Path.
const (
	prevSuffix    = ".prev"
	pendingSuffix = ".pending"
)

// Install implements Installer.
func (e *Executable) Install(ctx context.Context, image string, req Request) (Outcome, error) {
	if e.Path == "" {
		return Done, errors.New("firmware: executable: no path")
	}
	next, err := copyBeside(image, e.Path, ".new", 0o755)
	if err != nil {
		return Done, fmt.Errorf("firmware: executable: stage: %w", err)
	}
	defer os.Remove(next) // gone after the rename; removes a failed stage
	if e.Verify != nil {
		if err := e.Verify(ctx, next); err != nil {
			return Done, fmt.Errorf("%w: %v", ErrVerification, err)
		}
	}
	if _, err := os.Stat(e.Path); err == nil {
		prev, err := copyBeside(e.Path, e.Path, prevSuffix+".tmp", 0o755)
		if err != nil {
			return Done, fmt.Errorf("firmware: executable: keep previous: %w", err)
		}
		if err := os.Rename(prev, e.Path+prevSuffix); err != nil {
			os.Remove(prev)
			return Done, fmt.Errorf("firmware: executable: keep previous: %w", err)
		}
	}
	if err := writeMarker(e.Path+pendingSuffix, marker{request: req.ID}); err != nil {
		return Done, fmt.Errorf("firmware: executable: marker: %w", err)
	}
	if err := os.Rename(next, e.Path); err != nil {
		os.Remove(e.Path + pendingSuffix)
		return Done, fmt.Errorf("firmware: executable: replace: %w", err)
	}
	if err := syncDir(filepath.Dir(e.Path)); err != nil {
		return Done, fmt.Errorf("firmware: executable: replace: %w", err)
	}
	if e.Restart == nil {
		return Done, nil
	}
	if err := e.Restart(ctx); err != nil {
		return Rebooting, fmt.Errorf("firmware: executable: restart: %w", err)
	}
	return Rebooting, nil
}

// Pending reports whether a new binary is installed and not yet
// confirmed.
func (e *Executable) Pending() bool {
	_, err := os.Stat(e.Path + pendingSuffix)
	return err == nil
}

// PendingRequest returns the ID of the request that installed the
// unconfirmed binary, and false when nothing is pending.
func (e *Executable) PendingRequest() (int, bool) {
	m, err := readMarker(e.Path + pendingSuffix)
	if err != nil {
		return 0, false
	}
	return m.request, true
}

// Confirm marks the running binary good: the marker is removed, and the
// next update will keep this binary as the previous one. It is a no-op
// when nothing is pending.
func (e *Executable) Confirm() error {
	if err := os.Remove(e.Path + pendingSuffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("firmware: executable: confirm: %w", err)
	}
	return syncDir(filepath.Dir(e.Path))
}

// CheckBoot counts a start of an unconfirmed binary and, once more than
// MaxBoots starts went by without Confirm, rolls back to Path+".prev" and
// reports rolledBack: the caller then exits so that its supervisor starts
// the previous binary. It does nothing when nothing is pending.
func (e *Executable) CheckBoot() (rolledBack bool, err error) {
	path := e.Path + pendingSuffix
	m, err := readMarker(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("firmware: executable: boot check: %w", err)
	}
	m.boots++
	limit := e.MaxBoots
	if limit <= 0 {
		limit = 3
	}
	if m.boots <= limit {
		if err := writeMarker(path, m); err != nil {
			return false, fmt.Errorf("firmware: executable: boot check: %w", err)
		}
		return false, nil
	}
	if err := e.Rollback(); err != nil {
		return false, err
	}
	return true, nil
}

// Rollback puts Path+".prev" back at Path and removes the marker. Errors
// wrap fs.ErrNotExist when there is no previous binary.
func (e *Executable) Rollback() error {
	prev := e.Path + prevSuffix
	if _, err := os.Stat(prev); err != nil {
		return fmt.Errorf("firmware: executable: rollback: %w", err)
	}
	if err := os.Rename(prev, e.Path); err != nil {
		return fmt.Errorf("firmware: executable: rollback: %w", err)
	}
	if err := os.Remove(e.Path + pendingSuffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("firmware: executable: rollback: %w", err)
	}
	return syncDir(filepath.Dir(e.Path))
}

// copyBeside copies src to a new file next to dst (dst+suffix), with mode,
// fsync'd, and returns its name.
func copyBeside(src, dst, suffix string, mode fs.FileMode) (string, error) {
	in, err := os.Open(src)
	if err != nil {
		return "", err
	}
	defer in.Close()
	name := dst + suffix
	out, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return "", err
	}
	_, err = io.Copy(out, in)
	if err == nil {
		err = out.Chmod(mode)
	}
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(name)
		return "", err
	}
	return name, nil
}

// marker is the content of the pending marker: "<boots> <request id>".
type marker struct {
	boots, request int
}

// readMarker reads the marker at path; a missing one wraps
// fs.ErrNotExist, an unreadable content reads as zeroes.
func readMarker(path string) (marker, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return marker{}, err
	}
	var m marker
	f := strings.Fields(string(data))
	if len(f) > 0 {
		m.boots, _ = strconv.Atoi(f[0])
	}
	if len(f) > 1 {
		m.request, _ = strconv.Atoi(f[1])
	}
	return m, nil
}

// writeMarker replaces the marker at path atomically with m.
func writeMarker(path string, m marker) error {
	return writeFileAtomic(path, []byte(strconv.Itoa(m.boots)+" "+strconv.Itoa(m.request)+"\n"))
}

// syncDir fsyncs dir so that renames in it are durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
