"""Carrier adapters behind one interface (base.py): karrio-backed API carriers, rate cards."""

from loguru import logger as _karrio_logger

# karrio logs every request through loguru to stderr, already while it is imported;
# this package imports it, so it is silenced first. Our own records (quotes,
# shipments, tracking events, errors) are what ops read.
_karrio_logger.disable("karrio")
