"""``transitions``' own test suite, run against the signaling twin of every machine class.

``python -m tests.transitions_suite`` fetches the sdist of the installed ``transitions``
(``pip download``, cached in ``.cache/transitions-suite``), runs its tests once with the
plain classes and once with every machine class replaced by its ``statesignals`` twin
(:mod:`tests.transitions_suite.twins`), and fails if a test that passes with the plain
classes does not pass with the twins.
"""
