"""The code that runs inside the sandbox, beside the student's: the worker, the wire
protocol, the limits launcher and the probes.

This folder is the trust boundary: it imports nothing of the project outside itself, so
the sandbox can show the worker a staged copy of just this folder and nothing else.
Everything here is visible to (and replaceable by) student code; nothing here decides.
"""
