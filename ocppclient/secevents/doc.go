// Package secevents is the security event catalogue of a charge point and
// its local security log: the security events of the OCPP 1.6 Security
// Whitepaper and of OCPP 2.0.1 (its list of security events), which of
// them are critical, that is sent to the CSMS in a
// SecurityEventNotification, and a size-bounded rotating file that keeps
// every event on the charger for GetLog (SecurityLog).
//
// The package is version-neutral. A Type's value is its OCPP 2.0.1 name;
// OCPP16 returns the whitepaper's name, which differs where 1.6 says
// "Central System" (FailedToAuthenticateAtCentralSystem,
// CentralSystemFailedToAuthenticate, InvalidCentralSystemCertificate) and
// "Charge Point" (InvalidChargePointCertificate, which 2.0.1 calls
// InvalidChargingStationCertificate). ParseType reads either spelling.
//
// # The security log
//
// A Log appends one JSON object per line, {"time", "type", "techInfo",
// "critical"}, and fsyncs after each append: a security event costs one
// small write and a flush, and an event the caller has seen recorded is on
// the flash. The current file is security.log; when an append would take
// it past LogOptions.MaxBytes it is renamed security.log.1, older files
// move up by one and the oldest beyond LogOptions.Files is removed, so the
// log never holds more than Files*MaxBytes bytes. Read and WriteWindow
// return the events of a time window, oldest first, across the files.
//
// A Log is safe for concurrent use. Open one Log per directory.
package secevents
