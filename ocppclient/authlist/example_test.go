package authlist_test

import (
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"go.etcd.io/bbolt"

	"github.com/evsed/evsed/ocppclient/authlist"
)

// An adapter maps the errors of Update to the status of its
// SendLocalList answer.
func ExampleList_Update() {
	dir, err := os.MkdirTemp("", "authlist")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	db, err := bbolt.Open(filepath.Join(dir, "evsed.db"), 0o600, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	list, err := authlist.Open(db, "authlist")
	if err != nil {
		log.Fatal(err)
	}

	status := func(err error) string { // OCPP 1.6 UpdateStatus
		switch {
		case err == nil:
			return "Accepted"
		case errors.Is(err, authlist.ErrVersionMismatch):
			return "VersionMismatch"
		default:
			return "Failed"
		}
	}
	const maxLength = 100 // LocalAuthListMaxLength
	fmt.Println(status(list.Update(authlist.Full, 3, []authlist.Change{
		{Token: "04A1B2C3", Info: &authlist.Info{Status: authlist.Accepted}},
		{Token: "DEADBEEF", Info: &authlist.Info{Status: authlist.Blocked}},
	}, maxLength)))
	fmt.Println(status(list.Update(authlist.Differential, 3, nil, maxLength)))
	fmt.Println(status(list.Update(authlist.Differential, 4, []authlist.Change{{Token: "DEADBEEF"}}, maxLength)))

	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC) // the adapter's clock
	e, ok := list.Lookup("04a1b2c3", "", now)
	fmt.Println(list.Version(), list.Len(), e.Token, e.Status, ok)
	// Output:
	// Accepted
	// VersionMismatch
	// Accepted
	// 4 1 04A1B2C3 Accepted true
}
