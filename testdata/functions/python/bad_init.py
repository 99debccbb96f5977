"""Fails at import time, so the init phase fails (handler "bad_init.handler")."""

raise RuntimeError("init failed on purpose")


def handler(event, context):  # never reached
    return "unreachable"
