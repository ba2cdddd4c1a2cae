"""LightningDataModules: the course's datasets, loaded from local files (download only when asked)."""
