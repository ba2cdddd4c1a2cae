"""LightningDataModules: the course's datasets, loaded from local files (download only when asked)."""

from ptref.data.captcha import CaptchaDataModule
from ptref.data.house_price import HousePriceDataModule
from ptref.data.line import LineDataModule
from ptref.data.mnist import MNISTDataModule
from ptref.data.npz import NpzDataModule

__all__ = ["CaptchaDataModule", "HousePriceDataModule", "LineDataModule", "MNISTDataModule", "NpzDataModule"]
