// Package authlist is the Local Authorization List of a charge point: the
// versioned list of id tokens, with their authorization status, that a CSMS
// pushes with SendLocalList (OCPP 1.6 sections 3.5 and 5.15, OCPP 2.0.1 use
// cases D01 and D02) so that the charger can authorize offline, or without a
// round trip, and that it reports with GetLocalListVersion.
//
// The package is version-neutral: the 1.6 and the 2.0.1 adapters both keep
// their list in a List, translating their wire types to Change and Entry.
// It knows no wire format and no station type.
//
// # Tokens
//
// An entry is identified by its token and its token type. OCPP 1.6 has no
// token type (the adapter passes ""); OCPP 2.0.1 has one (ISO14443,
// eMAID, ...), compared exactly. The token itself is compared without
// regard to case, as both versions define it (1.6 idTag is a CiString20,
// 2.0.1 says "IdToken is case insensitive"): "04a1b2" and "04A1B2" are the
// same entry, and an Entry returns the spelling the CSMS last sent.
//
// # Versions
//
// Version is the number GetLocalListVersion reports and the one a
// Differential update is compared against. Both specifications reserve 0
// for an empty list, so a List whose last update left it empty has version
// 0, whatever version that update carried; a non-empty list has the version
// of the update that produced it, which is always at least 1. One number
// serves both purposes, so a CSMS that reads 0 may continue with a
// Differential of any version from 1 up.
//
// # Storage
//
// The list lives in one bbolt bucket and is read from there on every
// Lookup (bbolt is memory-mapped: a lookup touches a few pages of the file
// and the list costs no heap), so that a list of thousands of entries does
// not weigh on a charger that runs in a few MiB. Every Update is one bbolt
// read-write transaction, hence one commit: it is applied whole or not at
// all, also across a crash or a power cut, and it is on disk when Update
// returns, provided the database was not opened with NoSync. Invalid
// updates are refused before any write, so they cost no flash.
//
// Layout of the bucket:
//
//	<bucket>/format             one byte, the storage format (1)
//	<bucket>/version            8 bytes big endian, the list version
//	<bucket>/count              8 bytes big endian, the number of entries
//	<bucket>/entries/<key>      the entries (see codec.go)
package authlist
