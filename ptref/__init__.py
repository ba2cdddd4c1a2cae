"""ptref: the classic TensorFlow course re-implemented in PyTorch + Lightning.

Every workflow is a ``LightningModule`` + ``LightningDataModule`` trained from the Lightning CLI
(``ptref fit --config experiments/....yaml``). TensorFlow is never imported by ``ptref`` itself:
the TensorFlow side of every concept lives in ``compare/``.
"""

__version__ = "0.1.0"
