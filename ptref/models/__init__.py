"""LightningModules: one per course workflow."""

from ptref.models.linear_regression import LinearRegression

__all__ = ["LinearRegression"]
