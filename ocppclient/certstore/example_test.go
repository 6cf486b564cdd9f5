package certstore_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/gorilla/websocket"

	"github.com/evsed/evsed/ocppclient/certstore"
	"github.com/evsed/evsed/ocppclient/secevents"
)

// An adapter answers InstallCertificate from the error of Install.
func ExampleStore_Install() {
	s, err := certstore.Open(certstore.Options{Dir: "certs"})
	if err != nil {
		return
	}
	var pemFromCSMS []byte // the request's certificate
	status := "Accepted"
	switch _, err := s.Install(certstore.CSMSRoot, pemFromCSMS); {
	case err == nil:
	case errors.Is(err, certstore.ErrInvalid), errors.Is(err, certstore.ErrExpired),
		errors.Is(err, certstore.ErrWeakKey), errors.Is(err, certstore.ErrFull):
		status = "Rejected"
	default:
		status = "Failed" // the disk failed
	}
	fmt.Println(status)
}

// A transport dials profile 2 or 3 with the store's configuration and its
// dialer, and logs the security event a failed handshake calls for.
func ExampleDialTLS() {
	s, err := certstore.Open(certstore.Options{Dir: "certs"})
	if err != nil {
		return
	}
	cfg, err := s.TLSConfig(3)
	if err != nil {
		return // profile 3 not possible: no CSMS root or no client certificate
	}
	d := websocket.Dialer{TLSClientConfig: cfg, NetDialTLSContext: certstore.DialTLS(cfg, nil), Subprotocols: []string{"ocpp1.6"}}
	conn, _, err := d.DialContext(context.Background(), "wss://csms.example/ocpp/CP1", nil)
	if ev, ok := secevents.FromTLSError(err); ok {
		slog.Warn("tls connection refused", "event", ev.Type.OCPP16(), "info", ev.TechInfo)
		return
	}
	if err == nil {
		conn.Close()
	}
}
