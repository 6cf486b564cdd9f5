package ocpp16

import (
	"encoding/json"
	"fmt"

	"github.com/evsed/evsed/ocppclient"
	"github.com/evsed/evsed/ocppclient/secevents"
)

// Security events of the whitepaper: every one goes to the charge point's
// security log; the critical ones also to the CSMS, as a
// SecurityEventNotification through the durable queue, so that one raised
// offline (a failed TLS handshake, a firmware refused) arrives once the
// connection is back.

// SecurityLog keeps security events locally; *secevents.Log satisfies it.
type SecurityLog interface {
	Append(e secevents.Event) (secevents.Event, error)
}

var _ SecurityLog = (*secevents.Log)(nil)

// SecurityEvent records a security event of type t with techInfo (free
// text for the operator; no secrets): in Options.SecurityLog when there is
// one, and, for a critical event, queued for the CSMS. It is safe for
// concurrent use and never blocks on the network.
func (c *Charger) SecurityEvent(t secevents.Type, techInfo string) {
	e := secevents.Event{Type: t, Time: c.clk.Now(), TechInfo: techInfo}
	if l := c.opts.SecurityLog; l != nil {
		var err error
		if e, err = l.Append(e); err != nil {
			c.log.Error("ocpp16 security log", "event", t, "err", err)
		}
	}
	c.log.Warn("ocpp16 security event", "event", t, "tech_info", e.TechInfo, "critical", e.Critical())
	if !e.Critical() {
		return
	}
	if err := c.queueSecurityEvent(e); err != nil {
		c.log.Error("ocpp16 security event not queued", "event", t, "err", err)
	}
}

// queueSecurityEvent puts a SecurityEventNotification for e in the
// durable queue.
func (c *Charger) queueSecurityEvent(e secevents.Event) error {
	req := &SecurityEventNotificationRequest{
		Type:      e.Type.OCPP16(),
		Timestamp: NewDateTime(e.Time),
		TechInfo:  truncateRunes(e.TechInfo, 255),
	}
	if err := Validate(req); err != nil {
		return err
	}
	payload, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("encode %s: %w", ActionSecurityEventNotification, err)
	}
	_, err = c.queue.Enqueue(ocppclient.Entry{Kind: ocppclient.KindOther, Action: ActionSecurityEventNotification, Payload: payload})
	return err
}

// truncateRunes cuts s to at most n characters.
func truncateRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}
