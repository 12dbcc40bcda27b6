"""gunicorn settings of the intake benchmark: the project's, without the access log."""

# The access log would write a line per request to the terminal being measured; every
# other setting comes from the command line of bench_webhooks.
accesslog = None
