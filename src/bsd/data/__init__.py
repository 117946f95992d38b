"""Data modules and the sources they read from."""

from .images import ImageDataModule
from .sources import DataSourceError, load_arrays

__all__ = ["DataSourceError", "ImageDataModule", "load_arrays"]
