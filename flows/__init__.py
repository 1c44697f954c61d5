"""The imperative shell of rounds: Prefect flows, the command line, files and state."""
