// Test functions for the nodejs runtimes, written as for AWS Lambda (handler "index.<name>").

// Module-level state: initialised once per execution environment, kept across warm invokes.
const initAt = Date.now();
let count = 0;

export const echo = async (event) => event;

export const counter = async () => {
  count += 1;
  return { count, initAt };
};

export const error = async () => {
  throw new Error("boom");
};

export const sleep = async (event) => {
  const seconds = Number(event?.seconds ?? 1);
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  return { slept: seconds };
};

export const context = async (event, ctx) => ({
  awsRequestId: ctx.awsRequestId,
  remainingMs: ctx.getRemainingTimeInMillis(),
  invokedFunctionArn: ctx.invokedFunctionArn,
  functionName: ctx.functionName,
  functionVersion: ctx.functionVersion,
  memoryLimitInMB: ctx.memoryLimitInMB,
  logStreamName: ctx.logStreamName,
  clientContext: ctx.clientContext ?? null,
});
