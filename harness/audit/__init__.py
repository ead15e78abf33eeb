"""``harness audit-client``: judge someone else's client against the documented policy.

:mod:`.scenarios` (scenarios as data, TOML loading), :mod:`.runner` (an emulator per
scenario, the user's command as a bounded child), :mod:`.judge` (verdicts on the
emulator's own record, :mod:`harness.emulator.record`), :mod:`.report` (JSON, JUnit,
HTML with an attempt timeline per scenario).
"""
