# The two commands of the README, and the developer's shortcuts around them.
.PHONY: demo test run lint bench bench-quick

demo:
	packaging/bootstrap.sh app
	.venv/bin/parley --demo

run:
	packaging/bootstrap.sh app
	.venv/bin/parley

test:
	packaging/bootstrap.sh test
	QT_QPA_PLATFORM=offscreen PARLEY_SYNAPSE_PYTHON=$(CURDIR)/.venv-synapse/bin/python .venv/bin/python -m pytest

lint:
	.venv/bin/python -m pip install -q ruff mypy
	.venv/bin/python -m ruff check app tests benchmarks
	.venv/bin/python -m mypy

bench:
	packaging/bootstrap.sh app
	QT_QPA_PLATFORM=offscreen .venv/bin/python -m benchmarks.run

bench-quick:
	packaging/bootstrap.sh app
	QT_QPA_PLATFORM=offscreen .venv/bin/python -m benchmarks.run --quick
