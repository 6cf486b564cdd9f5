module github.com/evsed/evsed

go 1.26

require (
	github.com/chromedp/chromedp v0.23.1
	github.com/go-daq/canbus v0.2.0
	github.com/gorilla/websocket v1.5.3
	github.com/lorenzodonini/ocpp-go v0.19.0
	github.com/piglig/go-qr v1.1.0
	github.com/santhosh-tekuri/jsonschema/v6 v6.0.3
	github.com/simonvetter/modbus v1.6.4
	go.etcd.io/bbolt v1.4.3
	go.yaml.in/yaml/v3 v3.0.6
	golang.org/x/sys v0.43.0
	periph.io/x/conn/v3 v3.7.3
	periph.io/x/devices/v3 v3.7.4
	periph.io/x/host/v3 v3.8.5
	pgregory.net/rapid v1.3.0
)

require (
	github.com/chromedp/cdproto v0.160.1 // indirect
	github.com/go-json-experiment/json v0.0.0-20260213210345-44df1a37e875 // indirect
	github.com/go-playground/locales v0.12.1 // indirect
	github.com/go-playground/universal-translator v0.16.0 // indirect
	github.com/goburrow/serial v0.1.0 // indirect
	github.com/gorilla/mux v1.8.1 // indirect
	github.com/jonboulle/clockwork v0.5.0 // indirect
	github.com/leodido/go-urn v1.1.0 // indirect
	github.com/relvacode/iso8601 v1.6.0 // indirect
	golang.org/x/text v0.14.0 // indirect
	gopkg.in/go-playground/validator.v9 v9.30.0 // indirect
)
