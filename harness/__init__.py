"""Conformance and load-testing harness for voice-AI APIs.

The flow runs one way: ``contract`` (the documented promises, as data) ->
``audio`` (fixtures) -> emulator and clients -> suites and load scenarios ->
reports. Nothing downstream is imported upstream.
"""

__version__ = "0.1.0"
