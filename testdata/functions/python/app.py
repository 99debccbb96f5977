"""Test functions for the python3.x runtimes, written as for AWS Lambda (handler "app.<name>")."""

import os
import sys
import time

# Module-level state: initialised once per execution environment (at init), kept across warm invokes.
INIT_AT = time.time()
COUNT = 0


def echo(event, context):
    return event


def counter(event, context):
    global COUNT
    COUNT += 1
    return {"count": COUNT, "init_at": INIT_AT}


ENV_NAMES = (
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_RUNTIME_API",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_EXECUTION_ENV",
    "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
    "_HANDLER",
    "TZ",
    "LANG",
    "PATH",
    "LD_LIBRARY_PATH",
    "PYTHONPATH",
    "HOME",
    "MY_VAR",
)


def env(event, context):
    """Selected environment variables (None when unset), plus any names listed in event["names"]."""
    names = list(ENV_NAMES)
    if isinstance(event, dict):
        names += [n for n in event.get("names", []) if isinstance(n, str)]
    out = {name: os.environ.get(name) for name in names}
    out["_cwd"] = os.getcwd()
    out["_has_credentials"] = bool(os.environ.get("AWS_ACCESS_KEY_ID"))
    return out


def context(event, context):
    client_context = context.client_context
    custom = getattr(client_context, "custom", None) if client_context is not None else None
    return {
        "aws_request_id": context.aws_request_id,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "invoked_function_arn": context.invoked_function_arn,
        "function_name": context.function_name,
        "function_version": context.function_version,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name,
        "client_context_custom": custom,
        "trace_id": os.environ.get("_X_AMZN_TRACE_ID"),
    }


def error(event, context):
    raise ValueError("boom")


def sleep(event, context):
    seconds = float(event.get("seconds", 1)) if isinstance(event, dict) else 1.0
    time.sleep(seconds)
    return {"slept": seconds}


def crash(event, context):
    sys.stdout.flush()
    os._exit(3)


def oom(event, context):
    """Allocates 16 MB blocks (touched, so they are resident) until the process is killed.

    Bounded: gives up after event["max_mb"] (default 4096) MB and returns how much it held.
    """
    max_mb = int(event.get("max_mb", 4096)) if isinstance(event, dict) else 4096
    blocks = []
    held = 0
    while held < max_mb:
        blocks.append(bytearray(16 * 1024 * 1024))
        blocks[-1][::4096] = b"\x01" * (16 * 1024 * 1024 // 4096)
        held += 16
    return {"survived_mb": held}


def big(event, context):
    """Returns a JSON string of event["bytes"] bytes in total (the quotes included)."""
    n = int(event["bytes"])
    return "x" * max(n - 2, 0)


def log(event, context):
    n = int(event.get("lines", 10)) if isinstance(event, dict) else 10
    for i in range(n):
        print(f"log line {i}")
    print("to stderr", file=sys.stderr)
    return {"lines": n}
