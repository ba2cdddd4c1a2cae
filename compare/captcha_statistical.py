"""Statistical parity of the captcha chapter: ptref's CaptchaCNN and its Keras twin trained over seeds, each
framework with its own random draws (weights, dropout masks, shuffling), on one generated set; mean final
per-character test accuracy compared against the seed-to-seed spread.

    OMP_NUM_THREADS=1 python compare/captcha_statistical.py                # 3 seeds, the small default set
    python compare/captcha_statistical.py --seeds 0 1 2 3 4 --epochs 10 --width 160 --height 60

A script, not a test: a set small enough for a test of under a minute on two shared cores leaves both frameworks at
chance (10 % per character), where agreement proves nothing; the default here (600 / 200 captchas of 80 × 30,
per-head cross-entropy, 8 epochs of batch 32) is where learning starts, where a difference in how fast the two
learn shows most.

The test: Welch's two-sided t-test of the two means (no equal-variance assumption). With n_k, n_p seeds, means
m_k, m_p and sample variances s_k², s_p² of the per-seed accuracies,

    t = (m_p − m_k) / sqrt(s_k²/n_k + s_p²/n_p)
    ν = (s_k²/n_k + s_p²/n_p)² / ((s_k²/n_k)² / (n_k − 1) + (s_p²/n_p)² / (n_p − 1))   (Welch–Satterthwaite)
    p = I_{ν/(ν+t²)}(ν/2, 1/2)                                              (Student t, two-sided)

The means differ when p < α, α the two-sided tail of :data:`compare.tolerances.CAPTCHA_STATISTICAL` (3) standard
deviations of a normal, 0.27 %. With a handful of seeds ν is small and t's tails are heavy: |t| = 3 is not
significant at that level (ν = 4 needs |t| > 6.6, ν = 2 |t| > 19), which a normal "3 σ" rule misses.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere in the checkout

from ptref.parity.tf import import_keras  # the one TensorFlow bootstrap

keras = import_keras()
import lightning.pytorch as pl  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from compare import captcha_keras as K  # noqa: E402
from compare.tolerances import CAPTCHA_STATISTICAL  # noqa: E402
from ptref.data.captcha import CaptchaDataModule  # noqa: E402
from ptref.models.captcha import CaptchaCNN  # noqa: E402


def keras_accuracy(data: CaptchaDataModule, seed: int, loss: str, epochs: int) -> float:
    """Per-character test accuracy of the Keras twin after :func:`compare.captcha_keras.fit` (a new order of the
    examples every epoch; Keras's Adam, lr 1e-3)."""
    hp = data.hparams
    keras.utils.set_random_seed(seed)
    per_head = loss == "per_head_cross_entropy"
    model = K.captcha_model(len(hp.charset), hp.length, hp.height, hp.width, concatenate=not per_head)
    (x_train, y_train, i_train), (x_test, _, i_test) = K.course_arrays(data, "train"), K.course_arrays(data, "test")
    if per_head:  # Keras sums its outputs' losses, as CaptchaCNN's per-head loss does
        model.compile(keras.optimizers.Adam(1e-3), loss=["sparse_categorical_crossentropy"] * hp.length)
        targets = list(i_train.T)
    else:
        model.compile(keras.optimizers.Adam(1e-3), loss=loss)
        targets = y_train
    K.fit(model, x_train, targets, hp.batch_size, epochs, seed, verbose=0)
    probabilities = model.predict(x_test, batch_size=hp.batch_size, verbose=0)
    if per_head:
        probabilities = np.concatenate(probabilities, axis=1)
    return K.accuracies(probabilities, i_test, len(hp.charset))["char_acc"]


def ptref_accuracy(data: CaptchaDataModule, seed: int, loss: str, epochs: int) -> float:
    """Per-character test accuracy of CaptchaCNN (Keras's init and Adam) after ``Trainer.fit``, by ``Trainer.test``."""
    hp = data.hparams
    pl.seed_everything(seed, verbose=False)
    model = CaptchaCNN(hp.charset, hp.length, hp.width, hp.height, loss=loss, init="keras")
    trainer = pl.Trainer(max_epochs=epochs, accelerator="cpu", devices=1, logger=False, enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False, limit_val_batches=0)
    trainer.fit(model, datamodule=data)
    return trainer.test(model, datamodule=data, verbose=False)[0]["test_char_acc"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--loss", default="per_head_cross_entropy",
                        choices=["binary_crossentropy", "mean_squared_error", "poisson", "per_head_cross_entropy"])
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--batch_size", type=int, default=32)
    parser.add_argument("--n_train", type=int, default=600)
    parser.add_argument("--n_test", type=int, default=200)
    parser.add_argument("--width", type=int, default=80)
    parser.add_argument("--height", type=int, default=30)
    parser.add_argument("--data_seed", type=int, default=0, help="the generated set's seed (one set for all runs)")
    parser.add_argument("--cache_dir", default=None, help="where the set is cached (default: a temporary folder)")
    args = parser.parse_args()
    if len(args.seeds) < 2:
        parser.error("--seeds: Welch's t-test needs at least 2 seeds per framework")
    with tempfile.TemporaryDirectory() as temporary:
        data = CaptchaDataModule(cache_dir=args.cache_dir or temporary, seed=args.data_seed, n_train=args.n_train,
                                 n_test=args.n_test, width=args.width, height=args.height, batch_size=args.batch_size)
        data.prepare_data()
        data.setup("fit")
        runs: dict[str, list[float]] = {"keras": [], "ptref": []}
        for seed in args.seeds:
            runs["keras"].append(100 * keras_accuracy(data, seed, args.loss, args.epochs))
            runs["ptref"].append(100 * ptref_accuracy(data, seed, args.loss, args.epochs))
            print(f"seed {seed}: per-character test accuracy keras {runs['keras'][-1]:.2f} %, "
                  f"ptref {runs['ptref'][-1]:.2f} %", flush=True)
    for name, values in runs.items():
        print(f"{name}: mean {np.mean(values):.2f} %, seed-to-seed std {np.std(values, ddof=1):.2f} points "
              f"(n = {len(values)})")
    t, nu, p = welch(runs["keras"], runs["ptref"])
    alpha = math.erfc(CAPTCHA_STATISTICAL.value / math.sqrt(2))
    differ = p < alpha
    print(f"Welch's t-test, two-sided: t = {t:.2f}, {nu:.1f} degrees of freedom, p = {p:.2g}; "
          f"alpha = {alpha:.2g} (the tail of {CAPTCHA_STATISTICAL.value:g} sigma of a normal): "
          f"{'the means DIFFER' if differ else 'no significant difference'}; "
          f"chance is {100 / len(data.hparams.charset):.0f} %")
    return 1 if differ else 0


def welch(a: list[float], b: list[float]) -> tuple[float, float, float]:
    """Welch's t-test of mean(b) − mean(a): ``(t, degrees of freedom ν, two-sided p)`` (formulas in the module
    docstring; ``p`` from the regularized incomplete beta function)."""
    if len(a) < 2 or len(b) < 2:
        raise ValueError(f"Welch's t-test needs at least 2 values per sample, got {len(a)} and {len(b)}")
    va, vb = np.var(a, ddof=1) / len(a), np.var(b, ddof=1) / len(b)
    if va + vb == 0:
        return (0.0, math.inf, 1.0) if np.mean(a) == np.mean(b) else (math.inf, math.inf, 0.0)
    t = float((np.mean(b) - np.mean(a)) / math.sqrt(va + vb))
    nu = float((va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1)))
    p = float(tf.math.betainc(*(tf.constant(value, tf.float64) for value in (nu / 2, 0.5, nu / (nu + t * t)))))
    return t, nu, p

if __name__ == "__main__":
    sys.exit(main())
