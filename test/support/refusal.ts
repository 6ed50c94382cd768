import { ApiError } from '../../apps/auth-service/src/common/api-error';

export interface Refusal {
  code: string;
  status: number;
  message: string;
}

/**
 * What a call refused with, in the API's terms (code, HTTP status, message). Fails when the call
 * succeeded or threw anything but an ApiError: a unit spec of a service expects a documented error.
 */
export async function refusal(call: Promise<unknown>): Promise<Refusal> {
  const outcome = await call.then(
    (value: unknown) => ({ value }),
    (error: unknown) => ({ error }),
  );
  if (!('error' in outcome)) throw new Error(`expected a refusal, got ${String(outcome.value)}`);
  if (!(outcome.error instanceof ApiError))
    throw new Error(`expected an ApiError, got ${String(outcome.error)}`);
  const { code, message } = outcome.error;
  return { code, status: outcome.error.getStatus(), message };
}

/** The error code a call refused with. */
export async function codeOf(call: Promise<unknown>): Promise<string> {
  return (await refusal(call)).code;
}
