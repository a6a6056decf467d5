"""Exports of the sweep: the missed list (registered with jobs.exports)."""
