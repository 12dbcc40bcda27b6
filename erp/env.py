"""The one environment reader; settings modules take every value from it."""

import environ

env = environ.Env()
