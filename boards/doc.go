// Package boards turns a board name into the hardware values the station
// drives: a hal.Board and a meter per connector.
//
// Today the registry holds the built-in simulated board, "sim". Board files
// (YAML descriptions of real boards: which pin drives the pilot, which relay
// the contactor, which meter sits on which bus) will join it as further
// entries whose Info.Source names where they came from; Open keeps one entry
// point for both.
package boards
