#!/usr/bin/env bash
# One entry point for a fresh machine with only Python 3.10+ and pip:
#   bash run.sh benchmark [ARGS]   set up .venv, then benchmark the models on synthetic data
#   bash run.sh test               set up .venv, then run the test suite and build the docs
set -euo pipefail
cd "$(dirname "$0")"
VENV=${VENV:-.venv}

setup() {
    [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
    local stamp="$VENV/.sklearn-moa-installed"
    if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
        "$VENV/bin/python" -m pip install -q --upgrade pip
        # torch first, pinned: a bare 'torch' requirement pulls a multi-GB CUDA build.
        "$VENV/bin/python" -m pip install -q torch==2.13.0
        "$VENV/bin/python" -m pip install -q -e ".[all,test,docs]"
        touch "$stamp"
    fi
}

# Two cores: one thread per worker keeps parallel tests from oversubscribing.
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-2}

case "${1:-}" in
    benchmark)
        shift
        setup
        "$VENV/bin/sklearn-moa" benchmark "$@"
        ;;
    test)
        shift
        setup
        # --doctest-modules: the Examples sections of the docstrings run too.
        "$VENV/bin/python" -m pytest -n 2 --durations=15 --doctest-modules "$@" tests sklearn_moa
        if [ -f docs/conf.py ]; then
            "$VENV/bin/python" -m sphinx -W --keep-going -q -b html docs docs/_build/html
        fi
        ;;
    *)
        echo "usage: bash run.sh {benchmark|test} [ARGS]" >&2
        exit 2
        ;;
esac
