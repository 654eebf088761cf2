"""Instructor-side grading of a whole class: discovery, a resumable store, parallel executors, outputs.

`gengrade batch` (grader/commands/batch.py) wires these together: `discover` finds one
entry per student, `store` remembers finished gradings in SQLite, `local`/`dask_executor`
grade in separate processes with a warm worker each, and `gradebook`/`html_report`
write what an instructor reads.
"""
