// Package ocpp201 speaks OCPP 2.0.1 for a charging station, the sibling of
// package ocpp16: the message types of the actions it sends or answers
// (generated from the official JSON schemas, with their rules in `ocpp`
// struct tags), their validation, and (in the adapter files) the mapping
// between the station's version-neutral facts and commands and 2.0.1
// messages. The device model (package devicemodel) holds the variables.
//
// # Validation
//
// DecodeRequest and DecodeResponse check a payload against its schema's
// rules; Validate (and each type's Validate method) does the same for an
// outbound value. A violation is an *ocppclient.CallError with the OCPP-J
// 2.0.1 code:
//
//   - FormatViolation: not UTF-8 JSON, not one JSON object, or a field the
//     schema does not define (every 2.0.1 schema forbids additional
//     properties; customData is allowed in every object).
//   - TypeConstraintViolation: a field of the wrong JSON type (null
//     included), a number with a fraction or outside 32 bits where an
//     integer is expected, a date-time that is not RFC 3339.
//   - OccurrenceConstraintViolation: a required field missing, an array
//     with fewer or more items than the schema allows.
//   - PropertyConstraintViolation: a string outside its enumeration or
//     longer than its maxLength (in code points), a value below its
//     minimum.
//   - NotImplemented: an action 2.0.1 does not define; NotSupported: one it
//     defines that the adapter does not take (Actions is the table).
//
// # Mapping
//
// EVSE n is the station's connector n, with one connector (id 1). The
// station's 1.6-named statuses map to ConnectorStatus (Preparing,
// Charging, SuspendedEV, SuspendedEVSE and Finishing are Occupied).
// Transactions follow TxStartPoint and TxStopPoint (tx.go says which
// station facts each point is read from); their ids are generated here.
// Token types are guessed from the token (tokenKind): the station knows
// tokens as strings only.
//
// # Functional blocks
//
// Besides B, E, F, G, J, P and the local list (D), the adapter does:
//
//   - A Security: security events (Charger.SecurityEvent, the critical ones
//     queued as SecurityEventNotification), the charging station
//     certificate (SignCertificate, CertificateSigned,
//     RenewClientCertificate) and the root certificates of M
//     (InstallCertificate, GetInstalledCertificateIds, DeleteCertificate) on
//     Options.Certificates (security.go).
//   - C Authorization: the authorization cache of AuthCacheCtrlr and
//     group tokens (authcache.go, auth.go).
//   - H Reservation on the station's reservations, with
//     ReservationStatusUpdate (reservation.go).
//   - I Tariff and cost: the CSMS's texts (personalMessage,
//     updatedPersonalMessage) and costs (totalCost, CostUpdated) on the
//     station's driver display in TariffCostCtrlr.Currency, with
//     TariffFallbackMessage, OfflineTariffFallbackMessage and
//     TotalCostFallbackMessage where the CSMS sends none (pricing.go).
//   - K Smart charging on package smartcharging, limits handed to the
//     station (smart.go).
//   - L Firmware and N log upload on Options.Firmware and Options.Logs
//     (firmware.go).
//
// Notifications that must not be lost (security events, firmware and log
// status, reservation updates) go through the durable queue as
// ocppclient.KindOther; reports asked for by the CSMS (NotifyReport,
// ReportChargingProfiles) are sent after the answer, best effort.
package ocpp201
