package firmware

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/evsed/evsed/clock"
)

// update is one update on its way: the state kept in the StateFile and
// what was checked of its request. Its fields belong to the goroutine
// that runs it (Start or Resume hands it over).
type update struct {
	u   *Updater
	st  state
	sig *signature // the checked signature; nil for an unsigned update
	// sigErr is why a resumed signed update's certificate no longer
	// checks: it ends with InvalidSignature.
	sigErr error
	saved  []byte // the StateFile's content as last written
}

func (u *Updater) statePath() string { return filepath.Join(u.opts.Dir, StateFile) }
func (u *Updater) imagePath() string { return filepath.Join(u.opts.Dir, imageFile) }

// Resume picks up the update that a previous process left in
// Options.Dir (its StateFile), on its own goroutine as Start does, and
// reports whether there was one. Call it once at start, before any Start
// (later calls do nothing), once OnStatus can take notices; with an
// Executable installer, after its CheckBoot.
//
// The update goes on from the phase it was in, reporting it again
// through OnStatus so that the CSMS hears of it: DownloadScheduled waits
// for its retrieve date again (none when it has passed); Downloading
// resumes the download where the partial image ends (an HTTP Range,
// under the same attempt count); Downloaded checks the kept image
// against its SHA-256 and verifies its signature again; InstallScheduled
// checks the image too and waits for its install date again. An image
// that no longer matches is downloaded again. An update interrupted while
// Installing ends silently when the Installer is a PendingInstaller whose
// install of it is pending (the restart was the install's), else with
// InstallationFailed. A signed update's certificate is checked again
// against the manufacturer roots, as of when the request was accepted.
//
// A StateFile that does not parse is removed, with the image, and
// logged; Resume then reports false. So is an image left without a
// StateFile.
func (u *Updater) Resume(ctx context.Context) bool {
	u.startMu.Lock()
	defer u.startMu.Unlock()
	if !u.resumable {
		return false
	}
	u.resumable = false
	data, err := os.ReadFile(u.statePath())
	if errors.Is(err, fs.ErrNotExist) {
		// No update was on its way; an image or a temporary file that a
		// crash left after the state went are of no use.
		if err := removeFiles(u.opts.Dir); err != nil {
			u.log.Warn("firmware: remove leftover files", "dir", u.opts.Dir, "err", err)
		}
		return false
	}
	var st *state
	if err == nil {
		st, err = parseState(data)
	}
	if err != nil {
		u.log.Error("firmware: state file unusable, removed; the update it held is lost",
			"file", u.statePath(), "err", err)
		if err := removeFiles(u.opts.Dir); err != nil {
			u.log.Warn("firmware: remove the unusable state", "dir", u.opts.Dir, "err", err)
		}
		return false
	}
	up := &update{u: u, st: *st}
	up.saved, _ = json.Marshal(&up.st)
	if req := st.Request.request(); req.Signed() {
		up.sig, up.sigErr = u.checkSigned(req, st.Accepted)
	}
	u.log.Info("firmware update resumed", "request", st.Request.ID, "phase", string(st.Phase), "attempt", st.Attempt+1)
	u.launch(ctx, up, true)
	return true
}

// save writes the state to the StateFile when it changed since the last
// write: one write per phase or attempt, never per chunk. A failure is
// logged, and the update goes on (a restart would lose it).
func (up *update) save() {
	data, err := json.Marshal(&up.st)
	if err == nil && bytes.Equal(data, up.saved) {
		return
	}
	if err == nil {
		err = writeFileAtomic(up.u.statePath(), data)
	}
	if err != nil {
		up.u.log.Error("firmware: state not saved, a restart would lose the update",
			"request", up.st.Request.ID, "phase", string(up.st.Phase), "err", err)
		return
	}
	up.saved = data
	up.u.log.Debug("firmware state saved", "request", up.st.Request.ID, "phase", string(up.st.Phase), "attempt", up.st.Attempt+1)
}

// report hands on a status of this update.
func (up *update) report(ctx context.Context, s Status, err error) {
	r := &up.st.Request
	up.u.report(ctx, Notice{RequestID: r.ID, Status: s, Err: err, Signed: r.SigningCertificate != "", Origin: r.Origin})
}

// run is the update's goroutine: from the state's phase (resumed) or
// from the start to a final status, or until ctx ends.
func (up *update) run(ctx context.Context, resumed bool) {
	u, st := up.u, &up.st
	defer func() {
		if ctx.Err() != nil && !errors.Is(context.Cause(ctx), errCanceled) {
			return // stopped, not ended: the next process resumes it
		}
		if err := removeFiles(u.opts.Dir); err != nil {
			u.log.Warn("firmware: remove the update's files", "request", st.Request.ID, "err", err)
		}
	}()
	if up.sigErr != nil {
		up.report(ctx, InvalidSignature, up.sigErr)
		return
	}
	phase := st.Phase
	var digest []byte
	if resumed {
		switch phase {
		case Installing:
			up.interruptedInstall(ctx)
			return
		case Downloaded, InstallScheduled:
			d, err := up.checkImage()
			if err == nil {
				digest = d
				break
			}
			u.log.Warn("firmware image kept across the restart is unusable, downloading it again",
				"request", st.Request.ID, "err", err)
			st.Attempt, st.Validator, st.Size, st.Digest = 0, "", -1, ""
			phase = Downloading
		}
	}
	if phase == DownloadScheduled {
		if d := st.Request.RetrieveAt.Sub(u.clk.Now()); d > 0 {
			up.report(ctx, DownloadScheduled, nil)
			if !clock.Sleep(ctx, u.clk, d) {
				return
			}
		}
		phase = Downloading
	}
	if phase == Downloading {
		var ok bool
		if digest, ok = up.download(ctx); !ok {
			return
		}
		st.Phase, st.Digest = Downloaded, hex.EncodeToString(digest)
		up.save()
		phase = Downloaded
	}
	if phase == Downloaded {
		up.report(ctx, Downloaded, nil)
	}
	if up.sig != nil {
		// Again after a restart (silently for InstallScheduled): the kept
		// image matched its digest, and the signature must too.
		if err := VerifySignature(up.sig.cert, digest, up.sig.sig); err != nil {
			up.report(ctx, InvalidSignature, err)
			return
		}
		if phase == Downloaded {
			up.report(ctx, SignatureVerified, nil)
		}
	}
	if d := st.Request.InstallAt.Sub(u.clk.Now()); d > 0 {
		st.Phase = InstallScheduled
		up.save()
		up.report(ctx, InstallScheduled, nil)
		if !clock.Sleep(ctx, u.clk, d) {
			return
		}
	}
	if u.opts.Idle != nil {
		if err := u.opts.Idle.WaitIdle(ctx); err != nil {
			return // only ctx ends the wait
		}
	}
	st.Phase = Installing
	up.save()
	up.report(ctx, Installing, nil)
	out, err := u.opts.Installer.Install(ctx, u.imagePath(), st.Request.request())
	switch {
	case errors.Is(err, ErrVerification):
		up.report(ctx, InstallVerificationFailed, err)
	case err != nil:
		up.report(ctx, InstallationFailed, err)
	case out == Rebooting:
		up.report(ctx, InstallRebooting, nil)
	default:
		up.report(ctx, Installed, nil)
	}
}

// download runs the attempts from the state's attempt count on, each
// reported Downloading, and returns the image's SHA-256; false when the
// update ended (DownloadFailed) or ctx did.
func (up *update) download(ctx context.Context) ([]byte, bool) {
	u, st := up.u, &up.st
	interval := st.Request.RetryInterval
	if interval <= 0 {
		interval = u.opts.RetryInterval
	}
	for ; ; st.Attempt++ {
		st.Phase = Downloading
		up.save()
		up.report(ctx, Downloading, nil)
		digest, err := up.fetch(ctx)
		if err == nil {
			return digest, true
		}
		if ctx.Err() != nil {
			return nil, false
		}
		u.log.Warn("firmware download failed", "request", st.Request.ID, "attempt", st.Attempt+1, "err", err)
		if st.Attempt >= st.Request.Retries {
			up.report(ctx, DownloadFailed, err)
			return nil, false
		}
		if !clock.Sleep(ctx, u.clk, interval) {
			return nil, false
		}
	}
}

// checkImage hashes the kept image and checks it against the state's
// length and digest.
func (up *update) checkImage() ([]byte, error) {
	f, err := os.Open(up.u.imagePath())
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return nil, err
	}
	if up.st.Size >= 0 && n != up.st.Size {
		return nil, fmt.Errorf("%d bytes, the download had %d", n, up.st.Size)
	}
	sum := h.Sum(nil)
	if hex.EncodeToString(sum) != up.st.Digest {
		return nil, errors.New("its SHA-256 is not the downloaded image's")
	}
	return sum, nil
}

// interruptedInstall ends an update that a restart interrupted while
// Installing.
func (up *update) interruptedInstall(ctx context.Context) {
	if p, ok := up.u.opts.Installer.(PendingInstaller); ok {
		if id, pending := p.PendingRequest(); pending && id == up.st.Request.ID {
			up.u.log.Info("firmware installed before the restart; Installed follows its confirmation", "request", id)
			return
		}
	}
	up.report(ctx, InstallationFailed, errors.New("firmware: the install was interrupted by a restart"))
}
