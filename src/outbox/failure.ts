/**
 * How a job handler says why it failed when the failure is not a call to Wix (those reject with
 * WixCallError): retry later (no sooner than `retryAfterMs`, when the other side said so), or
 * give up at once.
 */
export class JobFailure extends Error {
  override name = 'JobFailure';
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly retryAfterMs?: number,
    options: { cause?: unknown } = {},
  ) {
    super(message, options);
  }
}
