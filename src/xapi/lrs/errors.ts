/** An xAPI request the LRS refuses, with the status the spec gives it. */
export class XapiError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 409 | 412 | 428,
    message: string,
  ) {
    super(message);
  }
}
