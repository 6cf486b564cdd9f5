package firmware

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// syncEvery is how many bytes of the image are written between two
// fsyncs of the partial file: about what a power cut can cost a download
// in progress (the state file is not written per chunk).
const syncEvery = 1 << 20

// fetch runs one download attempt into the image file. It resumes the
// partial image with a Range request when the state has a validator for
// it (If-Range, so that a changed file comes back whole, as a 200), and
// starts over from byte 0 when the server answers 200, 416 or a
// Content-Range that does not continue the partial image. It returns the
// SHA-256 of the whole image, the kept prefix hashed again from the file.
// The partial image stays for the next attempt, whatever the outcome.
func (up *update) fetch(ctx context.Context) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, up.u.opts.AttemptTimeout)
	defer cancel()
	f, err := os.OpenFile(up.u.imagePath(), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("firmware: download: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("firmware: download: %w", err)
	}
	st := &up.st
	have := fi.Size()
	if have > 0 && (st.Validator == "" || (st.Size >= 0 && have > st.Size)) {
		// Nothing to check a resumed range against: start over.
		if err := truncate(f, 0); err != nil {
			return nil, fmt.Errorf("firmware: download: %w", err)
		}
		have = 0
	}
	if have > 0 && have == st.Size {
		// Complete already: a restart came between the last byte and
		// Downloaded.
		h := sha256.New()
		if _, err := io.Copy(h, io.NewSectionReader(f, 0, have)); err != nil {
			return nil, fmt.Errorf("firmware: download: hash the kept image: %w", err)
		}
		return h.Sum(nil), nil
	}
	for {
		resp, err := up.get(ctx, have)
		if err != nil {
			return nil, fmt.Errorf("firmware: download: %w", err)
		}
		var why string
		switch {
		case resp.StatusCode == http.StatusOK:
			// The whole image: no Range asked, or the server ignores
			// Range, or the file changed (If-Range). Start over.
			if err := truncate(f, 0); err != nil {
				resp.Body.Close()
				return nil, fmt.Errorf("firmware: download: %w", err)
			}
			// The file is empty (and that durable) before a new
			// validator is saved: a crash in between never resumes a
			// new file's ranges onto the old one's prefix.
			if v, n := validator(resp.Header), resp.ContentLength; v != st.Validator || n != st.Size {
				st.Validator, st.Size = v, n
				up.save()
			}
			return up.receive(f, resp, 0, resp.ContentLength)
		case resp.StatusCode == http.StatusPartialContent && have > 0:
			end, reason := up.continues(resp, have)
			if reason == "" {
				st.Size = end
				return up.receive(f, resp, have, end)
			}
			why = reason
		case resp.StatusCode == http.StatusRequestedRangeNotSatisfiable && have > 0:
			why = "HTTP " + resp.Status
		default:
			resp.Body.Close()
			return nil, fmt.Errorf("firmware: download: HTTP %s", resp.Status)
		}
		// Not a continuation of the partial image: ask for all of it.
		// With have 0 the next answer is a 200 or a failure, so this
		// loops at most once.
		resp.Body.Close()
		up.u.log.Info("firmware download starts over", "request", st.Request.ID, "kept", have, "reason", why)
		if err := truncate(f, 0); err != nil {
			return nil, fmt.Errorf("firmware: download: %w", err)
		}
		have, st.Validator = 0, ""
	}
}

// get sends the attempt's request: a Range from have on when have > 0.
func (up *update) get(ctx context.Context, have int64) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, up.st.Request.Location, nil)
	if err != nil {
		return nil, err
	}
	// Ranges count the bytes of the image as stored: no transparent
	// compression, which the transport would otherwise ask for.
	req.Header.Set("Accept-Encoding", "identity")
	if have > 0 {
		req.Header.Set("Range", "bytes="+strconv.FormatInt(have, 10)+"-")
		req.Header.Set("If-Range", up.st.Validator)
	}
	return up.u.hc.Do(req)
}

// continues checks that a 206 carries the rest of the partial image of
// have bytes: one range from have to the end, of the same length and
// validator as the response the image started with. It returns the
// image's length (the range's end: an open range runs to the end) and ""
// when it does, else why not.
func (up *update) continues(resp *http.Response, have int64) (end int64, why string) {
	cr := resp.Header.Get("Content-Range")
	first, last, total, ok := parseContentRange(cr)
	switch {
	case !ok:
		return 0, fmt.Sprintf("Content-Range %q is not one byte range", cr)
	case first != have:
		return 0, fmt.Sprintf("Content-Range %q does not start at byte %d", cr, have)
	case total >= 0 && last != total-1:
		return 0, fmt.Sprintf("Content-Range %q does not run to the end", cr)
	case total >= 0 && up.st.Size >= 0 && total != up.st.Size:
		return 0, fmt.Sprintf("Content-Range %q: the image was %d bytes", cr, up.st.Size)
	case resp.ContentLength >= 0 && resp.ContentLength != last-first+1:
		return 0, fmt.Sprintf("Content-Length %d for Content-Range %q", resp.ContentLength, cr)
	case !sameValidator(up.st.Validator, resp.Header):
		return 0, "the validator changed"
	}
	return last + 1, ""
}

// receive writes resp's body into f from offset have on, hashing the kept
// prefix first and then what arrives; end is the image's length, -1 when
// unknown. It closes the body.
func (up *update) receive(f *os.File, resp *http.Response, have, end int64) ([]byte, error) {
	defer resp.Body.Close()
	o := up.u.opts
	if end > o.MaxSize {
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrTooLarge, end, o.MaxSize)
	}
	limit := o.MaxSize - have // what this response may add
	over := fmt.Errorf("%w: more than %d bytes", ErrTooLarge, o.MaxSize)
	if o.MinFree >= 0 {
		if free, ok := freeSpace(o.Dir); ok {
			room := max(free-o.MinFree, 0)
			if end >= 0 && end-have > room {
				return nil, fmt.Errorf("%w: %d more bytes to write, %d free beyond the %d kept free",
					ErrNoSpace, end-have, room, o.MinFree)
			}
			if room < limit {
				limit = room
				over = fmt.Errorf("%w: more than the %d bytes free beyond the %d kept free", ErrNoSpace, room, o.MinFree)
			}
		}
	}
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(f, 0, have)); err != nil {
		return nil, fmt.Errorf("firmware: download: hash the kept %d bytes: %w", have, err)
	}
	if _, err := f.Seek(have, io.SeekStart); err != nil {
		return nil, fmt.Errorf("firmware: download: %w", err)
	}
	n, err := copySynced(f, h, io.LimitReader(resp.Body, limit+1))
	if err == nil && n > limit {
		err = over
		if terr := truncate(f, have+limit); terr != nil {
			err = errors.Join(err, terr)
		}
	}
	if err == nil && end >= 0 && have+n != end {
		err = fmt.Errorf("%w: %d of %d bytes", io.ErrUnexpectedEOF, have+n, end)
	}
	if serr := f.Sync(); err == nil {
		err = serr
	}
	if err != nil {
		return nil, fmt.Errorf("firmware: download: after %d bytes: %w", have+n, err)
	}
	return h.Sum(nil), nil
}

// copySynced copies r to f and h, fsyncing f every syncEvery bytes, and
// returns the bytes written.
func copySynced(f *os.File, h hash.Hash, r io.Reader) (int64, error) {
	buf := make([]byte, 32<<10)
	var n, unsynced int64
	for {
		k, rerr := r.Read(buf)
		if k > 0 {
			if _, err := f.Write(buf[:k]); err != nil {
				return n, err
			}
			h.Write(buf[:k])
			n += int64(k)
			if unsynced += int64(k); unsynced >= syncEvery {
				if err := f.Sync(); err != nil {
					return n, err
				}
				unsynced = 0
			}
		}
		if rerr == io.EOF {
			return n, nil
		}
		if rerr != nil {
			return n, rerr
		}
	}
}

// truncate cuts f to size and makes that durable.
func truncate(f *os.File, size int64) error {
	if err := f.Truncate(size); err != nil {
		return err
	}
	return f.Sync()
}

// validator returns what an If-Range may carry for a response with h
// (RFC 9110 13.1.5): its ETag when strong; else, when it has no ETag at
// all, its Last-Modified when strong (at least a second before its
// Date); else "", and the partial image is not resumed.
func validator(h http.Header) string {
	if et := h.Get("ETag"); et != "" {
		if len(et) >= 2 && et[0] == '"' && et[len(et)-1] == '"' {
			return et
		}
		return "" // weak: If-Range must not carry it, nor a date instead
	}
	lm, date := h.Get("Last-Modified"), h.Get("Date")
	if lm == "" || date == "" {
		return ""
	}
	tl, err1 := http.ParseTime(lm)
	td, err2 := http.ParseTime(date)
	if err1 != nil || err2 != nil || td.Sub(tl) < time.Second {
		return ""
	}
	return lm
}

// sameValidator reports whether a 206's headers h name the validator v
// the partial image started with, or none of its kind.
func sameValidator(v string, h http.Header) bool {
	if strings.HasPrefix(v, `"`) {
		et := h.Get("ETag")
		return et == "" || et == v
	}
	lm := h.Get("Last-Modified")
	return lm == "" || lm == v
}

// parseContentRange parses "bytes first-last/total" (total "*" gives
// -1).
func parseContentRange(v string) (first, last, total int64, ok bool) {
	rest, ok := strings.CutPrefix(v, "bytes ")
	if !ok {
		return 0, 0, 0, false
	}
	rng, size, ok := strings.Cut(rest, "/")
	if !ok {
		return 0, 0, 0, false
	}
	a, b, ok := strings.Cut(rng, "-")
	if !ok {
		return 0, 0, 0, false
	}
	first, err1 := strconv.ParseInt(a, 10, 64)
	last, err2 := strconv.ParseInt(b, 10, 64)
	if err1 != nil || err2 != nil || first < 0 || last < first {
		return 0, 0, 0, false
	}
	total = -1
	if size != "*" {
		t, err := strconv.ParseInt(size, 10, 64)
		if err != nil || t <= last {
			return 0, 0, 0, false
		}
		total = t
	}
	return first, last, total, true
}
