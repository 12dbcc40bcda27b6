"""The webhook intake benchmark: a gunicorn app with a trivial view next to ours."""
