package ocppclient

import (
	"context"
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"
)

// versionAdapter is one OCPP version's side of a Client with Adapters: it
// registers with a BootNotification of its own name, answers CALLs with
// its name and has its own queue.
type versionAdapter struct {
	name       string
	queue      *Queue
	registered atomic.Int32
}

func (v *versionAdapter) adapter() Adapter {
	return Adapter{
		Handler: HandlerFunc(func(ctx context.Context, action string, payload json.RawMessage) (any, error) {
			return map[string]string{"adapter": v.name}, nil
		}),
		OnConnect: func(ctx context.Context, c Caller) error {
			var resp json.RawMessage
			if err := c.Call(ctx, "BootNotification", map[string]string{"adapter": v.name}, &resp); err != nil {
				return err
			}
			v.registered.Add(1)
			return nil
		},
		Queue: v.queue,
	}
}

// TestAdaptersSubprotocolDecides: with both versions offered, the
// subprotocol the CSMS picks decides who registers, who answers its CALLs
// and whose queue drains; the other version's queue keeps its entries. Both
// orders of the client's offer, against a CSMS that speaks only one.
func TestAdaptersSubprotocolDecides(t *testing.T) {
	for _, tc := range []struct {
		offered []string
		csms    string
	}{
		{[]string{"ocpp2.0.1", "ocpp1.6"}, "ocpp1.6"},
		{[]string{"ocpp2.0.1", "ocpp1.6"}, "ocpp2.0.1"},
		{[]string{"ocpp1.6", "ocpp2.0.1"}, "ocpp1.6"},
		{[]string{"ocpp1.6", "ocpp2.0.1"}, "ocpp2.0.1"},
	} {
		t.Run(strings.Join(tc.offered, ",")+"->"+tc.csms, func(t *testing.T) {
			f := newFakeCSMS(t)
			f.subprotocols = []string{tc.csms}
			f.start()
			opts, clk := testOptions(t, f)
			v16 := &versionAdapter{name: "ocpp1.6", queue: drainQueue(t, clk, QueueOptions{Bucket: "q16"})}
			v201 := &versionAdapter{name: "ocpp2.0.1", queue: drainQueue(t, clk, QueueOptions{Bucket: "q201"})}
			drainEnqueue(t, v16.queue, KindMeter, "MeterValues", `{"v":"1.6"}`)
			drainEnqueue(t, v201.queue, KindMeter, "TransactionEvent", `{"v":"2.0.1"}`)
			chosen, other := v16, v201
			if tc.csms == "ocpp2.0.1" {
				chosen, other = v201, v16
			}
			opts.Subprotocols = tc.offered
			opts.Adapters = map[string]Adapter{"ocpp1.6": v16.adapter(), "ocpp2.0.1": v201.adapter()}
			c := runClient(t, opts)

			cs := f.accept()
			boot := cs.nextCall("BootNotification")
			if want := `{"adapter":"` + chosen.name + `"}`; string(boot.Payload) != want {
				t.Fatalf("BootNotification %s, want %s", boot.Payload, want)
			}
			cs.result(boot.ID, `{}`)
			queued := cs.next()
			if want := map[string]string{"ocpp1.6": "MeterValues", "ocpp2.0.1": "TransactionEvent"}[tc.csms]; queued.Action != want {
				t.Fatalf("drained %s %s, want the chosen version's %s", queued.Action, queued.Payload, want)
			}
			cs.result(queued.ID, `{}`)

			cs.send(`[2,"in-1","GetVariables",{}]`)
			answer := cs.next()
			if answer.Type != MsgCallResult || string(answer.Payload) != `{"adapter":"`+chosen.name+`"}` {
				t.Fatalf("answer %v %s, want a CALLRESULT from %s", answer.Type, answer.Payload, chosen.name)
			}
			cs.assertQuiet("the other version's queue must not drain")
			if n := other.registered.Load(); n != 0 {
				t.Errorf("%s registered %d times on a %s connection", other.name, n, tc.csms)
			}
			if n := other.queue.Len(); n != 1 {
				t.Errorf("%s queue holds %d entries, want its 1 kept", other.name, n)
			}
			if got := c.Status(); got.Subprotocol != tc.csms || got.Queued != 1 {
				t.Errorf("status %+v, want subprotocol %s and 1 queued (the other version's)", got, tc.csms)
			}
		})
	}
}

// TestAdaptersNeedOnePerSubprotocol: offering a subprotocol nobody speaks
// is a configuration error, found at New rather than at the CSMS's choice.
func TestAdaptersNeedOnePerSubprotocol(t *testing.T) {
	_, err := New(Options{
		URL: "ws://127.0.0.1:1/ocpp", ChargePointID: "CP-1",
		Subprotocols: []string{"ocpp1.6", "ocpp2.0.1"},
		Adapters:     map[string]Adapter{"ocpp1.6": {}},
	})
	if err == nil || !strings.Contains(err.Error(), `"ocpp2.0.1"`) {
		t.Fatalf("New: %v, want an error naming ocpp2.0.1", err)
	}
}

// A bad frame is answered with the code the connection's OCPP-J version
// names: 2.0.1 spells FormatViolation and OccurrenceConstraintViolation
// as 1.6 did not, and has RpcFrameworkError and MessageTypeNotSupported
// for what 1.6 calls a ProtocolError.
func TestErrorCodesPerVersion(t *testing.T) {
	long := strings.Repeat("x", 37)
	for _, tc := range []struct {
		frame      string
		v16, v201  ErrorCode
		handlerErr ErrorCode // the handler's answer, for the frame that reaches it
	}{
		{frame: `[2,"a1","Reset",[]]`, v16: FormationViolation, v201: FormatViolation},
		{frame: `[2,"` + long + `","Reset",{}]`, v16: ProtocolError, v201: RpcFrameworkError},
		{frame: `[7,"a3","Reset",{}]`, v16: ProtocolError, v201: MessageTypeNotSupported},
		{frame: `[2,"a4","Reset",{}]`, v16: OccurenceConstraintViolation, v201: OccurrenceConstraintViolation, handlerErr: OccurenceConstraintViolation},
	} {
		for _, proto := range []string{"ocpp1.6", "ocpp2.0.1"} {
			t.Run(proto+" "+tc.frame[:12], func(t *testing.T) {
				f := newFakeCSMS(t)
				f.subprotocols = []string{proto}
				f.start()
				opts, _ := testOptions(t, f)
				opts.Subprotocols = []string{proto}
				opts.Handler = HandlerFunc(func(ctx context.Context, action string, payload json.RawMessage) (any, error) {
					return nil, Errorf(tc.handlerErr, "bad request")
				})
				runClient(t, opts)
				cs := f.accept()
				cs.send(tc.frame)
				_, _, code := cs.nextCallError()
				want := tc.v16
				if proto == "ocpp2.0.1" {
					want = tc.v201
				}
				if code != want {
					t.Errorf("%s on %s: %s, want %s", tc.frame, proto, code, want)
				}
			})
		}
	}
}
