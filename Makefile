# lakeforge: build, test and deploy. `make help` lists the targets.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

GO        ?= go
FUNCTIONS := $(notdir $(wildcard functions/*))
CDK       := npx --no-install cdk --no-notices
# The CLI must not phone home: synth works offline and without credentials.
export CDK_DISABLE_CLI_TELEMETRY := true
# The CDK's jsii runtime warns about Node 20's end of life on every call.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
# Node 22 from the npm package `node`: the local Step Functions runner needs
# it, and the CDK's jsii runtime uses it instead of the end-of-life Node 20.
export LAKEFORGE_NODE22 := $(CURDIR)/node_modules/node/bin/node
export JSII_NODE := $(LAKEFORGE_NODE22)

LAMBDA_FLAGS := -tags lambda.norpc -trimpath -ldflags "-s -w"

# Python tools (moto, cfn-lint, pyspark) live in .venv/, pinned by
# requirements.txt; the tests find them through PATH and LAKEFORGE_PYTHON.
VENV := $(CURDIR)/.venv
export PATH := $(VENV)/bin:$(PATH)
export LAKEFORGE_PYTHON := $(VENV)/bin/python

.PHONY: help venv jars build synth deploy destroy test test-go test-python lint bench preflight clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s $$'\t'

venv: $(VENV)/.installed ## install the pinned Python tools (requirements.txt) into .venv/
$(VENV)/.installed: requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check -r requirements.txt
	@touch $@

# The import job's local Spark tier needs what Glue 5.0 ships: its JDBC drivers
# (PostgreSQL 42.7.3, MySQL Connector/J 8.0.33, which Glue also uses for
# MariaDB) and Iceberg 1.7.1, from Maven Central into .tmp/jars/ (gitignored).
JARS_DIR := $(CURDIR)/.tmp/jars
export LAKEFORGE_JARS := $(JARS_DIR)
IMPORT_JARS := org.postgresql:postgresql:42.7.3 com.mysql:mysql-connector-j:8.0.33 \
               org.apache.iceberg:iceberg-spark-runtime-3.5_2.12:1.7.1
jars: $(JARS_DIR)/.installed ## fetch the import job's JDBC drivers and Iceberg runtime (Maven Central) into .tmp/jars/
$(JARS_DIR)/.installed: Makefile
	@mkdir -p $(JARS_DIR)
	@for a in $(IMPORT_JARS); do \
	  mvn -q -B dependency:copy -Dartifact=$$a -DoutputDirectory=$(JARS_DIR) -Dtransitive=false; \
	done
	@touch $@

node_modules: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch node_modules

build: ## build every functions/<name> into dist/<name>/bootstrap (linux/arm64, static)
	@for f in $(FUNCTIONS); do \
	  echo "build $$f"; \
	  GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) build $(LAMBDA_FLAGS) -o dist/$$f/bootstrap ./functions/$$f; \
	done

synth: build node_modules ## write the CloudFormation template to cdk.out/ (no AWS credentials needed)
	$(CDK) synth --quiet

deploy: build node_modules ## deploy the stack (needs credentials and a bootstrapped account)
	$(CDK) deploy --require-approval broadening

destroy: node_modules ## delete the stack; the lake bucket, its access logs and the KMS key are kept
	$(CDK) destroy

test: build node_modules venv jars ## every test tier, with throwaway database servers on free loopback ports
	scripts/test-databases.sh run $(MAKE) test-go test-python

test-go:
	$(GO) test -count=1 ./...

# The import job on local Spark against the servers of test-databases.sh;
# it reads the job's arguments from the template that test-go wrote.
export LAKEFORGE_IMPORT_CONTRACT := $(CURDIR)/.tmp/import-contract.json
test-python: jars
	python3 -m py_compile infra/glue/import_job.py infra/glue/local_runtime.py
	$(LAKEFORGE_PYTHON) -m pytest -q -p no:cacheprovider infra/glue

lint: ## go vet, gofmt and cfn-lint on the synthesized template
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt: files above need formatting"; exit 1; }
	$(GO) vet ./...
	$(MAKE) synth
	cfn-lint --regions us-east-1 ap-northeast-1 eu-west-1 --ignore-checks W3005 -- cdk.out/*.template.json  # W3005: see infra/stack/stack_test.go

bench: build node_modules venv jars ## benchmarks: state transitions of one run (budget 40), the import job against psql \copy, every other Go benchmark
	@echo "State transitions of one pipeline run (budget 40), simulated imports, Wait states overridden:"
	$(GO) test -run '^$$' -bench 'PipelineTransitions' -benchtime 1x ./statemachine/
	@pkgs=$$( (grep -l '^func Benchmark' $$(git ls-files '*_test.go') || true) | xargs -r -n1 dirname | sort -u | (grep -v '^statemachine$$' || true) | sed 's|^|./|'); \
	if [ -n "$$pkgs" ]; then $(GO) test -run '^$$' -bench . -benchmem $$pkgs; fi
	@echo "Import job on local Spark: a 2,000,000-row PostgreSQL table, partitioned and single-stream reads, against psql \\copy:"
	scripts/test-databases.sh run $(LAKEFORGE_PYTHON) infra/glue/import_bench.py

preflight: ## run the source connection checks from this machine with your AWS credentials
	$(GO) run ./functions/test-connection/cmd/preflight $(ARGS)

clean: ## remove build outputs
	rm -rf dist cdk.out
