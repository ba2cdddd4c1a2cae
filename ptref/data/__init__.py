"""LightningDataModules: the course's datasets, loaded from local files (download only when asked)."""

from ptref.data.mnist import MNISTDataModule

__all__ = ["MNISTDataModule"]
