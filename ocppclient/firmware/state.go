package firmware

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// Files the Updater keeps in Options.Dir while an update runs.
const (
	// StateFile holds the running update's request and progress, so that
	// an agent that restarts (power cut, kill, soft reset) resumes it
	// (see Updater.Resume). It is removed when the update ends.
	StateFile = "update.json"
	// imageFile is the image being downloaded, kept between attempts and
	// across restarts so that a download resumes where it broke off.
	imageFile = "image.bin"
)

// stateVersion is the layout of StateFile; a file of another version
// does not parse.
const stateVersion = 1

// state is the content of StateFile: what a new process needs to go on
// with the update and to report it under the same request id.
type state struct {
	Version int `json:"version"`
	// Phase is where the update is: DownloadScheduled, Downloading,
	// Downloaded, InstallScheduled or Installing. SignatureVerified is
	// not kept: a resumed Downloaded verifies again.
	Phase Status `json:"phase"`
	// Request is the update as Start accepted it.
	Request savedRequest `json:"request"`
	// Accepted is when Start accepted it: a resumed signed update checks
	// its signing certificate again as of then.
	Accepted time.Time `json:"accepted"`
	// Attempt counts the download attempts before the current one.
	Attempt int `json:"attempt"`
	// Validator is the If-Range value (a strong ETag, else a strong
	// Last-Modified) of the response the partial image started with; ""
	// when it had none, and then a download starts over.
	Validator string `json:"validator,omitempty"`
	// Size is the whole image's length in bytes, -1 while unknown.
	Size int64 `json:"size"`
	// Digest is the hex SHA-256 of the complete image, from Downloaded
	// on: a resumed update checks the kept image against it.
	Digest string `json:"sha256,omitempty"`
}

// savedRequest is Request as kept in StateFile.
type savedRequest struct {
	ID         int       `json:"id"`
	Location   string    `json:"location"`
	RetrieveAt time.Time `json:"retrieveAt,omitzero"`
	InstallAt  time.Time `json:"installAt,omitzero"`
	Retries    int       `json:"retries,omitempty"`
	// RetryInterval is in nanoseconds (time.Duration).
	RetryInterval      time.Duration `json:"retryInterval,omitempty"`
	SigningCertificate string        `json:"signingCertificate,omitempty"`
	Signature          string        `json:"signature,omitempty"`
	Origin             string        `json:"origin,omitempty"`
}

func saveRequest(r Request) savedRequest {
	return savedRequest{
		ID: r.ID, Location: r.Location, RetrieveAt: r.RetrieveAt, InstallAt: r.InstallAt,
		Retries: r.Retries, RetryInterval: r.RetryInterval,
		SigningCertificate: string(r.SigningCertificate), Signature: r.Signature, Origin: r.Origin,
	}
}

func (s savedRequest) request() Request {
	r := Request{
		ID: s.ID, Location: s.Location, RetrieveAt: s.RetrieveAt, InstallAt: s.InstallAt,
		Retries: s.Retries, RetryInterval: s.RetryInterval, Signature: s.Signature, Origin: s.Origin,
	}
	if s.SigningCertificate != "" {
		r.SigningCertificate = []byte(s.SigningCertificate)
	}
	return r
}

// parseState reads a StateFile's content, refusing what this package
// never writes.
func parseState(data []byte) (*state, error) {
	var st state
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&st); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("trailing data")
	}
	if st.Version != stateVersion {
		return nil, fmt.Errorf("version %d, want %d", st.Version, stateVersion)
	}
	switch st.Phase {
	case DownloadScheduled, Downloading, Downloaded, InstallScheduled, Installing:
	default:
		return nil, fmt.Errorf("phase %q", st.Phase)
	}
	if st.Attempt < 0 || st.Size < -1 {
		return nil, errors.New("negative attempt or size")
	}
	if st.Phase != DownloadScheduled && st.Phase != Downloading && len(st.Digest) != 64 {
		return nil, fmt.Errorf("phase %s without the image's digest", st.Phase)
	}
	if err := checkLocation(st.Request.Location); err != nil {
		return nil, err
	}
	if (st.Request.SigningCertificate == "") != (st.Request.Signature == "") {
		return nil, errors.New("signing certificate without signature, or the reverse")
	}
	return &st, nil
}

// writeFileAtomic replaces path with data so that a crash leaves either
// the old content or the new one: a temporary file beside it, fsync'd,
// renamed over it, and the directory fsync'd.
func writeFileAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return syncDir(filepath.Dir(path))
}

// removeFiles removes the state file, then the image (in that order: a
// crash in between leaves an image without a state, which Resume
// removes, never a state whose image is gone), and makes the removal
// durable.
func removeFiles(dir string) error {
	var errs []error
	remove := func(name string) {
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	remove(StateFile)
	remove(StateFile + ".tmp")
	if err := syncDir(dir); err != nil {
		errs = append(errs, err)
	}
	remove(imageFile)
	return errors.Join(errs...)
}
