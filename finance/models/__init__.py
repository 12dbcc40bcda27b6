"""Finance models, one module per aggregate; Django discovers them through this package."""

from finance.models.fx import ExchangeRate

__all__ = ["ExchangeRate"]
