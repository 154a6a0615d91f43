# The two commands of the README, and the developer's shortcuts around them.
.PHONY: demo test run lint bench bench-quick dist dist-check install-desktop

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

# The desktop bundle: dist/parley/ (run dist/parley/parley). See packaging/README.md.
dist:
	packaging/bootstrap.sh dist
	QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/make_icons.py build/icons
	.venv/bin/python -m PyInstaller --noconfirm --clean --distpath dist --workpath build/pyinstaller packaging/parley.spec

# Build the bundle from a fresh clone of HEAD (committed work only), start it, and check it exits cleanly.
dist-check:
	python3 packaging/dist_check.py

# Make the built bundle show up in the desktop's application menu (per user, under ~/.local).
install-desktop:
	packaging/install_desktop.sh
