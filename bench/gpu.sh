#!/usr/bin/env bash
# Issue 32, goal 4: the paper's network on 105-pixel images, on one GPU, Keras on JAX (the GPU
# machine has no TensorFlow).
#
#   bash bench/gpu.sh OUTPUT_FOLDER [fast|paper]
#
# fast (the default): the paper profile's network and images trained by the fast recipe
#   (24 epochs of all-pairs episodes), seeds 2015, 2016 and 2017 at once on the one GPU.
#   Recorded in bench/results/fast105-gpu/ (each results.json holds its command).
# paper: the paper's recipe, seed 2015, for as many whole epochs as $GPU_MINUTES allow
#   (bench/results/paper-gpu/ holds such a run).
#
# Each run trains for at most $GPU_MINUTES minutes (default 5) of whole epochs. Running more
# at once slows each: seven at once on an H100 left every fast run cut short at 14-15 of its
# 24 epochs in 5 minutes, so the recorded runs are the three fast seeds alone.
#
# Prepare, where TensorFlow and tensorflow-datasets work (both folders are git-ignored):
#
#   python -m siamese_utils export --output .gpu/omniglot-105.npz
#   mkdir -p .gpu/kh/datasets && cp all_runs.zip .gpu/kh/datasets/
#   pip download keras==3.15.1 namex optree, as Python 3.12 wheels of the GPU machine, -d .whl
#
# It writes OUTPUT_FOLDER/gpu-runs.tar.gz: each run's results.json, history.csv and log. The
# trained networks (150 MB each) stay in /tmp/gpu-runs.
set -u
output=${1:?usage: bash bench/gpu.sh OUTPUT_FOLDER [fast|paper]}
what=${2:-fast}
minutes=${GPU_MINUTES:-5}
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=/tmp/site:$PWD KERAS_BACKEND=jax PYTHONUNBUFFERED=1
export SIAMESE_OMNIGLOT_FILE=$PWD/.gpu/omniglot-105.npz KERAS_HOME=$PWD/.gpu/kh
# Several processes share the GPU: none may take most of its memory up front.
export XLA_PYTHON_CLIENT_PREALLOCATE=false
runs=/tmp/gpu-runs
mkdir -p "$runs" "$output"
nvidia-smi -L >"$runs/gpu.txt"

train() { # name, then the train command's arguments
    local name=$1
    shift
    timeout $((60 * ${minutes%.*} + 180)) python3 -m siamese_utils train --profile paper \
        --quiet --max-minutes "$minutes" --output "$runs/$name" "$@" >"$runs/$name.log" 2>&1
}

case $what in
fast) for seed in 2015 2016 2017; do
    train "fast105-seed$seed" --recipe fast --seed "$seed" &
done ;;
paper) train paper-seed2015 --seed 2015 & ;;
*)
    echo "unknown run '$what': fast or paper" >&2
    exit 2
    ;;
esac
wait

cd "$runs" && tar czf "$output/gpu-runs.tar.gz" gpu.txt ./*.log ./*/results.json ./*/history.csv
python3 - <<'PYTHON'
import json, pathlib

for path in sorted(pathlib.Path(".").glob("*/results.json")):
    r = json.loads(path.read_text())
    print(
        f"{path.parent.name:16} epochs {r['epochs_trained']:3} ({r['stopped_by']}), "
        f"validation {r['validation_one_shot']:.3f}, protocol "
        f"{r['one_shot_paper_protocol']:.3f}, official {r['one_shot_official_runs']:.3f}, "
        f"train {r['train_seconds']:.0f} s"
    )
PYTHON
