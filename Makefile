# Every target installs what it needs into .venv first, so each works on a fresh clone.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

# Let Python keep compiled modules (__pycache__, git-ignored) even where the environment says not
# to: otherwise every test process and every CLI run recompiles the package and the tests.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: install test quick lint typecheck layers unit demo bench fuzz clean schemas docs

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

lint: install
	$(BIN)/ruff check src tests scripts
	$(BIN)/ruff format --check src tests scripts

typecheck: install
	$(BIN)/mypy

# The layer contracts of pyproject.toml [tool.importlinter]: compiler and verifier stay independent.
layers: install
	$(BIN)/lint-imports

# Both cores (pytest-xdist): the suite is CPU-bound, and the pre-commit hook test waits on pip.
# loadgroup keeps the tests of one xdist_group (sharing a per-process cache) on one worker.
PYTEST_JOBS ?= 2
XDIST := -n $(PYTEST_JOBS) --dist loadgroup

unit: install
	$(BIN)/python -m pytest -q $(XDIST)

test: lint typecheck layers unit

# The random differential tests (hypothesis policy sets, each conversion judged by the verifier)
# with ten times the suite's examples and a new seed each day: what 30 examples per test miss (a
# widening on main for many sessions took 100). Not part of make test; FUZZ_SEED=N repeats a run.
FUZZ_EXAMPLES ?= 300
FUZZ_SEED ?= $(shell date +%Y%m%d)
FUZZ_TESTS := tests/test_convert_differential.py tests/test_absorbed_denies.py tests/test_partly_narrowed.py \
	tests/test_pass_then_allow.py tests/test_components.py tests/test_quarantine.py tests/test_review9.py

fuzz: install
	@echo "== make fuzz: $(FUZZ_EXAMPLES) examples per test, seed $(FUZZ_SEED) (FUZZ_SEED=$(FUZZ_SEED) make fuzz repeats it)"
	C2C_DIFFTEST_EXAMPLES=$(FUZZ_EXAMPLES) C2C_DIFFTEST_SEED=$(FUZZ_SEED) $(BIN)/python -m pytest -q -x $(XDIST) $(FUZZ_TESTS)

# The edit loop (well under 30 s): ruff, then the tests without the slow and the property-based
# ones (tests/conftest.py); make test runs everything.
quick: install
	$(BIN)/ruff check src tests scripts
	$(BIN)/python -m pytest -q -x $(XDIST) --quick

demo: install
	@echo "== convert a whole cluster (examples/cluster: tiers, global and namespaced policies, Kubernetes"
	@echo "   NetworkPolicies, network sets, host endpoints) to Cilium in build/demo/cilium, and prove it equivalent"
	rm -rf build/demo/cilium
	mkdir -p build/demo/cilium
	@# Exit 1 is expected too: the host policies always carry warnings (enable the host firewall,
	@# label the nodes, failsafe ports assumed). The verifier's verdict must be EQUIVALENT.
	$(BIN)/calico2cilium convert -R examples/cluster/calico --cluster-config examples/cluster/cluster.yaml \
		--verify --output-dir build/demo/cilium --report build/demo/report.html 2> build/demo/report.txt; status=$$?; \
		cat build/demo/report.txt; test $$status -le 1 && grep -q '^EQUIVALENT' build/demo/report.txt
	@echo
	@echo "== three of the generated files: the shop API's policy, the CIDR group of its payment gateway,"
	@echo "   and the host policy protecting the nodes (from HostEndpoints)"
	@cat build/demo/cilium/cnp-shop-api.yaml
	@echo ---
	@cat build/demo/cilium/ccg-calico-ns-shop-payment-gateway.yaml
	@echo ---
	@cat build/demo/cilium/ccnp-security.protect-nodes.yaml
	@echo
	@echo "== diff: the Calico cluster against its Cilium output with one port edited (exit 1 expected);"
	@echo "   the migration report is build/demo/report.html"
	rm -rf build/demo/cilium-edited && cp -r build/demo/cilium build/demo/cilium-edited
	sed -i "s/port: '6379'/port: '6380'/" build/demo/cilium-edited/cnp-shop-api.yaml
	-$(BIN)/calico2cilium diff --cluster-config examples/cluster/cluster.yaml -R examples/cluster/calico build/demo/cilium-edited
	@echo
	@echo "== a narrowed conversion (exit 1 expected): one rule has no exact Cilium form, so it is left out"
	@echo "   with a warning and its policy keeps its pods in default deny; the verifier proves Cilium allows"
	@echo "   nothing Calico denies (NARROWED) and shows a flow Cilium now denies"
	$(BIN)/calico2cilium convert examples/narrowed --pod-cidr 10.244.0.0/16 --node-cidr 10.0.0.0/24 \
		--endpoint-to-host-action Accept --verify > build/demo/narrowed.yaml 2> build/demo/narrowed.txt; \
		status=$$?; cat build/demo/narrowed.txt; test $$status -eq 1 && grep -q '^NARROWED' build/demo/narrowed.txt
	@echo
	@echo "== lint examples/broken (exit 2 is expected: deliberate mistakes)"
	-$(BIN)/calico2cilium lint examples/broken
	@echo
	@echo "== explain one code"
	$(BIN)/calico2cilium explain C2C211

bench: install
	$(BIN)/python scripts/bench.py
	$(BIN)/python scripts/bench_verify.py
	$(BIN)/python scripts/bench_convert.py
	$(BIN)/python scripts/bench_concrete.py
	$(BIN)/python scripts/bench_startup.py
	$(BIN)/python scripts/bench_mix.py
	$(BIN)/python scripts/bench_review.py
	$(BIN)/python scripts/bench_memory.py

docs: install
	$(BIN)/python scripts/gen_codes_doc.py

schemas: install
	$(BIN)/python scripts/gen_schemas.py ../shared/crds

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build dist
