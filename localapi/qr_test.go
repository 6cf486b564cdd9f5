package localapi

import (
	"encoding/json"
	"encoding/xml"
	"net/http"
	"strings"
	"testing"

	"github.com/evsed/evsed/station"
	"github.com/evsed/evsed/station/tariff"
)

// receiptSnap is two connectors: 1 after a session, with the final cost
// and a receipt link; 2 with a price only.
func receiptSnap(link string) station.Snapshot {
	return station.Snapshot{Connectors: []station.ConnectorSnapshot{
		{ID: 1, Status: station.Finishing, Display: &station.DriverDisplay{PriceText: "Thank you: 2.05 USD",
			FinalCost: &station.DisplayCost{Amount: tariff.FromFloat(2.05), Currency: "USD"}, QRCode: link}},
		{ID: 2, Status: station.Available, Display: &station.DriverDisplay{PriceText: "0.30 USD/kWh"}},
	}}
}

func TestQRCodeImage(t *testing.T) {
	const link = "https://receipts.example/101"
	st := &fakeStation{snap: receiptSnap(link)}
	srv, err := New(Options{Station: st, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	// The status points at the image, with a version of the text.
	rec := do(srv, "GET", "/api/v1/status", "", nil)
	var status Status
	if err := json.Unmarshal(rec.Body.Bytes(), &status); err != nil {
		t.Fatal(err)
	}
	d1, d2 := status.Connectors[0].Display, status.Connectors[1].Display
	if d1 == nil || d1.QRCode != link || !strings.HasPrefix(d1.QRImage, "/api/v1/connectors/1/qr.svg?v=") || len(d1.QRImage) <= len("/api/v1/connectors/1/qr.svg?v=") {
		t.Fatalf("connector 1 display %+v, want the link and its image path", d1)
	}
	if d1.FinalCost == nil || d1.FinalCost.Text != "USD 2.05" || d1.FinalCost.Amount != 2.05 {
		t.Errorf("final cost %+v, want USD 2.05", d1.FinalCost)
	}
	if d2 == nil || d2.QRImage != "" || strings.Contains(rec.Body.String(), `"qrImage":""`) {
		t.Errorf("connector 2 display %+v, want no image", d2)
	}

	rec = do(srv, "GET", d1.QRImage, "", nil)
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "image/svg+xml" {
		t.Fatalf("GET %s: %d %q: %s", d1.QRImage, rec.Code, rec.Header().Get("Content-Type"), rec.Body)
	}
	var svg struct {
		XMLName xml.Name `xml:"svg"`
		ViewBox string   `xml:"viewBox,attr"`
	}
	if err := xml.Unmarshal(rec.Body.Bytes(), &svg); err != nil || svg.ViewBox != "0 0 33 33" {
		t.Errorf("body is not the 25-module symbol with its quiet zone: %v, viewBox %q", err, svg.ViewBox)
	}
	if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("CSP %q, want nothing allowed to run", csp)
	}
	etag := rec.Header().Get("ETag")
	again := do(srv, "GET", "/api/v1/connectors/1/qr.svg", "", func(r *http.Request) { r.Header.Set("If-None-Match", etag) })
	if etag == "" || again.Code != http.StatusNotModified {
		t.Errorf("with its ETag %q: %d, want 304", etag, again.Code)
	}
	// Another receipt: another image behind the same path, another ETag.
	st.setSnap(receiptSnap("https://receipts.example/102"))
	other := do(srv, "GET", "/api/v1/connectors/1/qr.svg", "", func(r *http.Request) { r.Header.Set("If-None-Match", etag) })
	if other.Code != 200 || other.Header().Get("ETag") == etag || other.Body.String() == rec.Body.String() {
		t.Errorf("after a new receipt: %d, ETag %q (was %q), same body %v", other.Code, other.Header().Get("ETag"), etag, other.Body.String() == rec.Body.String())
	}

	for _, tc := range []struct {
		path string
		want int
	}{
		{"/api/v1/connectors/2/qr.svg", 404}, // no QR code
		{"/api/v1/connectors/3/qr.svg", 404}, // no connector
		{"/api/v1/connectors/x/qr.svg", 400},
	} {
		if rec := do(srv, "GET", tc.path, "", nil); rec.Code != tc.want || !strings.Contains(rec.Body.String(), `"error"`) {
			t.Errorf("GET %s: %d %s, want %d with an error", tc.path, rec.Code, rec.Body, tc.want)
		}
	}
	if rec := do(srv, "POST", "/api/v1/connectors/1/qr.svg", "", nil); rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d, want 405", rec.Code)
	}
}

// With a password the image needs it like the rest of the API (the page's
// image request carries the session cookie).
func TestQRCodeImageNeedsPassword(t *testing.T) {
	srv, err := New(Options{Station: &fakeStation{snap: receiptSnap("https://r.example/1")}, Logger: quiet, Password: "open sesame"})
	if err != nil {
		t.Fatal(err)
	}
	if rec := do(srv, "GET", "/api/v1/connectors/1/qr.svg", "", nil); rec.Code != 401 {
		t.Errorf("without the password: %d, want 401", rec.Code)
	}
	rec := do(srv, "GET", "/api/v1/connectors/1/qr.svg", "", func(r *http.Request) { r.SetBasicAuth("admin", "open sesame") })
	if rec.Code != 200 {
		t.Errorf("with the password: %d, want 200", rec.Code)
	}
}
