"""Statistical parity of the captcha chapter: ptref's CaptchaCNN and its Keras twin trained over seeds, each
framework with its own random draws (weights, dropout masks, shuffling), on one generated set; mean final
per-character test accuracy compared against the seed-to-seed spread.

    OMP_NUM_THREADS=1 python compare/captcha_statistical.py                # 3 seeds, the small default set
    python compare/captcha_statistical.py --seeds 0 1 2 3 4 --epochs 10 --width 160 --height 60

A script, not a test: a set small enough for a test of under a minute on two shared cores leaves both frameworks at
chance (10 % per character), where agreement proves nothing; the default here (600 / 200 captchas of 80 × 30,
per-head cross-entropy, 8 epochs of batch 32) is where learning starts.

The bound (:data:`compare.tolerances.CAPTCHA_STATISTICAL`): with n seeds and sample standard deviations s_k, s_p
of the per-seed accuracies, the difference of the two means has standard deviation σ_Δ = sqrt(s_k²/n + s_p²/n);
the means agree when |mean_k − mean_p| <= 3 σ_Δ.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere in the checkout

from ptref.parity.tf import import_keras  # noqa: E402  (the one TensorFlow bootstrap)

keras = import_keras()
import lightning.pytorch as pl  # noqa: E402
import numpy as np  # noqa: E402

from compare import captcha_keras as K  # noqa: E402
from compare.tolerances import CAPTCHA_STATISTICAL  # noqa: E402
from ptref.data.captcha import CaptchaDataModule  # noqa: E402
from ptref.models.captcha import CaptchaCNN  # noqa: E402


def keras_accuracy(data: CaptchaDataModule, seed: int, loss: str, epochs: int) -> float:
    """Per-character test accuracy of the Keras twin after ``fit(shuffle=True)`` (Keras's Adam, lr 1e-3)."""
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
    model.fit(x_train, targets, batch_size=hp.batch_size, epochs=epochs, shuffle=True, verbose=0)
    probabilities = model.predict(x_test, batch_size=hp.batch_size, verbose=0)
    if per_head:
        probabilities = np.concatenate(probabilities, axis=1)
    return K.accuracies(probabilities, i_test, len(hp.charset))["char_acc"]


def ptref_accuracy(data: CaptchaDataModule, seed: int, loss: str, epochs: int) -> float:
    """Per-character test accuracy of CaptchaCNN (Keras's init and Adam) after ``Trainer.fit``, by ``Trainer.test``."""
    hp = data.hparams
    pl.seed_everything(seed, verbose=False)
    model = CaptchaCNN(hp.charset, hp.length, hp.width, hp.height, loss=loss, init="keras")
    model.configure_callbacks = lambda: []
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
    n = len(args.seeds)
    means = {name: float(np.mean(values)) for name, values in runs.items()}
    spreads = {name: float(np.std(values, ddof=1)) if n > 1 else float("nan") for name, values in runs.items()}
    sigma = float(np.sqrt(sum(s**2 for s in spreads.values()) / n))
    gap = abs(means["keras"] - means["ptref"])
    for name in runs:
        print(f"{name}: mean {means[name]:.2f} %, seed-to-seed std {spreads[name]:.2f} points")
    chance = 100 / len(data.hparams.charset)
    agree = gap <= CAPTCHA_STATISTICAL.value * sigma
    print(f"|difference of means| {gap:.2f} points, sigma of that difference {sigma:.2f} points: "
          f"{gap / sigma if sigma else float('inf'):.2f} sigma (bound {CAPTCHA_STATISTICAL.value:g}): "
          f"{'agree' if agree else 'DIFFER'}; chance is {chance:.0f} %")
    return 0 if agree else 1


if __name__ == "__main__":
    sys.exit(main())
