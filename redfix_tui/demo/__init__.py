"""The embedded demo: a simulated cc-ci node served over a real in-process SSH server."""
