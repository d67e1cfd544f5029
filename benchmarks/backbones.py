"""Seconds per forward pass (and per training step) of each backbone on this machine's CPU.

Usage (from the repo root):
    .venv/bin/python benchmarks/backbones.py                      # paper backbones at 512,
                                                                  # fast candidates at 256/384/512
    .venv/bin/python benchmarks/backbones.py --backbones resnet50 mobilenetv3large --sizes 512
    .venv/bin/python benchmarks/backbones.py --train              # + forward/backward step, batch 2
    .venv/bin/python benchmarks/backbones.py --scratch ../shared/data/pbc --backbones resnet18slim
                                      # from-scratch proxy: PBC 8-class accuracy after N seconds

Forward: batch 1, inference mode, inside one tf.function per size, median of --repeats runs
after one warm-up. Train step: batch 2 (the paper's images per GPU), training-mode BN,
gradient of the summed feature means w.r.t. all weights (no optimizer update).
The CPU may be shared: rerun when numbers look noisy.

--scratch DIR: how well a backbone learns FROM SCRATCH, the default model's situation.
Backbone + global average pool of C5 + 8-way softmax, trained with Adam (1e-3, batch 32,
random flips) on the PBC train split at --scratch-size px for at most --scratch-steps steps
or --scratch-seconds of training, scored on the val split every --eval-every steps with BN in
inference mode (so slow BN statistics show up as a low score). Runs on any Keras backend:
KERAS_BACKEND=jax on a GPU machine gives learning curves per step quickly; the timing
columns only mean something on the CPU that the default model trains on.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from bloodview.model.backbones import registry  # noqa: E402


def _seconds(function, images, repeats: int) -> tuple[float, float]:
    """(median, fastest) seconds of ``repeats`` calls after a warm-up; on a shared CPU the
    fastest run is the better estimate of the machine's own speed."""
    function(images)  # trace + warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        outputs = function(images)
        [o.numpy() for o in outputs] if isinstance(outputs, (list, tuple)) else outputs.numpy()
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times)


def measure(spec, size: int, repeats: int, train: bool) -> tuple[tuple, tuple | None, int]:
    import tensorflow as tf

    model = registry.build_from_spec(spec, (size, size, 3))
    rng = np.random.default_rng(0)

    @tf.function
    def forward(images):
        return model(images, training=False)

    @tf.function
    def train_step(images):
        with tf.GradientTape() as tape:
            features = model(images, training=True)
            loss = tf.add_n([tf.reduce_mean(f) for f in features])
        grads = tape.gradient(loss, model.trainable_variables)
        return tf.add_n([tf.reduce_sum(g) for g in grads if g is not None])

    one = tf.constant(rng.uniform(0, 255, (1, size, size, 3)).astype("float32"))
    forward_s = _seconds(forward, one, repeats)
    train_s = None
    if train:
        two = tf.constant(rng.uniform(0, 255, (2, size, size, 3)).astype("float32"))
        train_s = _seconds(train_step, two, max(1, repeats // 2))
    return forward_s, train_s, model.count_params()


def load_pbc(root: Path, size: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{split: (uint8 images [N, size, size, 3] RGB, int labels [N])} from pbc/manifest.csv."""
    import csv

    import cv2

    rows = list(csv.DictReader((root / "manifest.csv").open()))
    classes = sorted({r["class"] for r in rows})
    data: dict[str, tuple[list, list]] = {}
    for row in rows:
        bgr = cv2.imread(str(root / row["class"] / row["file"]))
        image = cv2.resize(bgr, (size, size), interpolation=cv2.INTER_AREA)[..., ::-1]
        images, labels = data.setdefault(row["split"], ([], []))
        images.append(image)
        labels.append(classes.index(row["class"]))
    return {k: (np.stack(v[0]), np.array(v[1])) for k, v in data.items()}


def scratch_curve(
    spec, pbc: dict, size: int, seconds: float, max_steps: int, eval_every: int,
    momentum: float, seed: int, batch: int = 32,
) -> list[tuple[int, float, float]]:
    """Train backbone + linear classifier from random weights; [(steps, seconds, val acc)].

    Stops after ``max_steps`` or ``seconds`` of training, evaluating every ``eval_every``
    steps. Plain ``model.fit``, so it runs on any Keras backend (e.g. KERAS_BACKEND=jax).
    """
    import keras

    keras.utils.set_random_seed(seed)
    backbone = registry.build_from_spec(spec, (size, size, 3), batchnorm_momentum=momentum)
    inputs = keras.Input((size, size, 3))
    flipped = keras.layers.RandomFlip("horizontal_and_vertical", seed=seed)(inputs)
    pooled = keras.layers.GlobalAveragePooling2D()(backbone(flipped)[-1])
    model = keras.Model(inputs, keras.layers.Dense(8)(pooled))
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    curve: list[tuple[int, float, float]] = []
    val_x, val_y = pbc["val"]
    state = {"steps": 0, "start": time.perf_counter(), "eval_s": 0.0}

    class EvaluateEvery(keras.callbacks.Callback):
        """Scores val every ``eval_every`` steps; stops at ``max_steps`` or ``seconds``."""

        def on_train_batch_end(self, batch_index, logs=None):
            state["steps"] += 1
            trained_s = time.perf_counter() - state["start"] - state["eval_s"]
            done = state["steps"] >= max_steps or trained_s > seconds
            if state["steps"] % eval_every == 0 or done:
                eval_start = time.perf_counter()
                _, accuracy = self.model.evaluate(val_x, val_y, batch_size=64, verbose=0)
                state["eval_s"] += time.perf_counter() - eval_start
                curve.append((state["steps"], trained_s, float(accuracy)))
            if done:
                self.model.stop_training = True

    train_x, train_y = pbc["train"]
    model.fit(train_x.astype("float32"), train_y, batch_size=batch, shuffle=True, verbose=0,
              epochs=10**6, callbacks=[EvaluateEvery()])
    return curve


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backbones", nargs="*", help="names (registered or candidates)")
    parser.add_argument("--sizes", nargs="*", type=int, help="square input sides (multiples of 32)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--train", action="store_true", help="also time a training step (batch 2)")
    parser.add_argument("--scratch", type=Path, help="PBC folder: run the from-scratch proxy")
    parser.add_argument("--scratch-size", type=int, default=128)
    parser.add_argument("--scratch-seconds", type=float, default=120.0)
    parser.add_argument("--scratch-steps", type=int, default=300, help="at most this many steps")
    parser.add_argument("--eval-every", type=int, default=100, help="steps between val scores")
    parser.add_argument("--seeds", nargs="*", type=int, default=[0])
    parser.add_argument("--batchnorm-momentum", type=float, default=0.9)
    args = parser.parse_args(argv)

    specs = {s.name: s for s in registry.candidate_specs()}
    specs.update({n: registry.backbone_spec(n) for n in registry.available_backbones()})
    names = args.backbones or list(specs)
    if args.scratch:
        pbc = load_pbc(args.scratch, args.scratch_size)
        print(f"from scratch, {args.scratch_size} px, BN momentum {args.batchnorm_momentum}, "
              f"backend {os.environ.get('KERAS_BACKEND', 'tensorflow')}")
        print(f"{'backbone':18s} {'seed':>4s} {'steps':>6s} {'train s':>8s} {'val accuracy':>13s}")
        for seed in args.seeds:
            for name in names:
                curve = scratch_curve(
                    specs[name], pbc, args.scratch_size, args.scratch_seconds,
                    args.scratch_steps, args.eval_every, args.batchnorm_momentum, seed)
                for steps, taken, accuracy in curve:
                    print(f"{name:18s} {seed:4d} {steps:6d} {taken:8.0f} {accuracy:13.3f}",
                          flush=True)
        return 0
    print("seconds: median / fastest of --repeats runs")
    print(f"{'backbone':18s} {'params':>8s} {'size':>5s} {'forward s':>13s} {'train step s':>13s}")
    for name in names:
        spec = specs[name]
        sizes = args.sizes or ([512] if spec.paper else [256, 384, 512])
        for size in sizes:
            forward_s, train_s, params = measure(spec, size, args.repeats, args.train)
            train_text = f"{train_s[0]:6.3f}/{train_s[1]:6.3f}" if train_s else f"{'-':>13s}"
            print(f"{name:18s} {params / 1e6:7.2f}M {size:5d} {forward_s[0]:6.3f}/{forward_s[1]:6.3f}"
                  f" {train_text}", flush=True)
        import keras

        keras.backend.clear_session()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
