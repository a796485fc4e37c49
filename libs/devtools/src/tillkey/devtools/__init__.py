"""Developer tooling: what `make run` starts, and the same thing started by the end-to-end tests."""
