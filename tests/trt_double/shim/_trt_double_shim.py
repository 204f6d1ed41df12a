"""Shared by the shim packages: find ``tests/`` from this file and install the double from the environment.

The shim's ``tensorrt`` and ``cuda`` packages import this module (the shim folder is on PYTHONPATH); its name
is chosen not to collide with anything a kernel imports.
"""
import os
import sys


def install():
    tests = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    if tests not in sys.path:
        sys.path.append(tests)  # after everything else: the shim must not shadow the kernel's own modules
    import trt_double

    return trt_double.install_from_env()
