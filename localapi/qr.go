package localapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"

	"github.com/evsed/evsed/hal/display/qr"
	"github.com/evsed/evsed/station"
)

// qrImagePath is the path of connector n's QR code image for text, with
// the text's hash as the version; "" without a text.
func qrImagePath(n int, text string) string {
	if text == "" {
		return ""
	}
	return "/api/v1/connectors/" + strconv.Itoa(n) + "/qr.svg?v=" + qrVersion(text)
}

// qrVersion is a short hash of a QR code's text: the image's version in
// its path and its ETag.
func qrVersion(text string) string {
	h := sha256.Sum256([]byte(text))
	return hex.EncodeToString(h[:6])
}

// qrSVG serves the QR code connector n shows its driver (a receipt link
// with the final cost) as an SVG image, drawn from the same symbol as a
// graphic display's (package qr). It answers 404 when the connector shows
// no QR code, and the code the connector shows now whatever the version
// in the query says: the version only makes the page's URL change with
// the text.
func (s *Server) qrSVG(w http.ResponseWriter, r *http.Request) {
	n, ok := connectorNumber(w, r)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.opts.RequestTimeout)
	defer cancel()
	snap, err := s.opts.Station.Status(ctx)
	if err != nil {
		s.fail(w, fmt.Errorf("qr code: %w", err))
		return
	}
	var text string
	found := false
	for _, c := range snap.Connectors {
		if c.ID == n {
			found = true
			if c.Display != nil {
				text = c.Display.QRCode
			}
		}
	}
	if !found {
		s.fail(w, fmt.Errorf("qr code of connector %d: %w", n, station.ErrNoConnector))
		return
	}
	if text == "" {
		writeError(w, http.StatusNotFound, fmt.Errorf("connector %d shows no QR code", n))
		return
	}
	etag := `"` + qrVersion(text) + `"`
	h := w.Header()
	h.Set("ETag", etag)
	// Revalidate each time: the code changes with the next session.
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	// An SVG opened on its own is a document: it may run nothing.
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	code, err := qr.Encode(text)
	if err != nil {
		// Too long for any symbol: the CSMS's text is shown as text only.
		writeError(w, http.StatusUnprocessableEntity, fmt.Errorf("connector %d: %w", n, err))
		return
	}
	h.Set("Content-Type", "image/svg+xml")
	w.WriteHeader(http.StatusOK)
	// The client may be gone; there is no one to tell about a write error.
	_, _ = w.Write(code.SVG())
}
