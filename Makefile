# Keyhole. The two commands a new user needs:
#   make demo   installs what is missing, then serves the embedded demo
#   make test   installs what is missing, then runs every test
GO ?= go
ADDR ?= 127.0.0.1:8080

.PHONY: all deps demo build seaweedfs test test-go lint test-interop test-wasm wasm fuzz bench bench-quick generate soak soak-engine

all: build

deps:
	@scripts/deps.sh build

demo: deps
	$(GO) run ./cmd/keyhole serve -addr $(ADDR)

build: deps
	$(GO) build -o bin/keyhole ./cmd/keyhole

test: 
	@scripts/deps.sh test
	@scripts/seaweedfs.sh >/dev/null
	$(MAKE) test-go test-interop test-wasm

# The S3 server (SeaweedFS) of the object-storage tests, built once into
# ~/.cache/keyhole (minutes on 2 cores the first time; later runs reuse it).
seaweedfs:
	@scripts/seaweedfs.sh

test-go:
	$(GO) vet ./...
	GOOS=js GOARCH=wasm $(GO) vet ./wasm ./token ./transform
	GOOS=js GOARCH=wasm $(GO) vet -tags keyhole_nofmt ./wasm ./token
	$(GO) test -race ./...
	$(MAKE) lint

# Static checks, pinned (scripts/lint.sh): staticcheck, and govulncheck
# against a vulnerability database snapshot fetched through the Go module
# proxy (KEYHOLE_VULNDB=https://vuln.go.dev for the live one).
lint:
	@scripts/lint.sh

# npm jsonwebtoken <-> keyhole serve, both ways.
test-interop:
	bash interop/test.sh

# The WebAssembly signer: GOOS=js build, Node.js unit, interop and
# end-to-end tests, one conformance set in Node.js, Chromium, Deno, Bun and
# workerd (pinned npm packages, cached outside the repository), and the
# examples (Vite, browser page, edge Worker).
test-wasm:
	bash wasm/test.sh

wasm:
	bash wasm/build.sh

# Mixed traffic against a real keyhole serve for $(SOAK) (not part of make
# test): originals, transforms, cache hits, refusals, SIGHUP every 30 s;
# fails on an unexpected status or on RSS, goroutines, threads or open
# files growing past their bound (scripts/soak).
SOAK ?= 10m
soak: build
	$(GO) run ./scripts/soak -bin bin/keyhole -d $(SOAK)

# The engine's concurrency tests, long (about 10 minutes on 2 cores):
# lifetimes of the bytes and images libvips reads, and concurrent resizes.
STRESS ?= 40
soak-engine: deps
	KEYHOLE_STRESS=$(STRESS) $(GO) test -count=1 -timeout 60m -run '^(TestConcurrentLifetimes|TestConcurrentResizes)$$' -v ./transform/vips

# Longer fuzzing than the seed corpora that `make test` runs.
FUZZTIME ?= 60s
fuzz:
	$(GO) test -run ^$$ -fuzz '^FuzzVerify$$' -fuzztime $(FUZZTIME) ./token/verify
	$(GO) test -run ^$$ -fuzz '^FuzzParseClaims$$' -fuzztime $(FUZZTIME) ./token
	$(GO) test -run ^$$ -fuzz '^FuzzCleanPath$$' -fuzztime $(FUZZTIME) ./handler
	$(GO) test -run ^$$ -fuzz '^FuzzCheck$$' -fuzztime $(FUZZTIME) ./internal/pathrule
	$(GO) test -run ^$$ -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./transform
	$(GO) test -run ^$$ -fuzz '^FuzzCanonicalRoundTrip$$' -fuzztime $(FUZZTIME) ./transform
	$(GO) test -run ^$$ -fuzz '^FuzzSniff$$' -fuzztime $(FUZZTIME) ./transform
	$(GO) test -run ^$$ -fuzz '^FuzzMergePlan$$' -fuzztime $(FUZZTIME) ./transform
	$(GO) test -run ^$$ -fuzz '^FuzzSignVerifyRoundTrip$$' -fuzztime $(FUZZTIME) ./token/verify
	$(GO) test -run ^$$ -fuzz '^FuzzMatchesNetURL$$' -fuzztime $(FUZZTIME) ./internal/urlenc

# End-to-end benchmarks (bench/README.md): report and chart in bench/results/.
# Extra flags: make bench BENCHFLAGS='-imgproxy /path/to/imgproxy'
BENCHFLAGS ?=
bench:
	@scripts/deps.sh bench
	$(GO) run ./bench $(BENCHFLAGS)

# The same suite, short (under 2 minutes). Not part of make test.
bench-quick:
	@scripts/deps.sh bench
	$(GO) run ./bench -quick $(BENCHFLAGS)

generate:
	cd cmd/keyhole/demo && $(GO) run gen.go
