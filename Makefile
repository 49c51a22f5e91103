# aspgate: the two commands of the README are `make run` and `make test`.
GO ?= go
ORACLE_SRC ?= ../shared/legacy-oracle
ORACLE_DIR ?= $(CURDIR)/.oracle
N ?= 500

.PHONY: run test browser-deps fuzz-short vet fmt-check build bench bench-http bench-timing bench-import delivery-check r7-check golden conformance oracle oracle-deps

run:
	$(GO) run ./cmd/aspgate serve

test: fmt-check vet browser-deps
	sh tools/with-postgres.sh $(GO) test -race -count=1 ./...
	$(MAKE) --no-print-directory fuzz-short

# Debian's chromium for the browser test of the Help pages (cmd/aspgate TestHelpPagesInABrowser), installed
# when missing: as root (CI) or through passwordless sudo; otherwise the test says why it skips.
browser-deps:
	@if command -v chromium >/dev/null 2>&1 || [ -n "$$CHROMIUM" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then SUDO=; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; \
	else echo "browser-deps: chromium is not installed and this user cannot install it; the browser test will skip"; exit 0; fi; \
	echo "browser-deps: installing Debian's chromium"; \
	$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null && \
	command -v chromium >/dev/null

# Every fuzz target for FUZZTIME each (the seed corpus runs in every go test already): the network-facing
# readers (JSON tokenizers, DataContract XML, form binder, ASC.Api request reader) on fresh inputs.
FUZZTIME ?= 8s
fuzz-short:
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME) ./contracts/
	$(GO) test -run '^$$' -fuzz '^FuzzBindForm$$' -fuzztime $(FUZZTIME) ./contracts/
	$(GO) test -run '^$$' -fuzz '^FuzzReadASCRequest$$' -fuzztime $(FUZZTIME) ./contracts/
	$(GO) test -run '^$$' -fuzz '^FuzzReader$$' -fuzztime $(FUZZTIME) ./contracts/jsonnet/
	$(GO) test -run '^$$' -fuzz '^FuzzTextReader$$' -fuzztime $(FUZZTIME) ./contracts/jsonnet/
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./xmlns/

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

build:
	$(GO) build -o bin/aspgate ./cmd/aspgate

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./contracts/ ./xmlns/ ./delivery/

# HTTP load: each endpoint's requests/s as a ratio to a static 200-byte server, same connections and bodies,
# alternating rounds; servers on CPU 0 and the load on CPU 1 when taskset works (BENCHMARKS.md).
bench-http: build
	$(GO) build -o bin/benchhttp ./tools/benchhttp
	if taskset -c 1 true 2>/dev/null; then taskset -c 1 bin/benchhttp load -bin bin/aspgate -self bin/benchhttp; \
	else bin/benchhttp load -bin bin/aspgate -self bin/benchhttp; fi

# Timing of known against unknown accounts on every face: AUC over 200 + 200 interleaved requests (BENCHMARKS.md).
bench-timing: build
	$(GO) build -o bin/benchhttp ./tools/benchhttp
	if taskset -c 1 true 2>/dev/null; then taskset -c 1 bin/benchhttp timing -bin bin/aspgate; \
	else bin/benchhttp timing -bin bin/aspgate; fi

# user import of 200,000 legacy users against sqlite3's .import of the same CSV; peak memory of 1,000,000.
bench-import:
	GO="$(GO)" sh tools/import-bench.sh

# aspgate serve delivering to tools/mailsink (local SMTP + SMS webhook); uses the codes it receives.
delivery-check:
	GO="$(GO)" sh tools/delivery-check.sh

# r7office sign-in from the README and the CLI alone: TOTP codes from an independent RFC 6238 (python3),
# SMS through setphone, tokens, replays, introspection, revocation, answers compared with the recordings.
r7-check:
	GO="$(GO)" sh tools/r7-check.sh

# The legacy oracle (Mono) is needed only to record goldens and for the live comparison; CI never runs it.
oracle-deps:
	apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y mono-complete libnewtonsoft-json-cil-dev python3

oracle:
	sh tools/oracle/build.sh "$(ORACLE_SRC)" "$(ORACLE_DIR)"

golden: oracle
	sh tools/oracle/record.sh "$(ORACLE_DIR)"

conformance: oracle
	$(GO) run ./tools/conformance -oracle "$(ORACLE_DIR)/bin/oracle.exe" -n $(N)
