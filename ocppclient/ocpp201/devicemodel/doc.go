// Package devicemodel is the OCPP 2.0.1 device model of an evsed charging
// station, held as data: which components and variables the station has
// (Definition, the table Standard builds from a Shape), their current
// values (Model, persisted in one bbolt bucket) and the rules with which a
// CSMS reads and changes them (use cases B05 Set Variables, B06 Get
// Variables, B07 Get Base Report and B08 Get Custom Report of OCPP 2.0.1
// Part 2).
//
// The package knows no wire framing and no station: the 2.0.1 adapter
// (package ocpp201) turns GetVariables, SetVariables, GetBaseReport and
// GetReport into calls of Model.Get, Model.Set, Model.Report and
// Model.Query, splits reports into NotifyReport messages, keeps the
// read-only values the station owns up to date with Model.Update
// (AvailabilityState, Entries counts) or Model.Live (ClockCtrlr.DateTime),
// and reads the values it acts on through the typed reads (Model.Seconds,
// Model.Bool, ...) with the predeclared Refs (HeartbeatInterval,
// TxStartPoint, ...).
//
// # Values and storage
//
// Each variable attribute has a current value. At Open it takes, in order
// of precedence: the value persisted by an earlier Set or Update, the value
// the config file gives (Open's initial map), the Definition's default.
// Only Persistent attributes that are not Constant are written, one bbolt
// commit per changed value and none when a value is set to what it already
// is: the data directory is on flash.
//
// # Names
//
// Component and variable names and instances are case-insensitive on
// input, as the 2.0.1 schemas say, and reported with the table's spelling.
// The wire types (Component, Variable, ReportData, ...) carry the JSON
// names of the 2.0.1 schemas and can be embedded in the adapter's messages
// as they are.
package devicemodel
