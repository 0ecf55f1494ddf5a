# `make run` and `make test` each create or refresh .venv by themselves.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/jaxdl gradcheck --formulas --json results/gradcheck.json
	@# The solution sheets in the course's language and in English (a PDF too where Chromium prints it).
	$(BIN)/jaxdl exam all --json results/exam.json --lang hr --markdown results/exam/sheet_hr.md \
		--html results/exam/sheet_hr.html --graphs results/exam $$(command -v chromium >/dev/null && echo --pdf results/exam/sheet_hr.pdf)
	$(BIN)/jaxdl exam all --lang en --markdown results/exam/sheet_en.md --html results/exam/sheet_en.html \
		--graphs results/exam $$(command -v chromium >/dev/null && echo --pdf results/exam/sheet_en.pdf) > /dev/null
	$(BIN)/jaxdl check-numpy jaxdl/check/lab_reference.py
	@# The quiz's official solutions fail the check (exit code 1): that is the demonstration.
	$(BIN)/jaxdl check-numpy tests/fixtures/numpy_lab/seed_quiz.py || test $$? -eq 1
	$(BIN)/jaxdl train cnn_digits --workdir results/runs/cnn_digits
	$(BIN)/jaxdl train nice_moons --workdir results/runs/nice_moons
	$(BIN)/jaxdl train gan_ring --workdir results/runs/gan_ring
	@# The practice pool of the course page: 200 verified variants of every family (not an exam's
	@# seed: its keys are shown to the student after checking).
	$(BIN)/jaxdl exam generate all --seed 1 --count 200 --practice results/practice.json
	@# Last: the course page, from everything above (and results/bench.json after `make bench`).
	$(BIN)/jaxdl site --results results

# All suites (a few minutes on a 2-core CPU); `jaxdl bench --quick` for a one-minute check.
bench: $(STAMP)
	$(BIN)/jaxdl bench --json results/bench.json --plots results/bench
	@if [ -f results/exam.json ]; then $(BIN)/jaxdl site --results results; fi

# One worker more than the cores (the end-to-end tests spend seconds waiting on their processes);
# a test file stays on one worker, and every worker shares the session's compilation cache.
test: $(STAMP)
	$(BIN)/python -m pytest -n $$(( $$(nproc) + 1 )) --dist loadfile --max-worker-restart=0 --durations=15 $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache results
