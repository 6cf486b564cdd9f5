// Package station owns the connectors of one charging station and their
// sessions, and keeps the hardware safe whatever happens.
//
// One goroutine (Run) owns all state: hardware events, meter readings, timer
// expiries, authorization answers and commands from the local API or the OCPP
// adapter all arrive as messages in its inbox, in order. Safety decisions are
// taken in that loop without waiting for the network or the disk; facts for
// the outside world go to a Reporter on a goroutine of their own.
//
// The package knows nothing about OCPP versions or wire formats: statuses,
// error codes and stop reasons carry the OCPP 1.6 names because they are the
// lingua franca of chargers, and adapters map them.
package station
