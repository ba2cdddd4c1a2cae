"""LightningModules: one per course workflow."""
