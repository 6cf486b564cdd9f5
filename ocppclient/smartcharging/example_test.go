package smartcharging_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"go.etcd.io/bbolt"

	"github.com/evsed/evsed/ocppclient/smartcharging"
)

// An adapter's use: install what the CSMS sends, then answer
// GetCompositeSchedule for a connector and for the station.
func Example() {
	dir, err := os.MkdirTemp("", "smartcharging-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	db, err := bbolt.Open(filepath.Join(dir, "evsed.db"), 0o600, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	store, err := smartcharging.OpenStore(db, "chargingprofiles")
	if err != nil {
		log.Fatal(err)
	}

	now := time.Date(2025, 6, 2, 8, 0, 0, 0, time.UTC)
	limits := smartcharging.Limits{MaxStackLevel: 8, MaxPeriods: 24, MaxInstalled: 16,
		Units: []smartcharging.RateUnit{smartcharging.Amperes, smartcharging.Watts}}
	for _, p := range []smartcharging.Profile{
		{ID: 1, Connector: 0, Purpose: smartcharging.PurposeStationMax, Kind: smartcharging.KindAbsolute,
			Schedule: smartcharging.Schedule{Start: now, Unit: smartcharging.Watts,
				Periods: []smartcharging.Period{{Limit: 22080}, {Start: 2 * time.Hour, Limit: 11040}}}},
		{ID: 2, Connector: 0, Purpose: smartcharging.PurposeTxDefault, Kind: smartcharging.KindRelative,
			Schedule: smartcharging.Schedule{Unit: smartcharging.Amperes,
				Periods: []smartcharging.Period{{Limit: 16}, {Start: time.Hour, Limit: 32}}}},
	} {
		if err := store.Install(p, now, limits); err != nil {
			log.Fatal(err) // the adapter answers Rejected
		}
	}

	// Connector 1 charges since 07:30; connector 2 is idle.
	sessions := map[int]*smartcharging.Session{1: {Start: now.Add(-30 * time.Minute), TransactionID: "17"}}
	const hardwareA = 32 // each connector's rating, in A
	q := func(connector int) smartcharging.Query {
		return smartcharging.Query{Connector: connector, Start: now, Duration: 3 * time.Hour,
			Session: sessions[connector], Phases: 3}
	}

	// GetCompositeSchedule for connector 1.
	c1 := store.Evaluate(q(1)).Cap(hardwareA)
	fmt.Println("connector 1:", c1.Unit, c1.Periods())

	// GetCompositeSchedule for connector 0: the grid connection's total.
	var own []smartcharging.Curve
	for _, n := range []int{1, 2} {
		qn := q(n)
		qn.Purposes = []smartcharging.Purpose{smartcharging.PurposeTx, smartcharging.PurposeTxDefault}
		own = append(own, store.Evaluate(qn).Cap(hardwareA))
	}
	c0 := smartcharging.Min(store.Evaluate(q(0)), smartcharging.Sum(own...))
	fmt.Println("connector 0:", c0.Unit, c0.Periods())

	// When the transaction on connector 1 ends.
	if _, err := store.ClearTx(1); err != nil {
		log.Fatal(err)
	}
	// Output:
	// connector 1: A [{0s 16 0} {30m0s 32 0} {2h0m0s 16 0}]
	// connector 0: A [{0s 32 0} {2h0m0s 16 0}]
}
