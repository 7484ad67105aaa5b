/**
 * Errors the user can fix. Each has a stable code and a one-line message that says what to do;
 * the extension shows it as is and the CLI prints it and exits 2. Any other thrown error is a
 * bug or an environment failure and goes to the log with its stack.
 */
export type UserErrorCode =
  | 'usage'
  | 'run-not-found'
  | 'run-ambiguous'
  | 'run-exists'
  | 'store-not-found'
  | 'store-unwritable'
  | 'invalid-envelope'
  | 'no-workspace'
  | 'invalid-notebook'
  | 'source-not-found'
  | 'python-not-usable'
  | 'invalid-config'
  | 'cannot-scaffold'
  | 'scaffold-conflict'
  | 'golden-failed'
  | 'invalid-data'
  | 'empty-dataset'
  | 'no-profile'
  | 'model-not-found'
  | 'version-not-found'
  | 'alias-not-found'
  | 'rollback-impossible'
  | 'model-file-not-found'
  /** A path read from a file (registry, envelope, saved state, config) leads outside the workspace or store. */
  | 'unsafe-path'
  /** A stored object no longer has the hash it is stored under. */
  | 'object-corrupt'
  /** The model file at a run's path is not the one the run wrote, and the run's copy was not kept. */
  | 'model-file-changed'
  /** A folder given as a generated service is not one, or its configuration cannot be read. */
  | 'not-a-service'
  | 'invalid-service'
  /** A file of labels for `nb2prod monitor labels` cannot be used. */
  | 'invalid-labels'
  /** An alert id of `nb2prod monitor ack|resolve` names no alert. */
  | 'alert-not-found';

export class UserError extends Error {
  override readonly name = 'UserError';
  constructor(
    readonly code: UserErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export function isUserError(error: unknown): error is UserError {
  return error instanceof UserError;
}
