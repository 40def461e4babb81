# The developer's entry points. `make run` starts the agent on the example
# tasks; `make test` runs every test. Both set up Docker and the local test
# images first, so they work on a fresh machine. `make` alone lists targets.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

# Go lives in /usr/local/go on the machines this is set up for; find it even
# when the login shell's PATH does not.
export PATH := $(if $(shell command -v go 2>/dev/null),$(PATH),/usr/local/go/bin:$(PATH))
# Every go command that make runs, and the scripts and tests it starts, use
# go.mod's toolchain line (go1.27.3: Go 1.26.8's standard library has
# vulnerabilities that govulncheck reports, see README "Vulnerability check").
# The go command fetches that toolchain through the module proxy once; a
# GOTOOLCHAIN from the environment or the command line wins.
ifndef GOTOOLCHAIN
GOTOOLCHAIN := $(shell sed -n 's/^toolchain //p' go.mod)
endif
export GOTOOLCHAIN

MODULE       := github.com/ecs-agent/ecs-agent
BIN          := bin/ecs-agent
VERSION      ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS      := -X $(MODULE)/internal/version.Version=$(VERSION)
# The whole suite (unit, integration against Docker, end to end) on a
# 2-core machine; -p 2 keeps Docker-heavy packages from starving each other.
TEST_TIMEOUT ?= 20m
TEST_FLAGS   ?=
# `make chaos`: rounds of kill -9, the most tasks desired running at once,
# and a deadline for the whole run. CHAOS_SEED (from the environment)
# repeats a run's random choices; each run prints its seed.
CHAOS_ROUNDS  ?= 100
CHAOS_TASKS   ?= 50
CHAOS_TIMEOUT ?= 3h
# What `make run` uses: its own data directory and cluster name, so that it
# never touches an installed agent's state and `make clean` finds its
# containers.
RUN_DIR      := $(CURDIR)/.run
RUN_CLUSTER  := example
INTROSPECTION_PORT ?= 51678
CONTROLLER_GEN := go run sigs.k8s.io/controller-tools/cmd/controller-gen@v0.23.0

.PHONY: help
help: ## Show this list of targets
	@echo "Usage: make <target>   (start with: make run, make test)"
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: build
build: ## Build bin/ecs-agent (version from git describe)
	go build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/agent

.PHONY: image
image: docker ## Build the agent's container image ecs-agent:$(VERSION) (config/Dockerfile, FROM scratch)
	@VERSION=$(VERSION) hack/build-agent-image.sh ecs-agent:$(VERSION)

.PHONY: docker
docker: ## Make sure Go is found and a Docker daemon answers (starts or installs one)
	@hack/ensure-docker.sh

.PHONY: images
images: docker ## Build the local test and example images (no registry needed)
	@hack/build-test-images.sh

.PHONY: run
run: images build ## Run the agent in the foreground on examples/tasks, offline (Ctrl-C stops it; tasks keep running)
	@mkdir -p $(RUN_DIR)/data
	@# The agent refuses task files others can write; a checkout under umask 002 makes them so.
	@chmod go-w examples/tasks examples/tasks/*.json
	@echo "---------------------------------------------------------------------------"
	@echo " ecs-agent is starting on the task files in examples/tasks (offline mode)."
	@echo " In another terminal:"
	@echo "   ECS_DATADIR=.run/data $(BIN) get tasks"
	@echo "   ECS_DATADIR=.run/data $(BIN) get tasks -o wide     # host ports"
	@echo "   curl localhost:<host port from -o wide>"
	@echo "   curl -s localhost:$(INTROSPECTION_PORT)/v1/tasks"
	@echo " Ctrl-C stops the agent, not the tasks; 'make clean' removes them."
	@echo "---------------------------------------------------------------------------"
	ECS_OFFLINE=true \
	ECS_CLUSTER=$(RUN_CLUSTER) \
	ECS_STATIC_TASKS_DIR=$(CURDIR)/examples/tasks \
	ECS_DATADIR=$(RUN_DIR)/data \
	ECS_LOGLEVEL=info \
	ECS_IMAGE_PULL_BEHAVIOR=prefer-cached \
	ECS_INTROSPECTION_PORT=$(INTROSPECTION_PORT) \
	exec $(BIN) run

.PHONY: test
test: images registry ## Run every test: unit, integration and end to end (needs Docker; sets it up)
	go test -count=1 -p 2 -timeout $(TEST_TIMEOUT) $(TEST_FLAGS) ./...

.PHONY: chaos
chaos: images ## Kill -9 the agent at random instants in a churn of up to 50 tasks, 100 rounds (CHAOS_ROUNDS, CHAOS_TASKS, CHAOS_SEED)
	CHAOS_ROUNDS=$(CHAOS_ROUNDS) CHAOS_TASKS=$(CHAOS_TASKS) \
	go test -count=1 -v -timeout $(CHAOS_TIMEOUT) ./test/chaos/

# The unit and integration packages: everything but the end-to-end tests and
# the benchmarks, which run the agent as a separate, uninstrumented binary.
RACE_PKGS = $(shell go list ./... | grep -v -e /test/e2e -e /test/bench)

.PHONY: test-race
test-race: images registry ## Run the unit and integration packages with the race detector (needs Docker)
	go test -race -count=1 -p 2 -timeout $(TEST_TIMEOUT) $(TEST_FLAGS) $(RACE_PKGS)

.PHONY: registry
registry: docker ## Start the local test registry (docker-registry with htpasswd auth on 127.0.0.1:5055)
	@hack/registry.sh >/dev/null

.PHONY: test-unit
test-unit: ## Run the unit tests only (-short: no Docker needed)
	go test -short -count=1 -timeout 10m $(TEST_FLAGS) ./...

.PHONY: bench
bench: images registry ## Run the benchmarks once each (test/bench, against the real Docker daemon)
	go test -run '^$$' -bench . -benchtime=1x -timeout $(TEST_TIMEOUT) ./test/bench/...

# Each Go fuzz target, as package:target; `make fuzz` runs them one after
# another (go test can fuzz only one target at a time), FUZZTIME each.
FUZZ_TARGETS := \
	./internal/taskdef:FuzzParse \
	./internal/config:FuzzParseEnvFile \
	./internal/acs:FuzzDecode \
	./internal/introspection:FuzzTasksQuery \
	./internal/introspection:FuzzAgentAPIQuery \
	./internal/taskmetadata:FuzzPaths
FUZZTIME ?= 10m
# FUZZFLAGS passes more go test flags, e.g. -parallel=1 to fuzz on one core.
FUZZFLAGS ?=

.PHONY: fuzz
fuzz: ## Fuzz each parser for FUZZTIME (default 10m) one after another; a crash is saved under its testdata/fuzz
	@for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "=== fuzz $$name in $$pkg for $(FUZZTIME)"; \
		go test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) $(FUZZFLAGS) $$pkg || exit 1; \
	done

.PHONY: generate
generate: ## Regenerate the api/v1 deep-copy functions (controller-gen)
	$(CONTROLLER_GEN) object paths=./api/...

.PHONY: lint
lint: ## Check formatting (gofmt), go vet, govulncheck (offline database from the module proxy when vuln.go.dev is unreachable); golangci-lint too when installed
	@unformatted=$$(gofmt -l $$(git ls-files --cached --others --exclude-standard '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed on:"; echo "$$unformatted"; exit 1; fi
	go vet ./...
	@if command -v golangci-lint >/dev/null 2>&1; then golangci-lint run ./...; \
	else echo "golangci-lint not installed; skipped (https://golangci-lint.run/welcome/install/)"; fi
	hack/govulncheck.sh

.PHONY: fmt
fmt: ## Format all Go files with gofmt
	gofmt -w $$(git ls-files --cached --others --exclude-standard '*.go')

.PHONY: clean
clean: ## Remove bin/, .run/ and the containers `make run` started
	@if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then \
		ids=$$(docker ps -aq --filter label=com.amazonaws.ecs.cluster=$(RUN_CLUSTER)); \
		if [ -n "$$ids" ]; then docker rm -f $$ids >/dev/null; echo "removed example task containers"; fi; \
	fi
	rm -rf bin .run
