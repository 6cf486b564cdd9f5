package authlist

import (
	"errors"
	"strconv"
	"time"
)

// Errors of Update (and ErrCorrupt of Open). Update wraps them with
// detail; test with errors.Is. A refused update changed nothing.
var (
	// ErrVersionMismatch: a Differential update whose version is not above
	// the current Version (OCPP 1.6 UpdateStatus VersionMismatch, 2.0.1
	// D01.FR.19). The CSMS is expected to send a Full update next.
	ErrVersionMismatch = errors.New("authlist: version mismatch")
	// ErrInvalid: the update is malformed (see Update for the rules). The
	// adapters answer it with status Failed.
	ErrInvalid = errors.New("authlist: invalid update")
	// ErrTooLong: the list after the update would hold more entries than
	// the maxLength given to Update (LocalAuthListMaxLength in 1.6,
	// LocalAuthListCtrlr.Entries in 2.0.1). The adapters answer Failed.
	ErrTooLong = errors.New("authlist: list too long")
	// ErrCorrupt: the bucket holds data this package did not write, or a
	// storage format it does not know.
	ErrCorrupt = errors.New("authlist: corrupt list")
)

// Bounds on the strings of an entry, counted in Unicode code points as the
// OCPP JSON schemas count maxLength. They are the largest the OCPP versions
// evsed speaks allow: 2.0.1 id tokens (1.6 idTags are at most 20, which the
// 1.6 adapter's schema validation enforces) and 2.1 token types (2.0.1 types
// are enumeration names of at most 15).
const (
	MaxTokenLen     = 36
	MaxTokenTypeLen = 20
)

// Status is the authorization status of a token, with the OCPP names: the
// five of 1.6 AuthorizationStatus, then the extras of 2.0.1
// AuthorizationStatusEnumType. The 1.6 adapter never stores the extras,
// which its schema validation refuses.
type Status string

// Authorization statuses.
const (
	Accepted           Status = "Accepted"
	Blocked            Status = "Blocked"
	Expired            Status = "Expired"
	Invalid            Status = "Invalid"
	ConcurrentTx       Status = "ConcurrentTx"
	NoCredit           Status = "NoCredit"
	NotAllowedTypeEVSE Status = "NotAllowedTypeEVSE"
	NotAtThisLocation  Status = "NotAtThisLocation"
	NotAtThisTime      Status = "NotAtThisTime"
	Unknown            Status = "Unknown"
)

// Valid reports whether s is one of the statuses above.
func (s Status) Valid() bool {
	switch s {
	case Accepted, Blocked, Expired, Invalid, ConcurrentTx,
		NoCredit, NotAllowedTypeEVSE, NotAtThisLocation, NotAtThisTime, Unknown:
		return true
	}
	return false
}

// Kind is the kind of an update, the updateType of SendLocalList.
type Kind uint8

// Kinds of update. The zero Kind is none of them, and Update refuses it.
const (
	// Full replaces the whole list with the update's entries.
	Full Kind = iota + 1
	// Differential adds, replaces and removes single entries.
	Differential
)

// String returns the OCPP name of k.
func (k Kind) String() string {
	switch k {
	case Full:
		return "Full"
	case Differential:
		return "Differential"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Info is what the list says about a token: 1.6 IdTagInfo, 2.0.1
// IdTokenInfo (the part of it that authorization needs).
type Info struct {
	// Status is the verdict; it must be Valid.
	Status Status
	// GroupToken is the 1.6 parentIdTag or the 2.0.1 groupIdToken; ""
	// when there is none. GroupTokenType is the group token's 2.0.1 type,
	// "" in 1.6. Same bounds as Change.Token and Change.TokenType.
	GroupToken     string
	GroupTokenType string
	// Expiry is the 1.6 expiryDate or the 2.0.1 cacheExpiryDateTime: from
	// that instant on, Lookup reads the entry as Expired. The zero time
	// means the status does not expire. It is stored to the nanosecond and
	// returned in UTC.
	Expiry time.Time
	// EVSEs are the EVSE ids the token is restricted to (2.0.1
	// IdTokenInfo.evseId); nil or empty means every EVSE, and is always
	// so in 1.6 (Lookup returns nil then). Ids are not negative. The list does not interpret them: the adapter
	// checks the EVSE of the request against them.
	EVSEs []int
}

// Entry is one token of the list, as Lookup returns it. It does not refer
// to the database: the caller owns it.
type Entry struct {
	// Token is the id token in the spelling of the last update that
	// carried it; TokenType is its 2.0.1 type, "" in 1.6.
	Token     string
	TokenType string
	Info
}

// Change is one element of an update: the 1.6 and 2.0.1 AuthorizationData.
type Change struct {
	// Token is the id token: not empty, at most MaxTokenLen code points,
	// valid UTF-8. TokenType is its 2.0.1 type ("" in 1.6), at most
	// MaxTokenTypeLen code points.
	Token     string
	TokenType string
	// Info is the token's new information. In a Full update every change
	// carries one. In a Differential update a change with Info adds or
	// replaces the entry, and a change without removes it (removing a
	// token the list does not hold is not an error).
	Info *Info
}
