package localapi

import (
	"time"

	"github.com/evsed/evsed/station"
	"periph.io/x/conn/v3/physic"
)

// Status is the body of GET /api/v1/status.
type Status struct {
	Station    StationInfo `json:"station"`
	Connectors []Connector `json:"connectors"`
	// Site is the grid connection and the limits on every connector
	// together (energy management, docs/energy.md).
	Site Site `json:"site"`
}

// StationInfo describes the station as a whole.
type StationInfo struct {
	// ID is the charge point identity.
	ID string `json:"id"`
	// Board is the name of the board the station drives (e.g. "sim").
	Board string `json:"board"`
	// OCPP is the state of the link to the CSMS.
	OCPP OCPPInfo `json:"ocpp"`
}

// OCPPInfo is the state of the link to the CSMS. Its zero value describes a
// standalone station: no protocol, not connected, nothing queued.
type OCPPInfo struct {
	// Version is the OCPP subprotocol in use (e.g. "ocpp1.6"); "" when no
	// CSMS is configured.
	Version string `json:"version"`
	// Connected is true while the websocket to the CSMS is up.
	Connected bool `json:"connected"`
	// Registration is the last BootNotification answer ("Accepted",
	// "Pending", "Rejected"); "" before the first answer.
	Registration string `json:"registration"`
	// Queued counts durable messages waiting to be sent.
	Queued int `json:"queued"`
	// URL is the CSMS address, its password masked; "" when standalone.
	// The server fills it in from Options.CSMSURL.
	URL string `json:"url"`
}

// Connector is one connector's state.
type Connector struct {
	ID int `json:"id"`
	// Status is the OCPP 1.6 ChargePointStatus name, e.g. "Charging".
	Status string `json:"status"`
	// Pilot is the control pilot state letter "A".."F", or "?" when unknown.
	Pilot string `json:"pilot"`
	// OfferedA is the current offered on the pilot, in amperes; 0 when the
	// PWM is off.
	OfferedA float64 `json:"offeredA"`
	// LimitA is the most the connector may offer now, in amperes: its
	// rating, lowered by the CSMS's charging profiles; the load sharing
	// may offer less (OfferedA).
	LimitA float64 `json:"limitA"`
	// ReservationID is the reservation holding the connector; 0 when none.
	ReservationID int `json:"reservationId"`
	// Contactor is true while the contactor is closed.
	Contactor bool `json:"contactor"`
	// Fault is "" when the connector is healthy, otherwise the OCPP 1.6
	// ChargePointErrorCode, followed by ": " and a detail when there is one.
	Fault string `json:"fault"`
	// Session is nil when no session runs.
	Session *Session `json:"session"`
	// Meter is the latest meter reading.
	Meter Meter `json:"meter"`
	// Mode is the charge mode: fast, pv or minpv.
	Mode string `json:"mode"`
	// TargetA is what every limit together allows now, in amperes (the
	// offer reaches it after the rise delay), and Reason which limit sets
	// it: external, profile, solar, site or connector; ReasonInfo says
	// more. Without a plugged-in session TargetA is 0 and Reason "".
	TargetA    float64 `json:"targetA"`
	Reason     string  `json:"reason"`
	ReasonInfo string  `json:"reasonInfo,omitempty"`
	// External is the connector's external limit; nil when none.
	External *ExternalLimit `json:"external"`
	// Display is what the driver sees (prices and costs; docs/pricing.md);
	// nil when the station shows nothing.
	Display *Display `json:"display"`
	// DC is the charging sequence of a DC connector (docs/dc.md); absent
	// on AC connectors.
	DC *DC `json:"dc,omitempty"`
}

// DC is a DC connector's sequence step and values (IEC 61851-23).
type DC struct {
	// Step is the sequence step: Idle, Authorize, Parameters, CableCheck,
	// PreCharge, Charging, PowerDown, WeldingDetection or Finished.
	Step string `json:"step"`
	// SoC is the vehicle's state of charge in percent; null while unknown.
	SoC *int `json:"soc"`
	// TargetVoltageV and TargetCurrentA are what the vehicle asks for;
	// PresentVoltageV and PresentCurrentA what the output delivers.
	TargetVoltageV  float64 `json:"targetVoltageV"`
	TargetCurrentA  float64 `json:"targetCurrentA"`
	PresentVoltageV float64 `json:"presentVoltageV"`
	PresentCurrentA float64 `json:"presentCurrentA"`
	// OfferedCurrentA and OfferedPowerW are the most the charger allows
	// now (supply, connector rating and every limit); 0 power means no
	// power limit.
	OfferedCurrentA float64 `json:"offeredCurrentA"`
	OfferedPowerW   float64 `json:"offeredPowerW"`
	// IsolationOhm is the latest valid insulation resistance (0 when the
	// monitor has none), IsolationStatus its class: Valid, Warning, Fault
	// or Invalid (not measured).
	IsolationOhm    float64 `json:"isolationOhm"`
	IsolationStatus string  `json:"isolationStatus"`
	// EVMaxVoltageV, EVMaxCurrentA and EVMaxPowerW are the vehicle's
	// limits (0 when it gave none).
	EVMaxVoltageV float64 `json:"evMaxVoltageV"`
	EVMaxCurrentA float64 `json:"evMaxCurrentA"`
	EVMaxPowerW   float64 `json:"evMaxPowerW"`
	// Reason is why the sequence last ended a charge (EVStopped,
	// IsolationFault, PreChargeTimeout...); "" until then.
	Reason string `json:"reason"`
}

// Display is the driver display of a connector.
type Display struct {
	Language    string `json:"language,omitempty"`
	PriceText   string `json:"priceText"`
	RunningCost *Cost  `json:"runningCost"`
	FinalCost   *Cost  `json:"finalCost"`
	QRCode      string `json:"qrCode,omitempty"`
	// QRImage is the path of QRCode's image (GET
	// /api/v1/connectors/{n}/qr.svg), with a version that changes with
	// the text so that a page reloads it only then; "" without QRCode.
	QRImage string `json:"qrImage,omitempty"`
	// Offline says the station shows its offline texts and estimates.
	Offline bool `json:"offline"`
}

// Cost is an amount for the driver, e.g. {"amount": 3.31, "currency":
// "EUR", "text": "EUR 3.31"}.
type Cost struct {
	Amount   float64 `json:"amount"`
	Currency string  `json:"currency,omitempty"`
	Text     string  `json:"text"`
	// Estimated says the station computed it (offline, or without the
	// CSMS's cost).
	Estimated bool `json:"estimated"`
}

// ExternalLimit is an external limit (POST /api/v1/limits) in force.
type ExternalLimit struct {
	CurrentA float64    `json:"currentA"`
	Until    *time.Time `json:"until"`
	Source   string     `json:"source,omitempty"`
}

// Site is the station's view of its grid connection and the limits on
// every connector together.
type Site struct {
	// GridMeter says a grid meter is configured; the grid fields are
	// meaningful only then.
	GridMeter bool `json:"gridMeter"`
	// GridA is the current per phase at the grid meter (import positive,
	// export negative); OtherLoadA the same less our connectors.
	GridA      [3]float64 `json:"gridA"`
	OtherLoadA [3]float64 `json:"otherLoadA"`
	FuseA      float64    `json:"fuseA"`
	MarginA    float64    `json:"marginA"`
	// AvailableA is the most every connector together may draw per phase
	// now (null: nothing caps the sum), and Reason which limit sets it.
	AvailableA *float64 `json:"availableA"`
	Reason     string   `json:"reason"`
	Info       string   `json:"info,omitempty"`
	// Fallback says the fallback current applies (grid meter lost or not
	// read yet); Warning says why while it is lost.
	Fallback bool           `json:"fallback"`
	Warning  string         `json:"warning,omitempty"`
	External *ExternalLimit `json:"external"`
	// InputActive says the board's limit input forces InputLimitA.
	InputActive bool    `json:"inputActive"`
	InputLimitA float64 `json:"inputLimitA"`
}

// Session is a running session.
type Session struct {
	// ID is the station's own session id.
	ID    string `json:"id"`
	IDTag string `json:"idTag"`
	// TransactionID is the id the CSMS assigned; "" until known.
	TransactionID string `json:"transactionId"`
	// EnergyWh is the energy delivered so far, in watt-hours.
	EnergyWh float64 `json:"energyWh"`
	// StartedAt is when the session started (RFC 3339 in JSON).
	StartedAt time.Time `json:"startedAt"`
}

// Meter is a connector's latest meter reading.
type Meter struct {
	// EnergyWh is the import register, in watt-hours.
	EnergyWh float64 `json:"energyWh"`
	// PowerW is the total active power, in watts.
	PowerW float64 `json:"powerW"`
	// CurrentA is the current per phase (L1, L2, L3), in amperes: what
	// the vehicle actually draws. On a DC reading the DC current is
	// CurrentA[0].
	CurrentA [3]float64 `json:"currentA"`
	// DC marks a DC reading (a DC connector's meter); VoltageV is then the
	// voltage between the DC poles, in volts. Both are absent on AC.
	DC       bool     `json:"dc,omitempty"`
	VoltageV *float64 `json:"voltageV,omitempty"`
}

// statusFrom converts a station snapshot to the API's view of it.
func statusFrom(id, board string, ocpp OCPPInfo, snap station.Snapshot) Status {
	st := Status{
		Station:    StationInfo{ID: id, Board: board, OCPP: ocpp},
		Connectors: make([]Connector, 0, len(snap.Connectors)),
	}
	for _, c := range snap.Connectors {
		out := Connector{
			ID:        c.ID,
			Status:    string(c.Status),
			Pilot:     c.Pilot.String(),
			OfferedA:  float64(c.Offered) / float64(physic.Ampere),
			LimitA:    float64(c.Limit) / float64(physic.Ampere),
			Contactor: c.Contactor,
			// The reservation id is the CSMS's, shown as it gave it.
			ReservationID: c.ReservationID,
			Fault:         faultText(c.Error, c.Fault),
			Meter: Meter{
				EnergyWh: c.Meter.EnergyImport.Wh(),
				PowerW:   float64(c.Meter.Power) / float64(physic.Watt),
			},
		}
		for i, a := range c.Meter.Current {
			out.Meter.CurrentA[i] = float64(a) / float64(physic.Ampere)
		}
		if c.Meter.DC {
			v := volts(c.Meter.Voltage[0])
			out.Meter.DC, out.Meter.VoltageV = true, &v
		}
		out.DC = dcFrom(c.DC)
		out.Mode, out.Reason, out.ReasonInfo = string(c.Mode), string(c.Reason), c.ReasonInfo
		out.TargetA = amperes(c.Target)
		out.External = externalLimit(c.External)
		out.Display = displayFrom(c.ID, c.Display)
		if s := c.Session; s != nil {
			out.Session = &Session{
				ID:            s.ID,
				IDTag:         s.IDTag,
				TransactionID: s.TransactionID,
				EnergyWh:      s.Energy.Wh(),
				StartedAt:     s.StartedAt.UTC(),
			}
		}
		st.Connectors = append(st.Connectors, out)
	}
	st.Site = siteFrom(snap.Site)
	return st
}

// amperes converts a current for the JSON bodies.
func amperes(a physic.ElectricCurrent) float64 { return float64(a) / float64(physic.Ampere) }

// volts, watts and ohms convert the other units of the JSON bodies.
func volts(v physic.ElectricPotential) float64 { return float64(v) / float64(physic.Volt) }
func watts(p physic.Power) float64             { return float64(p) / float64(physic.Watt) }
func ohms(r physic.ElectricResistance) float64 { return float64(r) / float64(physic.Ohm) }

// dcFrom converts a DC connector's status; nil (AC) stays nil.
func dcFrom(d *station.DCStatus) *DC {
	if d == nil {
		return nil
	}
	out := &DC{
		Step:            string(d.Step),
		TargetVoltageV:  volts(d.TargetVoltage),
		TargetCurrentA:  amperes(d.TargetCurrent),
		PresentVoltageV: volts(d.PresentVoltage),
		PresentCurrentA: amperes(d.PresentCurrent),
		OfferedCurrentA: amperes(d.OfferedCurrent),
		OfferedPowerW:   watts(d.OfferedPower),
		IsolationOhm:    ohms(d.Isolation),
		IsolationStatus: string(d.IsolationStatus),
		EVMaxVoltageV:   volts(d.EVMaxVoltage),
		EVMaxCurrentA:   amperes(d.EVMaxCurrent),
		EVMaxPowerW:     watts(d.EVMaxPower),
		Reason:          string(d.Reason),
	}
	if d.SoC >= 0 {
		soc := d.SoC
		out.SoC = &soc
	}
	return out
}

// displayFrom converts connector n's driver display; nil stays nil.
func displayFrom(n int, d *station.DriverDisplay) *Display {
	if d == nil {
		return nil
	}
	cost := func(c *station.DisplayCost) *Cost {
		if c == nil {
			return nil
		}
		return &Cost{Amount: c.Amount.Float(), Currency: c.Currency, Text: c.String(), Estimated: c.Estimated}
	}
	return &Display{Language: d.Language, PriceText: d.PriceText, RunningCost: cost(d.RunningCost),
		FinalCost: cost(d.FinalCost), QRCode: d.QRCode, QRImage: qrImagePath(n, d.QRCode), Offline: d.Offline}
}

// externalLimit converts a station external limit; nil stays nil.
func externalLimit(e *station.ExternalLimit) *ExternalLimit {
	if e == nil {
		return nil
	}
	out := &ExternalLimit{CurrentA: amperes(e.Current), Source: e.Source}
	if !e.Until.IsZero() {
		u := e.Until.UTC()
		out.Until = &u
	}
	return out
}

// siteFrom converts the station's site snapshot.
func siteFrom(s station.SiteSnapshot) Site {
	out := Site{
		GridMeter: s.GridMeter, FuseA: amperes(s.Fuse), MarginA: amperes(s.Margin),
		Reason: string(s.Reason), Info: s.Info, Fallback: s.Fallback, Warning: s.Warning,
		External: externalLimit(s.External), InputActive: s.InputActive, InputLimitA: amperes(s.InputLimit),
	}
	for i := range 3 {
		out.GridA[i], out.OtherLoadA[i] = amperes(s.Grid[i]), amperes(s.OtherLoad[i])
	}
	if s.Available != station.NoLimit {
		a := amperes(s.Available)
		out.AvailableA = &a
	}
	return out
}

// faultText joins an error code and its detail; "" when there is neither.
func faultText(code station.ErrorCode, detail string) string {
	if code == "" || code == station.NoError {
		return detail
	}
	if detail == "" {
		return string(code)
	}
	return string(code) + ": " + detail
}
