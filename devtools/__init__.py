"""Offline stand-ins for the outside services Tollgate talks to, for `./dev up` with no keys set, the tests and the
benchmarks. Never imported by the running platform's own code."""
