"""Exports of tubes and samples (registered with jobs.exports)."""
