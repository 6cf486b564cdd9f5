package localapi

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

// uiFiles is the web page: plain HTML, CSS and JavaScript, no build step
// and nothing fetched from elsewhere (chargers are often offline).
//
//go:embed ui
var uiFiles embed.FS

// uiAsset is one embedded file: its path in uiFiles (served from the
// binary's read-only data, never copied to the heap), size and ETag.
type uiAsset struct {
	path string
	size int64
	etag string
}

// ui serves the embedded page: / is ui/index.html, /ui/NAME is ui/NAME.
type ui struct {
	assets map[string]uiAsset // by name inside ui/
}

func newUI() *ui {
	u := &ui{assets: map[string]uiAsset{}}
	// The files are compiled in: a read error is impossible, and a
	// missing file shows as a 404.
	_ = fs.WalkDir(uiFiles, "ui", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		f, err := uiFiles.Open(p)
		if err != nil {
			return nil
		}
		defer f.Close()
		h := sha256.New()
		n, err := io.Copy(h, f)
		if err != nil {
			return nil
		}
		u.assets[strings.TrimPrefix(p, "ui/")] = uiAsset{path: p, size: n, etag: `"` + hex.EncodeToString(h.Sum(nil)[:8]) + `"`}
		return nil
	})
	return u
}

// UISize returns the total size in bytes of the embedded page's files.
func UISize() int {
	n := 0
	for _, a := range newUI().assets {
		n += int(a.size)
	}
	return n
}

// contentSecurityPolicy allows the page its own files and API only: no
// inline script, no other origin, no framing.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

func (u *ui) serve(w http.ResponseWriter, r *http.Request) {
	name := "index.html"
	if r.URL.Path != "/" {
		name = strings.TrimPrefix(path.Clean(r.URL.Path), "/ui/")
	}
	a, ok := u.assets[name]
	if !ok {
		writeError(w, http.StatusNotFound, &pathError{r.URL.Path})
		return
	}
	h := w.Header()
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	// Revalidate each time (an upgraded charger serves new files), cheaply
	// through the ETag.
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", a.etag)
	f, err := uiFiles.Open(a.path)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	defer f.Close()
	// Files of an embed.FS are io.ReadSeekers over the binary's data.
	rs, ok := f.(io.ReadSeeker)
	if !ok {
		writeError(w, http.StatusInternalServerError, &pathError{r.URL.Path})
		return
	}
	http.ServeContent(w, r, name, time.Time{}, rs)
}

type pathError struct{ path string }

func (e *pathError) Error() string { return "no page file " + e.path }
