"""Writes of inventory, one module per purpose; import from the submodule directly."""
