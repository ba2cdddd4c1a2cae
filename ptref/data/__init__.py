"""LightningDataModules: the course's datasets, loaded from local files (download only when asked)."""

from ptref.data.house_price import HousePriceDataModule

__all__ = ["HousePriceDataModule"]
