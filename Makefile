# lakeforge: build, test and deploy. `make help` lists the targets.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

GO        ?= go
# This Makefile's directory (make -f from elsewhere runs it on another tree).
MAKEFILE_DIR := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
FUNCTIONS := $(notdir $(wildcard functions/*))
CDK       := npx --no-install cdk --no-notices
# The CLI must not phone home: synth works offline and without credentials.
export CDK_DISABLE_CLI_TELEMETRY := true
# The CDK's jsii runtime warns about Node 20's end of life on every call.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
# Node 22 from the npm package `node` (scripts/node22): the local Step
# Functions runner needs it, the CDK's jsii runtime uses it instead of the
# end-of-life Node 20, and every npm and npx call of this Makefile runs on it.
NODE22_DIR := $(CURDIR)/scripts/node22
export LAKEFORGE_NODE22 := $(NODE22_DIR)/node_modules/node/bin/node
export JSII_NODE := $(LAKEFORGE_NODE22)

LAMBDA_FLAGS := -tags lambda.norpc -trimpath -ldflags "-s -w"

# Python tools (moto, cfn-lint, pyspark) live in .venv/, pinned by
# requirements.txt; the tests find them through PATH and LAKEFORGE_PYTHON.
VENV := $(CURDIR)/.venv
export PATH := $(VENV)/bin:$(NODE22_DIR)/node_modules/node/bin:$(PATH)
export LAKEFORGE_PYTHON := $(VENV)/bin/python

.PHONY: help venv jars node_modules build synth deploy deploy-check destroy test test-tiers test-go-tier import-contract stack-test-binary test-unit test-go test-python lint bench preflight demo clean

help: ## list the targets
	@grep -E '^[a-z_%-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s $$'\t'

venv: $(VENV)/.installed ## install the pinned Python tools (requirements.txt) into .venv/
$(VENV)/.installed: requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check -r requirements.txt
	@touch $@

$(LAKEFORGE_NODE22): scripts/node22/package.json scripts/node22/package-lock.json
	cd $(NODE22_DIR) && npm ci --no-audit --no-fund
	@touch $@

# The import job's local Spark tier needs what Glue 5.0 ships: its JDBC drivers
# (PostgreSQL 42.7.3, MySQL Connector/J 8.0.33, which Glue also uses for
# MariaDB) and Iceberg 1.7.1, from Maven Central into .tmp/jars/ (gitignored).
# Maven quietly, without progress; Debian's Maven 3.8 still writes colour
# resets (ESC[0m) in batch mode, which the sed drops from logs.
JARS_DIR := $(CURDIR)/.tmp/jars
export LAKEFORGE_JARS := $(JARS_DIR)
IMPORT_JARS := org.postgresql:postgresql:42.7.3 com.mysql:mysql-connector-j:8.0.33 \
               org.apache.iceberg:iceberg-spark-runtime-3.5_2.12:1.7.1
jars: $(JARS_DIR)/.installed ## fetch the import job's JDBC drivers and Iceberg runtime (Maven Central) into .tmp/jars/
$(JARS_DIR)/.installed: Makefile
	@mkdir -p $(JARS_DIR)
	@for a in $(IMPORT_JARS); do \
	  mvn --batch-mode --no-transfer-progress -q dependency:copy -Dartifact=$$a -DoutputDirectory=$(JARS_DIR) -Dtransitive=false 2>&1 | sed 's/\x1b\[[0-9;]*m//g'; \
	done
	@touch $@

# npm writes node_modules/.package-lock.json on every install: it is the
# stamp, so `npm ci` runs again only when package.json, the
# lock file or Node changed, not on every demo, synth, deploy, lint or bench.
NPM_STAMP := node_modules/.package-lock.json
node_modules: $(NPM_STAMP) ## install the pinned npm tools (CDK CLI, ASL validator, local Step Functions) on Node 22, when the lock files changed
$(NPM_STAMP): package.json package-lock.json $(LAKEFORGE_NODE22)
	npm ci --no-audit --no-fund
	@touch $@

# One go build for every function, then each binary to dist/<name>/bootstrap:
# one go command compiles each shared package (the AWS SDK, above all EC2's)
# once and links in parallel. A go build per function under make -j compiled
# them in each command at once (cold, under make -j2: 131 s and 257 CPU-s
# for 13 functions, against 73 s and 142 CPU-s; docs/development.md, Timings).
LAMBDA_OUT := .tmp/lambda
build: ## build every functions/<name> into dist/<name>/bootstrap (linux/arm64, static)
	@echo "build $(FUNCTIONS)"
	@rm -rf $(LAMBDA_OUT) && mkdir -p $(LAMBDA_OUT)
	@GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) build $(LAMBDA_FLAGS) -o $(LAMBDA_OUT)/ ./functions/...
	@for f in $(FUNCTIONS); do \
	  test -f $(LAMBDA_OUT)/$$f || { echo "build: functions/$$f built no command (is its package main?)"; exit 1; }; \
	  mkdir -p dist/$$f && mv -f $(LAMBDA_OUT)/$$f dist/$$f/bootstrap; \
	done

build-%: ## build one function: make build-tag-output writes dist/tag-output/bootstrap
	@test -f functions/$*/main.go || { echo "no functions/$*: one of $(FUNCTIONS)"; exit 1; }
	@echo "build $*"
	@GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) build $(LAMBDA_FLAGS) -o dist/$*/bootstrap ./functions/$*

# CONFIG=path/to/lakeforge.json replaces the "lakeforge" object of cdk.json
# (the file holds that object itself); infra/main.go validates it the same way.
CONFIG ?=
CDK_CONFIG := $(if $(CONFIG),-c lakeforge:configFile=$(abspath $(CONFIG)))

synth: build node_modules ## write the CloudFormation template to cdk.out/ (no AWS credentials needed; CONFIG=file optional)
	$(CDK) synth --quiet $(CDK_CONFIG)

# The lakeforge CLI, built and run (`go run` would turn every failing exit
# status into 1; docs/cli.md documents the CLI's own).
LAKEFORGE := $(GO) build -o .tmp/bin/lakeforge ./cmd/lakeforge && .tmp/bin/lakeforge
CLI_CONFIG := $(if $(CONFIG),--config $(abspath $(CONFIG)))

# deploy-check runs first: the AWS credentials and region, then the
# configuration, before anything is built. lakeforge preflight --deploy then
# checks the account: a persona group that exists already (the blog's manual
# build) would fail cdk deploy with EntityAlreadyExists. lakeforge:deploy=true
# makes the app itself refuse the shipped example values and a region (the
# AWS profile's, CDK_DEFAULT_REGION) other than the zone's and the secret's.
deploy: deploy-check build node_modules ## deploy the stack to your AWS profile's region (CONFIG=file optional)
	@$(LAKEFORGE) preflight --deploy $(CLI_CONFIG)
	$(CDK) deploy --require-approval broadening -c lakeforge:deploy=true $(CDK_CONFIG)

deploy-check: ## what make deploy checks first: AWS credentials and region, then the configuration (CONFIG=file optional)
	@$(LAKEFORGE) deploy-check $(CLI_CONFIG)

destroy: node_modules ## delete the stack; the lake bucket, its access logs and the KMS key are kept (CONFIG=file as for deploy)
	$(CDK) destroy $(CDK_CONFIG)

test: ## every test tier, with throwaway database servers on free loopback ports
	scripts/test-databases.sh run $(MAKE) -j3 test-tiers

# Three jobs: the installs (npm, pip, Maven: mostly waiting on the network),
# the Lambda binaries and the stack's test binary (amd64 and arm64: no
# shared work), then the import job's contract; then the Python tier, the
# longest, and the Go tier side by side. The Go tier waits for the contract:
# two go commands compiling the same packages at once would each compile
# them (the build cache does not share work in progress), and test-go does
# not rewrite the contract while the Python tier reads it
# (docs/development.md, "How make test uses the two cores").
test-tiers: test-python test-go-tier ## what make test runs inside test-databases.sh: the Lambda binaries and the import contract, then test-go and test-python side by side
test-go-tier: import-contract node_modules venv jars ## test-go once the import contract (after the Lambda binaries) and the installs are there (test-tiers' Go side)
	@$(MAKE) --no-print-directory test-go

# The tests compile without inlining: on a fresh machine compiling the AWS
# SDK and the CDK bindings is most of `make test`'s CPU, and -l cuts it by
# 40% (the EC2 client: 112 s -> 68 s, measured when it was added); the
# code behaves the same. Every go command under these targets inherits
# GOFLAGS (the test binaries, the function and CLI binaries some tests
# build, conftest's go test), so they reuse one set of compiled packages.
# Under `make test` the Lambda binaries in dist/ are built so too (the tests
# only check and hash them); `make build`, `synth` and `deploy` always
# rebuild them with the default optimizations. The test binaries are linked
# without DWARF (-ldflags=-w: 9% of a cold test compile's CPU; stack traces
# keep their file and line, which come from the symbol table, not DWARF).
TEST_GOFLAGS := $(if $(findstring -gcflags=all=-l,$(GOFLAGS)),$(GOFLAGS),$(strip $(GOFLAGS) -gcflags=all=-l))
TEST_GOFLAGS := $(if $(findstring -ldflags,$(TEST_GOFLAGS)),$(TEST_GOFLAGS),$(TEST_GOFLAGS) -ldflags=-w)
# The compiler and linker run without garbage collection until a process
# holds 2 GiB (GOGC=off with GOMEMLIMIT; the EC2 client's compile peaks near
# that): a cold test compile 272 -> 240 CPU-s. The limit is a soft one, per
# process, and go runs one compile per core: on a machine with less than
# 4 GiB of memory per core it shrinks to half the memory per core, and below
# 512 MiB (or without /proc/meminfo) the collector keeps its defaults. The
# test binaries run with the collector's defaults (scripts/go-test-exec, as
# go test's -exec).
TEST_TARGETS := test test-tiers test-go-tier import-contract stack-test-binary test-go test-unit test-python
TEST_GOMEMLIMIT_MIB := $(shell awk -v n="$$(nproc 2>/dev/null || echo 1)" '/^MemTotal:/ { m = int($$2 / 1024 / 2 / n); if (m > 2048) m = 2048; if (m >= 512) print m }' /proc/meminfo 2>/dev/null)
empty :=
space := $(empty) $(empty)
ifeq ($(findstring -exec,$(GOFLAGS))$(findstring $(space),$(MAKEFILE_DIR)),)
TEST_GOFLAGS += -exec=$(MAKEFILE_DIR)/scripts/go-test-exec
ifneq ($(TEST_GOMEMLIMIT_MIB),)
$(TEST_TARGETS): export GOGC := off
$(TEST_TARGETS): export GOMEMLIMIT := $(TEST_GOMEMLIMIT_MIB)MiB
endif
endif
$(TEST_TARGETS): export GOFLAGS := $(TEST_GOFLAGS)

# The Go tests of every tier, verbose into .tmp/test-go.log, shown without
# the RUN and PASS lines. No test may skip: a skipped test fails the run.
# -vet=off: vetting in go test computes facts for every dependency (10% of
# a cold test compile); `make lint` runs go vet.
test-go: ## the Go tests of every tier (needs the servers of `make test`); fails if any test skipped
	@mkdir -p .tmp
	LAKEFORGE_TEST_TIER= LAKEFORGE_IMPORT_CONTRACT= $(GO) test -count=1 -vet=off -v ./... 2>&1 | tee .tmp/test-go.log | grep -Ev '^ *(=== (RUN|PAUSE|CONT|NAME)|--- PASS)'
	@! grep -E '^ *--- SKIP' .tmp/test-go.log || { echo "test-go: the tests above were skipped; make test runs every test"; exit 1; }

# The unit tier: LAKEFORGE_TEST_TIER=unit makes each test that needs the moto
# server, Node or a database skip itself (internal/testtier). The CDK app
# (infra/, infra/stack, examples/: Node through jsii) and the Node-driven
# pkg/internal/localsfn are left out as packages.
UNIT_PKGS = $(shell $(GO) list ./... 2>/dev/null | grep -v -e '/infra$$' -e '/infra/' -e '/examples/' -e '/pkg/internal/localsfn$$')
test-unit: ## every test that needs no server, database, Spark or Node (timings: docs/development.md)
	LAKEFORGE_TEST_TIER=unit $(GO) test -count=1 -vet=off $(UNIT_PKGS)

# The import job on local Spark against the servers of test-databases.sh;
# it reads the job's arguments from the synthesized template: the contract
# that TestImportJobContract writes (import-contract; infra/glue/conftest.py
# writes it itself when it is missing or was written for other servers).
# Both run on the PostgreSQL database of the import job's tier
# (LAKEFORGE_TEST_GLUE_POSTGRES_DSN), not the Go tier's: the tiers run side
# by side and both reload the kthr01 schema.
GLUE_TIER_DSN = LAKEFORGE_TEST_POSTGRES_DSN="$${LAKEFORGE_TEST_GLUE_POSTGRES_DSN:-$$LAKEFORGE_TEST_POSTGRES_DSN}"
export LAKEFORGE_IMPORT_CONTRACT := $(CURDIR)/.tmp/import-contract.json
# The contract comes from a synthesis with the real Lambda binaries (dist/):
# the stack's test binary compiles beside `make build` (amd64 and arm64
# share no work), then runs once both are there, as go test would run it
# (in its package's directory, through the -exec wrapper when set).
STACK_TEST := $(CURDIR)/.tmp/infra-stack.test
import-contract: node_modules build stack-test-binary ## write the import job's contract from the synthesized template into .tmp/import-contract.json (test-python reads it)
	cd infra/stack && $(GLUE_TIER_DSN) $(patsubst -exec=%,%,$(filter -exec=%,$(GOFLAGS))) $(STACK_TEST) -test.count=1 -test.run '^TestImportJobContract$$'
stack-test-binary: ## compile the stack's test binary into .tmp/infra-stack.test (import-contract runs it)
	@mkdir -p .tmp
	$(GO) test -c -vet=off -o $(STACK_TEST) ./infra/stack/
test-python: import-contract venv jars ## the import job's tests on local Spark (needs the servers of `make test`)
	python3 -m py_compile infra/glue/import_job.py infra/glue/importjob_*.py infra/glue/local_runtime.py
	@mkdir -p .tmp
	@echo "test-python: pytest infra/glue, its output in .tmp/test-python.log"
	@$(GLUE_TIER_DSN) $(LAKEFORGE_PYTHON) -m pytest -q -p no:cacheprovider infra/glue >.tmp/test-python.log 2>&1 \
	  && { echo "test-python: $$(tail -n 1 .tmp/test-python.log)"; } \
	  || { cat .tmp/test-python.log; echo "test-python: failed (above, and in .tmp/test-python.log)"; exit 1; }

# staticcheck at a pinned version, built by the Go toolchain (no go.mod entry).
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
lint: ## gofmt, go vet, staticcheck, a go mod tidy check and cfn-lint on the synthesized template
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt: files above need formatting"; exit 1; }
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...
	@$(GO) mod tidy -diff || { echo "go mod tidy would change go.mod/go.sum (diff above): run go mod tidy"; exit 1; }
	$(MAKE) synth
	cfn-lint --regions us-east-1 ap-northeast-1 eu-west-1 --ignore-checks W3005 -- cdk.out/*.template.json  # W3005: see infra/stack/stack_test.go

bench: build node_modules venv jars ## benchmarks: transitions and notice lag of one pipeline run (pipeline-bench lines), the import job against psql \copy, merge against snapshot (merge-bench), every other Go benchmark
	@echo "One pipeline run per scenario (real ASL, simulated import and Glue events; goal: <= 12 transitions, notice_lag_s <= 60 with the event, <= 600 without):"
	$(GO) test -run '^$$' -bench 'PipelineTransitions' -benchtime 1x ./statemachine/
	@pkgs=$$( (grep -l '^func Benchmark' $$(git ls-files '*_test.go') || true) | xargs -r -n1 dirname | sort -u | (grep -v '^statemachine$$' || true) | sed 's|^|./|'); \
	if [ -n "$$pkgs" ]; then $(GO) test -run '^$$' -bench . -benchmem $$pkgs; fi
	@echo "Import job on local Spark: a 2,000,000-row PostgreSQL table, partitioned and single-stream reads, against psql \\copy:"
	scripts/test-databases.sh run $(LAKEFORGE_PYTHON) infra/glue/import_bench.py
	@echo "Merge mode on local Spark: the same table with 1% of its rows changed (updates and deletes), one merge run against one snapshot run (goal: ratio <= 0.3):"
	scripts/test-databases.sh run $(LAKEFORGE_PYTHON) infra/glue/merge_bench.py

preflight: ## lakeforge preflight: the source connection checks from this machine with your AWS credentials (CONFIG=file optional)
	@$(LAKEFORGE) preflight $(CLI_CONFIG) $(ARGS)

demo: build node_modules venv jars ## the whole daily run on this machine, no AWS account: moto, the real ASL, handlers, Spark import, the analyst's queries (ARGS=--verbose)
	scripts/test-databases.sh run $(GO) run ./cmd/lakeforge-demo $(ARGS)

clean: ## remove build outputs (dist/, cdk.out/, the stack's test binary)
	rm -rf dist cdk.out $(STACK_TEST)
