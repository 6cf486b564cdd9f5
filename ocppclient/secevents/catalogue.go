package secevents

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"strings"
	"time"
)

// Type is a security event type; its value is the OCPP 2.0.1 name.
type Type string

// The security events of the whitepaper and of OCPP 2.0.1, in the order
// they list them. The critical ones (Critical) must be sent to the CSMS.
const (
	// FirmwareUpdated: the firmware was updated. Critical.
	FirmwareUpdated Type = "FirmwareUpdated"
	// FailedToAuthenticateAtCsms: the CSMS rejected the charge point's
	// credentials (a 401 to the websocket handshake, a refused client
	// certificate).
	FailedToAuthenticateAtCsms Type = "FailedToAuthenticateAtCsms"
	// CsmsFailedToAuthenticate: the charge point rejected the CSMS's
	// credentials.
	CsmsFailedToAuthenticate Type = "CsmsFailedToAuthenticate"
	// SettingSystemTime: the system time was changed. Critical.
	SettingSystemTime Type = "SettingSystemTime"
	// StartupOfTheDevice: the charge point booted. Critical.
	StartupOfTheDevice Type = "StartupOfTheDevice"
	// ResetOrReboot: the charge point was reset or rebooted. Critical.
	ResetOrReboot Type = "ResetOrReboot"
	// SecurityLogWasCleared: the security log was cleared. Critical.
	SecurityLogWasCleared Type = "SecurityLogWasCleared"
	// ReconfigurationOfSecurityParameters: keys or the security profile
	// were changed.
	ReconfigurationOfSecurityParameters Type = "ReconfigurationOfSecurityParameters"
	// MemoryExhaustion: flash or RAM is getting full. Critical.
	MemoryExhaustion Type = "MemoryExhaustion"
	// InvalidMessages: messages that are not valid OCPP were received.
	InvalidMessages Type = "InvalidMessages"
	// AttemptedReplayAttacks: a replayed message was received.
	AttemptedReplayAttacks Type = "AttemptedReplayAttacks"
	// TamperDetectionActivated: the physical tamper sensor fired.
	// Critical.
	TamperDetectionActivated Type = "TamperDetectionActivated"
	// InvalidFirmwareSignature: a firmware signature did not verify.
	InvalidFirmwareSignature Type = "InvalidFirmwareSignature"
	// InvalidFirmwareSigningCertificate: the certificate a firmware was
	// signed with is not valid.
	InvalidFirmwareSigningCertificate Type = "InvalidFirmwareSigningCertificate"
	// InvalidCsmsCertificate: the CSMS's TLS certificate was not valid or
	// could not be verified.
	InvalidCsmsCertificate Type = "InvalidCsmsCertificate"
	// InvalidChargingStationCertificate: the certificate a CSMS sent in
	// CertificateSigned is not valid.
	InvalidChargingStationCertificate Type = "InvalidChargingStationCertificate"
	// InvalidTLSVersion: the CSMS offered only a TLS version below 1.2.
	InvalidTLSVersion Type = "InvalidTLSVersion"
	// InvalidTLSCipherSuite: the CSMS allowed only cipher suites the
	// security specification does not allow.
	InvalidTLSCipherSuite Type = "InvalidTLSCipherSuite"
)

// info is what the catalogue knows of a Type.
type info struct {
	name16   string // the whitepaper's name, "" when the same
	critical bool
}

// catalogue holds every known Type. It is never modified.
var catalogue = map[Type]info{
	FirmwareUpdated:                     {critical: true},
	FailedToAuthenticateAtCsms:          {name16: "FailedToAuthenticateAtCentralSystem"},
	CsmsFailedToAuthenticate:            {name16: "CentralSystemFailedToAuthenticate"},
	SettingSystemTime:                   {critical: true},
	StartupOfTheDevice:                  {critical: true},
	ResetOrReboot:                       {critical: true},
	SecurityLogWasCleared:               {critical: true},
	ReconfigurationOfSecurityParameters: {},
	MemoryExhaustion:                    {critical: true},
	InvalidMessages:                     {},
	AttemptedReplayAttacks:              {},
	TamperDetectionActivated:            {critical: true},
	InvalidFirmwareSignature:            {},
	InvalidFirmwareSigningCertificate:   {},
	InvalidCsmsCertificate:              {name16: "InvalidCentralSystemCertificate"},
	InvalidChargingStationCertificate:   {name16: "InvalidChargePointCertificate"},
	InvalidTLSVersion:                   {},
	InvalidTLSCipherSuite:               {},
}

// Types returns every known Type, in the catalogue's order. The slice is
// the caller's.
func Types() []Type {
	return []Type{
		FirmwareUpdated, FailedToAuthenticateAtCsms, CsmsFailedToAuthenticate,
		SettingSystemTime, StartupOfTheDevice, ResetOrReboot, SecurityLogWasCleared,
		ReconfigurationOfSecurityParameters, MemoryExhaustion, InvalidMessages,
		AttemptedReplayAttacks, TamperDetectionActivated, InvalidFirmwareSignature,
		InvalidFirmwareSigningCertificate, InvalidCsmsCertificate,
		InvalidChargingStationCertificate, InvalidTLSVersion, InvalidTLSCipherSuite,
	}
}

// Known reports whether t is in the catalogue. Unknown types may still be
// logged and sent (both versions allow vendor events); they are not
// critical.
func (t Type) Known() bool { _, ok := catalogue[t]; return ok }

// Critical reports whether t must be sent to the CSMS
// (SecurityEventNotification); the others are only logged.
func (t Type) Critical() bool { return catalogue[t].critical }

// OCPP16 returns t's name in the OCPP 1.6 Security Whitepaper.
func (t Type) OCPP16() string {
	if n := catalogue[t].name16; n != "" {
		return n
	}
	return string(t)
}

// OCPP201 returns t's name in OCPP 2.0.1.
func (t Type) OCPP201() string { return string(t) }

// ParseType returns the Type named s in either version's spelling, and
// false when s is none of the catalogue's (the Type is then s itself).
func ParseType(s string) (Type, bool) {
	if _, ok := catalogue[Type(s)]; ok {
		return Type(s), true
	}
	for t, in := range catalogue {
		if in.name16 == s {
			return t, true
		}
	}
	return Type(s), false
}

// MaxTechInfo is the longest TechInfo both versions carry, in bytes.
const MaxTechInfo = 255

// Event is one security event.
type Event struct {
	// Type is the event type.
	Type Type
	// Time is when it happened; Log.Append sets a zero one to its
	// clock's now.
	Time time.Time
	// TechInfo is free text; Log.Append cuts it to MaxTechInfo bytes.
	TechInfo string
}

// Critical reports whether e must be sent to the CSMS.
func (e Event) Critical() bool { return e.Type.Critical() }

// truncate cuts s to at most n bytes, dropping a UTF-8 sequence cut in
// two (and any other invalid byte).
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}

// FromTLSError returns the security event a failed TLS connection to the
// CSMS calls for: InvalidCsmsCertificate when the server's certificate did
// not verify (unknown authority, expired, wrong host name),
// InvalidTLSVersion when the server refused every TLS version offered
// (1.2 and up), InvalidTLSCipherSuite when it refused every cipher suite
// offered, FailedToAuthenticateAtCsms when the server refused the client
// certificate or asked for one the client did not have (profile 3). A
// TLS 1.2 server answers both a cipher suite it refuses and a client it
// refuses with the same bare "handshake failure" alert; an error from
// certstore.DialTLS tells them apart (it says whether the server's
// certificate had verified), any other error with that alert reads as
// InvalidTLSCipherSuite. It returns false for any other error (a network
// error, a closed connection). The Event carries the error text as
// TechInfo and no Time.
func FromTLSError(err error) (Event, bool) {
	if err == nil {
		return Event{}, false
	}
	var (
		unknown  x509.UnknownAuthorityError
		invalid  x509.CertificateInvalidError
		hostname x509.HostnameError
		verify   *tls.CertificateVerificationError
	)
	if errors.As(err, &unknown) || errors.As(err, &invalid) || errors.As(err, &hostname) || errors.As(err, &verify) {
		return Event{Type: InvalidCsmsCertificate, TechInfo: truncate(err.Error(), MaxTechInfo)}, true
	}
	// A refusal by the server comes back as a TLS alert, which crypto/tls
	// does not export for TCP connections: only its text identifies it.
	// A bare "handshake failure" after the server's certificate verified
	// (which the certificate store's dialer tells) cannot be about the
	// version or the cipher suite, negotiated before it: the server
	// refused the client.
	msg := err.Error()
	var stage interface{ ServerVerified() bool }
	if errors.As(err, &stage) && stage.ServerVerified() && strings.Contains(msg, "tls: handshake failure") {
		return Event{Type: FailedToAuthenticateAtCsms, TechInfo: truncate(msg, MaxTechInfo)}, true
	}
	switch {
	case strings.Contains(msg, "protocol version not supported"),
		strings.Contains(msg, "server selected unsupported protocol version"):
		return Event{Type: InvalidTLSVersion, TechInfo: truncate(msg, MaxTechInfo)}, true
	case strings.Contains(msg, "tls: handshake failure"),
		strings.Contains(msg, "tls: insufficient security level"),
		strings.Contains(msg, "server chose an unconfigured cipher suite"):
		return Event{Type: InvalidTLSCipherSuite, TechInfo: truncate(msg, MaxTechInfo)}, true
	case strings.Contains(msg, "tls: bad certificate"),
		strings.Contains(msg, "tls: certificate required"),
		strings.Contains(msg, "tls: unknown certificate authority"),
		strings.Contains(msg, "tls: unknown certificate"),
		strings.Contains(msg, "tls: certificate revoked"),
		strings.Contains(msg, "tls: expired certificate"):
		return Event{Type: FailedToAuthenticateAtCsms, TechInfo: truncate(msg, MaxTechInfo)}, true
	}
	return Event{}, false
}
