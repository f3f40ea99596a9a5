#!/usr/bin/env bash
# The GPU checks of the models (issue 12, criterion 6) as one prepared run for
# an accelerator machine that has torch but cannot reach a package registry.
#
#   bash benchmarks/gpu_check.sh fetch   # here, where pip reaches the registries:
#                                        # the wheels that machine lacks, into .whl/
#   bash benchmarks/gpu_check.sh run     # there, from the repository root, .whl/ carried:
#                                        # the gpu-marked tests, then fold 0 of the full
#                                        # protocol on the GPU; logs under $OUT
#
# "run" installs the wheels into /tmp/site (nothing of the machine's own
# Python changes), runs Keras on its torch backend (the machine has no
# TensorFlow; a TensorFlow wheel is far over what may be carried), and
# bounds every step with a timeout so the whole run ends inside 9 minutes.
set -uo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}

# The versions this project is tested with (pure-Python wheels, except optree).
WHEELS=(
    scikit-learn==1.9.1 iterative-stratification==0.1.9 skorch==1.4.0
    pytorch-tabnet==4.1.0 tabm==0.0.3 rtdl_num_embeddings==0.0.12
    keras==3.15.1 namex==0.1.0 optree==0.20.0
)

fetch() {
    local platforms=() n
    for n in 28 27 17; do platforms+=(--platform "manylinux_2_${n}_x86_64"); done
    "$PYTHON" -m pip download -q --no-deps --only-binary=:all: --python-version "${PY_VERSION:-3.12}" \
        --implementation cp "${platforms[@]}" --platform manylinux2014_x86_64 -d .whl "${WHEELS[@]}"
    du -sh .whl
}

run() {
    local out=${OUT:-/tmp/gpu_check}
    mkdir -p "$out"
    "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .whl/*.whl || { echo "installing .whl/ failed" >&2; exit 1; }
    export PYTHONPATH=/tmp/site:$PWD KERAS_BACKEND=torch PYTHONUNBUFFERED=1
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$out/gpu.txt"
    "$PYTHON" -c "import sys, torch, sklearn, keras; print(sys.version.split()[0], 'torch', torch.__version__,
        'cuda', torch.cuda.is_available(), 'sklearn', sklearn.__version__, 'keras', keras.__version__,
        keras.backend.backend())" | tee -a "$out/gpu.txt"
    # Every model on a small fit with device="cuda" (tests/test_model_zoo.py).
    timeout 200 "$PYTHON" -m pytest -q -p no:cacheprovider -m gpu tests/test_model_zoo.py \
        2>&1 | tee "$out/gpu_tests.log"
    # One full-protocol fold at full size on the GPU: the DeepInsight CNN, whose
    # first epoch did not finish in 579 CPU s here, then the TabNet fold (343 CPU s).
    timeout 300 "$PYTHON" benchmarks/bench_full_protocol.py --device cuda --measure-folds 1 --rows "${ROWS:-23814}" \
        --models deepinsight_cnn,tabnet 2>&1 | tee "$out/full_fold_gpu.log"
}

case "${1:-}" in
    fetch) fetch ;;
    run) run ;;
    *) echo "usage: bash benchmarks/gpu_check.sh {fetch|run}" >&2; exit 2 ;;
esac
