package certstore

import "fmt"

// Inventory is what a security profile may need installed: the facts
// CheckProfileChange weighs.
type Inventory struct {
	// CSMSRoot: at least one CSMS root certificate is installed.
	CSMSRoot bool
	// ClientCertificate: a client certificate is installed.
	ClientCertificate bool
	// AuthorizationKey: an AuthorizationKey (2.0.1 BasicAuthPassword) is
	// set. The store does not keep it; the adapter fills this in.
	AuthorizationKey bool
}

// Inventory returns the store's part of an Inventory; AuthorizationKey is
// false, for the caller to set.
func (s *Store) Inventory() Inventory {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Inventory{CSMSRoot: len(s.roots[CSMSRoot]) > 0, ClientCertificate: s.ident != nil}
}

// CheckProfileChange applies the whitepaper's rules to a change of the
// security profile from cur to next (1.6 ChangeConfiguration of
// SecurityProfile, 2.0.1 SetNetworkProfile plus SetVariables of
// NetworkConfigurationPriority): a lower profile is refused (A00.FR.005:
// never lowered over OCPP); a higher one only when what it needs is
// there: an AuthorizationKey for profiles 1 and 2, a CSMS root for 2 and
// 3, a client certificate for 3. The same profile is no change and is
// allowed. Errors wrap ErrProfile, ErrDowngrade or ErrMissingPrerequisite.
func CheckProfileChange(cur, next int, have Inventory) error {
	if cur < 0 || cur > 3 || next < 0 || next > 3 {
		return fmt.Errorf("%w: %d to %d", ErrProfile, cur, next)
	}
	if next < cur {
		return fmt.Errorf("%w: %d to %d", ErrDowngrade, cur, next)
	}
	if next == cur {
		return nil
	}
	switch {
	case (next == 1 || next == 2) && !have.AuthorizationKey:
		return fmt.Errorf("%w: profile %d needs an AuthorizationKey", ErrMissingPrerequisite, next)
	case next >= 2 && !have.CSMSRoot:
		return fmt.Errorf("%w: profile %d needs a CSMS root certificate", ErrMissingPrerequisite, next)
	case next == 3 && !have.ClientCertificate:
		return fmt.Errorf("%w: profile 3 needs a client certificate", ErrMissingPrerequisite)
	}
	return nil
}

// Limits of an AuthorizationKey, in characters (bytes: it is ASCII).
const (
	MinAuthorizationKeyLen = 16
	MaxAuthorizationKeyLen = 40
)

// CheckAuthorizationKey applies the whitepaper's rule to a new
// AuthorizationKey (2.0.1 BasicAuthPassword): 16 to 40 characters, all
// printable ASCII, since it is sent as the HTTP Basic password as it is.
// The error wraps ErrAuthorizationKey and never contains the key.
func CheckAuthorizationKey(key string) error {
	if n := len(key); n < MinAuthorizationKeyLen || n > MaxAuthorizationKeyLen {
		return fmt.Errorf("%w: %d characters, want %d to %d", ErrAuthorizationKey, n, MinAuthorizationKeyLen, MaxAuthorizationKeyLen)
	}
	for i := 0; i < len(key); i++ {
		if c := key[i]; c < 0x20 || c > 0x7e {
			return fmt.Errorf("%w: character %d is not printable ASCII", ErrAuthorizationKey, i+1)
		}
	}
	return nil
}

// ProfileReady returns nil when the store holds the certificates security
// profile n needs: nothing for 0 and 1, a CSMS root for 2, and also a
// client certificate within its validity at the store's now for 3;
// otherwise an error wrapping ErrMissingPrerequisite (or ErrProfile for n
// outside 0..3). It is the certificate half of CheckProfileChange, in the
// shape the 1.6 adapter's SecurityReadiness asks for; the AuthorizationKey
// and the no-downgrade rule are the adapter's configuration's.
func (s *Store) ProfileReady(n int) error {
	if n < 0 || n > 3 {
		return fmt.Errorf("%w: %d", ErrProfile, n)
	}
	if n < 2 {
		return nil
	}
	s.mu.Lock()
	roots, id := len(s.roots[CSMSRoot]), s.ident
	s.mu.Unlock()
	if roots == 0 {
		return fmt.Errorf("%w: profile %d needs a CSMS root certificate", ErrMissingPrerequisite, n)
	}
	if n == 3 {
		if id == nil {
			return fmt.Errorf("%w: profile 3 needs a client certificate", ErrMissingPrerequisite)
		}
		if err := checkValidity(id.chain[0], s.clk.Now()); err != nil {
			return fmt.Errorf("%w: profile 3: client certificate: %v", ErrMissingPrerequisite, err)
		}
	}
	return nil
}
