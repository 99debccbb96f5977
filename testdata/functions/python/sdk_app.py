"""A function written as for AWS's Python runtime: it imports the AWS SDK (which that runtime ships, so it
is not bundled) and builds its client once, outside the handler."""

import boto3

_LAMBDA = boto3.client("lambda", region_name="us-east-1")
_INITS = 0
_INITS += 1


def handler(event, context):
    return {"boto3": boto3.__version__, "client": type(_LAMBDA).__name__, "inits": _INITS}
