# camps-infra: the targets a developer and CI run. Only Go is needed for
# build, test, lint and plan; preview and up need the Pulumi CLI and
# credentials (see README.md). The Infomaniak provider (provider/) is its
# own Go module; every target covers both modules.

STACK  ?= uat
FORMAT ?= text
GO     ?= go
FUZZTIME ?= 20s

.PHONY: all build test lint fmt vet staticcheck plan policy preview comment up drift schema docs fuzz e2e-tools e2e loadtest rehearse-migration

all: lint test

PROVIDER_BIN := bin/pulumi-resource-infomaniak

## build: compile the program and its tools, and the provider into bin/
build:
	$(GO) build ./...
	cd provider && $(GO) build -o ../$(PROVIDER_BIN) ./cmd/pulumi-resource-infomaniak

## test: unit, stack and invariant tests under mocks, and the provider's tests (offline)
test:
	$(GO) test ./...
	cd provider && $(GO) test ./...

## lint: gofmt, go vet and staticcheck (pinned in go.mod as a tool)
lint: fmt vet staticcheck

fmt:
	@out="$$(gofmt -l $$(git ls-files --cached --others --exclude-standard '*.go' 2>/dev/null || find . -name '*.go'))"; \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...
	cd provider && $(GO) vet ./...

staticcheck:
	$(GO) tool staticcheck ./...
	cd provider && $(GO) tool staticcheck ./...

## plan: the offline plan of a stack, e.g. make plan STACK=prod FORMAT=json
plan:
	$(GO) run ./cmd/plan -stack $(STACK) -format $(FORMAT)

## loadtest: load a stack's public hosts and judge them by its objectives, e.g. make loadtest STACK=prod LOADTEST_ARGS="-duration 5m"
loadtest:
	$(GO) run ./cmd/loadtest -stack $(STACK) $(LOADTEST_ARGS)

## policy: check the offline plan of every stack and phase against the policies (internal/policy)
policy:
	$(GO) run ./cmd/plan -stack uat -policy
	$(GO) run ./cmd/plan -stack uat -policy -set camps-infra:phase=2
	$(GO) run ./cmd/plan -stack prod -policy
	$(GO) run ./cmd/plan -stack prod -policy -set camps-infra:phase=2
	$(GO) run ./cmd/plan -stack prod -policy -set camps-infra:phase=2 -set 'camps-infra:security={"externalSecrets":true}'
	$(GO) run ./cmd/plan -stack dr -policy

## rehearse-migration: the phase 2 migration's plans (before, during, after) and what each step changes, offline
rehearse-migration:
	$(GO) test ./cmd/plan -run TestPhase2MigrationRehearsal -count=1 -v

## preview: pulumi preview of a stack (needs the Pulumi CLI, a backend and credentials)
preview: build
	pulumi preview --stack $(STACK) --diff

## comment: post preview-$(STACK).txt to the merge request (CI; see cmd/mrcomment)
STATUS ?= 0
comment:
	$(GO) run ./cmd/mrcomment -stack $(STACK) -file preview-$(STACK).txt -status $(STATUS)

## drift: fail when the stack's resources differ from its state (scheduled in CI)
drift:
	pulumi refresh --stack $(STACK) --preview-only --expect-no-changes --non-interactive

## up: pulumi up of a stack (needs the Pulumi CLI, a backend and credentials)
up: build
	pulumi up --stack $(STACK)

## e2e-tools: build the end-to-end run's tools from the Go module proxy into E2E_CACHE (once per version; ~20 min cold)
E2E_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/camps-infra-e2e
E2E_CHARTS ?=
e2e-tools:
	E2E_CACHE="$(E2E_CACHE)" e2e/tools/build.sh

## e2e: the program through the real Pulumi engine, a local kube-apiserver and a fake KaaS API (after make e2e-tools; E2E_CHARTS=dir for the platform)
e2e: build
	cd provider && $(GO) build -o ../bin/kaas-fake ./cmd/kaas-fake
	$(GO) run ./cmd/e2e -tools "$(E2E_CACHE)/bin" -charts "$(E2E_CHARTS)"

## docs: regenerate docs/configuration.md and Pulumi.yaml's config descriptions from the config types (stacks/)
docs:
	$(GO) run ./internal/configdoc/gen

## schema: regenerate contract/outputs.schema.json, docs/outputs.md and provider/schema.json
schema:
	$(GO) run ./contract/gen
	cd provider && $(GO) test . -run TestSchemaFileIsCurrent -update

## fuzz: run each fuzz target for FUZZTIME
fuzz:
	$(GO) test ./stacks -run '^$$' -fuzz FuzzLoad -fuzztime $(FUZZTIME)
	$(GO) test ./infra/kubeconfig -run '^$$' -fuzz FuzzCluster -fuzztime $(FUZZTIME)
	cd provider && $(GO) test ./kaas -run '^$$' -fuzz FuzzLabels -fuzztime $(FUZZTIME)
