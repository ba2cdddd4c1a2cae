"""LightningModules: one per course workflow."""

from ptref.models.captcha import CaptchaCNN
from ptref.models.cnn import CNN
from ptref.models.linear_regression import LinearRegression
from ptref.models.mlp import MLP, SoftmaxRegression

__all__ = ["CNN", "CaptchaCNN", "LinearRegression", "MLP", "SoftmaxRegression"]
