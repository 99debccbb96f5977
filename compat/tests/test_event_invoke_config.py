"""Event invoke configs through boto3: the asynchronous-invocation settings per qualifier (§1.4)."""

import pytest
from botocore.exceptions import ClientError

import support


def _fn(lam) -> str:
    name = support.unique("eic")
    lam.create_function(FunctionName=name, Runtime="python3.12", Role=support.ROLE, Handler="index.handler",
                        Code={"ZipFile": support.make_zip()})
    return name


def _error(exc: pytest.ExceptionInfo) -> tuple[int, str, str]:
    r = exc.value.response
    return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"], r["Error"]["Message"]


def test_put_get_update_list_delete(lam):
    name = _fn(lam)
    queue = f"arn:aws:sqs:{support.REGION}:{support.DEV_ACCOUNT}:failures"
    put = lam.put_function_event_invoke_config(
        FunctionName=name, MaximumRetryAttempts=1,
        DestinationConfig={"OnFailure": {"Destination": queue}})
    assert put["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert put["FunctionArn"] == support.fn_arn(name, "$LATEST")
    assert put["MaximumRetryAttempts"] == 1 and "MaximumEventAgeInSeconds" not in put
    assert put["DestinationConfig"] == {"OnSuccess": {}, "OnFailure": {"Destination": queue}}
    got = lam.get_function_event_invoke_config(FunctionName=name)
    assert got["DestinationConfig"] == put["DestinationConfig"] and got["MaximumRetryAttempts"] == 1
    # Update merges; Put replaces.
    up = lam.update_function_event_invoke_config(FunctionName=name, MaximumEventAgeInSeconds=120)
    assert up["MaximumRetryAttempts"] == 1 and up["MaximumEventAgeInSeconds"] == 120
    assert up["DestinationConfig"]["OnFailure"] == {"Destination": queue}
    rep = lam.put_function_event_invoke_config(FunctionName=name, MaximumEventAgeInSeconds=60)
    assert "MaximumRetryAttempts" not in rep and rep["DestinationConfig"] == {"OnSuccess": {}, "OnFailure": {}}
    lam.publish_version(FunctionName=name)
    lam.put_function_event_invoke_config(FunctionName=name, Qualifier="1", MaximumRetryAttempts=0)
    listed = lam.list_function_event_invoke_configs(FunctionName=name)["FunctionEventInvokeConfigs"]
    assert sorted(c["FunctionArn"] for c in listed) == sorted([support.fn_arn(name, "$LATEST"), support.fn_arn(name, "1")])
    d = lam.delete_function_event_invoke_config(FunctionName=name, Qualifier="1")
    assert d["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as e:
        lam.get_function_event_invoke_config(FunctionName=name, Qualifier="1")
    assert _error(e) == (404, "ResourceNotFoundException",
                         f"The function {support.fn_arn(name, '1')} doesn't have an EventInvokeConfig")


@pytest.mark.parametrize("kwargs,status,code,message", [
    ({}, 400, "InvalidParameterValueException",
     "You must specify at least one of error handling or destination setting."),
    ({"MaximumRetryAttempts": 3}, 400, "ValidationException",
     "1 validation error detected: Value '3' at 'maximumRetryAttempts' failed to satisfy constraint: "
     "Member must have value less than or equal to 2"),
    ({"MaximumEventAgeInSeconds": 21601}, 400, "ValidationException",
     "1 validation error detected: Value '21601' at 'maximumEventAgeInSeconds' failed to satisfy constraint: "
     "Member must have value less than or equal to 21600"),
    ({"DestinationConfig": {"OnSuccess": {"Destination": "arn:aws:s3:::bucket"}}}, 400,
     "InvalidParameterValueException",
     "The provided destination config DestinationConfig(onSuccess=OnSuccess(destination=arn:aws:s3:::bucket), "
     "onFailure=null) is invalid."),
])
def test_put_rejects_what_aws_rejects_and_changes_nothing(lam, kwargs, status, code, message):
    name = _fn(lam)
    with pytest.raises(ClientError) as e:
        lam.put_function_event_invoke_config(FunctionName=name, **kwargs)
    assert _error(e) == (status, code, message)
    with pytest.raises(ClientError) as e:
        lam.get_function_event_invoke_config(FunctionName=name)
    assert _error(e)[0] == 404


def test_lambda_destinations_must_exist_and_not_be_itself(lam):
    name = _fn(lam)
    missing = support.fn_arn("no-such-function")
    with pytest.raises(ClientError) as e:
        lam.put_function_event_invoke_config(FunctionName=name, DestinationConfig={"OnFailure": {"Destination": missing}})
    assert _error(e) == (400, "InvalidParameterValueException", f"The destination ARN {missing} is invalid.")
    with pytest.raises(ClientError) as e:
        lam.put_function_event_invoke_config(FunctionName=name,
                                             DestinationConfig={"OnSuccess": {"Destination": support.fn_arn(name)}})
    assert _error(e) == (400, "InvalidParameterValueException", "You can't specify the function as a destination for itself.")
    other = _fn(lam)
    ok = lam.put_function_event_invoke_config(FunctionName=name,
                                              DestinationConfig={"OnSuccess": {"Destination": support.fn_arn(other)}})
    assert ok["DestinationConfig"]["OnSuccess"] == {"Destination": support.fn_arn(other)}


def test_missing_function_or_config(lam):
    with pytest.raises(ClientError) as e:
        lam.put_function_event_invoke_config(FunctionName=support.unique("none"), MaximumRetryAttempts=1)
    assert _error(e) == (404, "ResourceNotFoundException", "The function doesn't exist.")
    name = _fn(lam)
    with pytest.raises(ClientError) as e:
        lam.update_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=1)
    assert _error(e) == (404, "ResourceNotFoundException",
                         f"The function {support.fn_arn(name, '$LATEST')} doesn't have an EventInvokeConfig")
