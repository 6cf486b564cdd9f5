// Package ocpp16 speaks OCPP 1.6J for a charge point: the message types of
// the Core, Smart Charging, Local Auth List Management, Reservation and
// Remote Trigger profiles (and the two notifications of Firmware
// Management), their validation, the standard configuration keys and (in
// the adapter files) the mapping between the station's version-neutral facts
// and commands and 1.6 messages.
//
// # Messages
//
// Every message of those profiles has a request type (FooRequest) and a
// response type (FooResponse, the "conf" of the specification) whose JSON
// form is the one of the official OCPP 1.6 JSON schemas. Optional fields are
// pointers or carry omitempty, so that an absent field stays absent on the
// wire. Timestamps are DateTime values: RFC 3339 in UTC with milliseconds on
// output, any RFC 3339 on input.
//
// Where the schema and the specification's prose differ, the schema decides
// what is accepted on input, and the type's documentation says what the
// prose adds: rules that tie fields together (an IdTagInfo for every entry
// of a Full SendLocalList, a TransactionID only in a TxProfile) are left to
// the handlers.
//
// # Validation
//
// DecodeRequest decodes the requests a CSMS sends: those of the Core
// profile (ChangeAvailability, ChangeConfiguration, ClearCache,
// DataTransfer, GetConfiguration, RemoteStartTransaction,
// RemoteStopTransaction, Reset, UnlockConnector), of Smart Charging
// (SetChargingProfile, ClearChargingProfile, GetCompositeSchedule), of Local
// Auth List Management (SendLocalList, GetLocalListVersion), of Reservation
// (ReserveNow, CancelReservation) and of Remote Trigger (TriggerMessage).
// The other actions of OCPP 1.6 and of its security whitepaper (among them
// UpdateFirmware and GetDiagnostics) are answered NotSupported.
//
// DecodeRequest and DecodeResponse turn a CALL or CALLRESULT payload into a
// typed value and check it against the schema rules, which are kept in one
// place: the `ocpp` struct tags of the message types, interpreted by one
// reflective validator (validate.go). A violation is an *ocppclient.CallError
// with the OCPP-J 1.6 error code:
//
//   - FormationViolation: the payload is not JSON (or not UTF-8), is not a
//     single JSON object, or an object carries a field the schema does not define (every
//     1.6 schema sets additionalProperties to false; an unknown field means
//     the PDU does not have the structure of the action).
//   - TypeConstraintViolation: a field has the wrong JSON type (a string
//     where a number is expected, null anywhere, an object where an array is
//     expected) or a dateTime field holds a string that is not RFC 3339.
//   - OccurenceConstraintViolation: a required field is missing.
//   - PropertyConstraintViolation: the JSON type is right but the value is
//     not allowed: a string outside its enumeration, a string longer than its
//     maxLength (counted in Unicode code points, as JSON Schema does), an
//     integer with a fractional part (1.5; 1.0 and 1e3 are integers, as in
//     JSON Schema), an integer outside the 32-bit range of OCPP integers, a
//     number that is not a multiple of 0.1 where the schema says so, or a
//     value below the minimum the specification states in prose (connector
//     ids, stack levels, start periods, durations).
//
// Checks run in field order, so the error reported for a payload with several
// faults is deterministic: unknown fields first, then each field in the order
// of the Go struct.
//
// Validate (and the Validate method of every message type) applies the same
// rules to an outbound value, so that the adapter never sends a message the
// CSMS would have to reject.
//
// # Configuration
//
// Config holds the standard configuration keys of the Core (section 9.1),
// Local Auth List Management (9.2), Reservation (9.3) and Smart Charging
// (9.4) profiles and the security whitepaper's AuthorizationKey and
// SecurityProfile, persisted in a bbolt bucket, with typed getters and a
// change hook for the adapter. SupportedFeatureProfiles is fixed to
// ImplementedFeatureProfiles.
//
// # California Pricing
//
// The Open Charge Alliance's pricing extension of 1.6 (docs/pricing.md):
// its configuration keys (CustomDisplayCostAndPrice, DefaultPrice and the
// language and time-offset keys) and its DataTransfer messages of vendor
// CostMsgVendorID, whose data is a JSON object: SetUserPrice, RunningCost
// (with triggerMeterValue) and FinalCost from the CSMS, ConnectorUnplugged
// to it. The adapter shows prices and costs through the station's
// PriceDisplay methods and gives it the prices to compute the running cost
// with while offline.
package ocpp16
