/**
 * Domain errors. No HTTP in here: src/http/middleware/errors.ts maps each kind to a status code.
 */
export interface FieldProblem {
  /** where the problem is, e.g. "body.email" or "managerEmail" */
  path: string;
  message: string;
}

export class DomainError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

export class NotFound extends DomainError {}
/** The caller is known but may not do this. */
export class Forbidden extends DomainError {}
/** The caller is not signed in (or the credentials are wrong). */
export class Unauthenticated extends DomainError {}
/** The request conflicts with the current state (duplicate email, manager with reps, …). */
export class Conflict extends DomainError {}
export class TooManyRequests extends DomainError {
  constructor(message: string, readonly retryAfterSeconds: number) {
    super(message);
  }
}
/** A dependency (database, Redis) is unavailable: fail fast, the caller may retry. */
export class Unavailable extends DomainError {}

export class ValidationFailed extends DomainError {
  constructor(readonly problems: FieldProblem[], message = 'Some of the input is not valid.') {
    super(message);
  }
}

/** A step the sequencing engine does not allow yet; `reasons` say why, in the rep's words. */
export class GateLocked extends DomainError {
  constructor(
    message: string,
    readonly reasons: string[],
  ) {
    super(message);
  }
}
