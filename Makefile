# camps-infra: the targets a developer and CI run. Only Go is needed for
# build, test, lint and plan; preview and up need the Pulumi CLI and
# credentials (see README.md).

STACK  ?= uat
FORMAT ?= text
GO     ?= go
FUZZTIME ?= 20s

.PHONY: all build test lint fmt vet staticcheck plan preview up schema fuzz

all: lint test

## build: compile the program and every tool
build:
	$(GO) build ./...

## test: unit, stack and invariant tests under mocks (offline)
test:
	$(GO) test ./...

## lint: gofmt, go vet and staticcheck (pinned in go.mod as a tool)
lint: fmt vet staticcheck

fmt:
	@out="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))"; \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

staticcheck:
	$(GO) tool staticcheck ./...

## plan: the offline plan of a stack, e.g. make plan STACK=prod FORMAT=json
plan:
	$(GO) run ./cmd/plan -stack $(STACK) -format $(FORMAT)

## preview: pulumi preview of a stack (needs the Pulumi CLI, a backend and credentials)
preview:
	pulumi preview --stack $(STACK) --diff

## up: pulumi up of a stack (needs the Pulumi CLI, a backend and credentials)
up:
	pulumi up --stack $(STACK)

## schema: regenerate contract/outputs.schema.json from contract.Outputs
schema:
	$(GO) run ./contract/gen

## fuzz: run each fuzz target for FUZZTIME
fuzz:
	$(GO) test ./stacks -run '^$$' -fuzz FuzzLoad -fuzztime $(FUZZTIME)
	$(GO) test ./internal/quantity -run '^$$' -fuzz FuzzParse -fuzztime $(FUZZTIME)
	$(GO) test ./provider/kaas -run '^$$' -fuzz FuzzLabels -fuzztime $(FUZZTIME)
