import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The request a piece of work belongs to, without passing it down every call: createApp runs each
 * route handler inside one, and the audit log stamps its entries with it. Outside a request (the
 * worker, the CLI) there is none.
 */
export interface RequestContext {
  /** Onramp's own id for the request (its log lines carry it as `req.id`): never the client's */
  requestId: string;
  /** the `X-Request-Id` the client or a proxy sent, when it looked like one; kept to correlate, never trusted */
  clientRequestId: string | null;
}

const storage = new AsyncLocalStorage<RequestContext>();

const CLIENT_REQUEST_ID = /^[\w.-]{1,64}$/;

/** The request id a client sent in `X-Request-Id`, or null when there is none or it is not a short token. */
export function clientRequestIdOf(header: string | string[] | undefined): string | null {
  return typeof header === 'string' && CLIENT_REQUEST_ID.test(header) ? header : null;
}

export function inRequest<T>(context: RequestContext, fn: () => T): T {
  return storage.run({ ...context }, fn);
}

export function currentRequest(): RequestContext | null {
  return storage.getStore() ?? null;
}
