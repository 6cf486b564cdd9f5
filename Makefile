# evsed build, run and test entry points. `make test` is what CI runs.
GO      ?= go
BIN     ?= bin
LDFLAGS ?= -s -w -X main.version=$(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
BUILD   := CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)'

.PHONY: build run test lint cross build-arm6 build-arm7 build-arm64 fuzz fuzz-long screenshot clean

build:
	$(BUILD) -o $(BIN)/evsed ./cmd/evsed

# Build, then run the binary itself (not through `go run`), so that Ctrl-C
# reaches evsed directly and its orderly stop is what you see. BOARD picks
# the board (e.g. make run BOARD=sim-dc for the simulated DC charger; empty:
# the config's, else sim); ARGS adds flags, e.g.
# make run ARGS="--csms ws://127.0.0.1:9000/ocpp".
BOARD ?=
run: build
	$(BIN)/evsed run $(if $(BOARD),--board $(BOARD)) $(ARGS)

# The whole suite: vet, unit and integration tests (race detector on), and the
# cross builds so that an arm regression is caught. The web page's browser
# test needs Chromium (apt-get install -y chromium; .ci/run installs it) and
# fails without it.
test: lint cross
	$(GO) test -race -count=1 ./...

lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet ./...

cross: build-arm6 build-arm7 build-arm64

build-arm6:
	GOOS=linux GOARCH=arm GOARM=6 $(BUILD) -o $(BIN)/evsed-linux-armv6 ./cmd/evsed
build-arm7:
	GOOS=linux GOARCH=arm GOARM=7 $(BUILD) -o $(BIN)/evsed-linux-armv7 ./cmd/evsed
build-arm64:
	GOOS=linux GOARCH=arm64 $(BUILD) -o $(BIN)/evsed-linux-arm64 ./cmd/evsed

# Every fuzz target of the module, one at a time (go test -fuzz takes one
# target of one package) for FUZZTIME each. Inputs that fail are written by
# go under the package's testdata/fuzz/<Target>/ and so become regression
# seeds that `make test` replays. FUZZFLAGS passes more flags, e.g.
# -parallel=1 on a shared machine.
FUZZTIME  ?= 30s
FUZZFLAGS ?=
fuzz:
	@set -e; for file in $$(grep -rl --include='*_test.go' '^func Fuzz' . | sort); do \
		dir=$$(dirname $$file); \
		for target in $$(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' $$file); do \
			echo "fuzz $$dir $$target for $(FUZZTIME)"; \
			$(GO) test -run='^$$' -fuzz="^$$target\$$" -fuzztime=$(FUZZTIME) $(FUZZFLAGS) $$dir; \
		done; \
	done

# Every fuzz target for a few minutes each (FUZZLONG, default 3m): a soak
# before a release, too long for CI.
FUZZLONG ?= 3m
fuzz-long:
	$(MAKE) fuzz FUZZTIME=$(FUZZLONG) FUZZFLAGS='$(FUZZFLAGS)'

# docs/web-page.png: the page in the middle of a session, taken by the
# browser test after SHOTWAIT of charging so that the charts have a history.
SHOTWAIT ?= 90s
screenshot:
	EVSED_WEB_SCREENSHOT=$(CURDIR)/docs/web-page.png EVSED_WEB_SCREENSHOT_AFTER=$(SHOTWAIT) \
		$(GO) test -count=1 -timeout 10m -run '^TestWebPageDrivesSimulatedCharger$$' ./cmd/evsed

clean:
	rm -rf $(BIN)
