#!/usr/bin/env bash
# The wheel is all a user gets: build it, install it (not editable) into a fresh venv, then, from a
# folder outside the checkout, matte the bundled sample with the CLI and open the app on it until
# its first matte is on screen.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m pip wheel -q --no-deps -w "$work/dist" .
python3 -m venv "$work/venv"
py="$work/venv/bin/python"
"$py" -m pip install -q --upgrade pip
"$py" -m pip install -q "torch==2.13.0"
"$py" -m pip install -q "$work"/dist/matting_gui-*.whl
cd "$work"
unset MATTING_MODELS MATTING_DATA
models=$("$py" -c "from matting_gui.core.files.paths import models_dir; print(models_dir())")
case "$models" in "$work/venv/"*) ;; *) echo "models found outside the installed wheel: $models"; exit 1;; esac
sample=$("$py" -c "from matting_gui.core.files.paths import resources_dir; print(resources_dir() / 'samples' / 'astronaut.png')")
"$work/venv/bin/matting-cli" --version
"$work/venv/bin/matting-cli" matte "$sample" --trimap "${sample%.png}_trimap.png" --out "$work/out" --threads 2
test -s "$work/out/astronaut_matte.png"
QT_QPA_PLATFORM=offscreen HOME="$work" "$work/venv/bin/matting-gui" --sample --self-test 240
echo "wheel check: passed"
