/**
 * Errors the user can fix. Each has a stable code and a one-line message that says what to do;
 * the extension shows it as is and the CLI prints it and exits 2. Any other thrown error is a
 * bug or an environment failure and goes to the log with its stack.
 */
import { printable } from './printable';

export type UserErrorCode =
  | 'usage'
  | 'run-not-found'
  | 'run-ambiguous'
  | 'run-exists'
  | 'store-not-found'
  | 'store-unwritable'
  | 'store-unreadable'
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
  /** A version a generated service cannot serve (another input contract, the bare model of a composed one). */
  | 'deploy-refused'
  /** The model file at a run's path is not the one the run wrote, and the run's copy was not kept. */
  | 'model-file-changed'
  /** A replay needs a secret the run was given but nb2prod did not record (it must be given again). */
  | 'secret-needed'
  /** A notebook whose kernel is not Python (nb2prod runs notebooks in a Python kernel). */
  | 'unsupported-kernel'
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

/**
 * A message made safe to print on one line: control characters (terminal escape sequences,
 * carriage returns) shown as visible escapes (see printable.ts), and a line break kept only where
 * an indented line follows (a list the message itself lays out); any other break becomes a space.
 * So a file name or an argument echoed in an error can neither rewrite the terminal nor pass for
 * another line of output.
 */
export function oneLine(message: string): string {
  return message
    .trim()
    .replace(/\r?\n(?![ \t])/g, ' ')
    .split('\n')
    .map((line) => printable(line))
    .join('\n');
}

/** File system error codes that mean "something about the user's files", not a bug in nb2prod. */
const IO_PROBLEMS: Record<string, string> = {
  ENOENT: 'no such file or folder',
  EISDIR: 'it is a folder, not a file',
  ENOTDIR: 'a part of the path is a file, not a folder',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ELOOP: 'too many symbolic links (a loop?)',
  ENAMETOOLONG: 'the name is too long',
  EROFS: 'the file system is read-only',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EEXIST: 'it already exists',
  ENOTEMPTY: 'the folder is not empty',
  EMFILE: 'too many open files',
  EIO: 'input/output error',
  EBUSY: 'the file is busy',
  ETXTBSY: 'the file is busy',
  EXDEV: 'it is on another device',
  EINVAL: 'invalid argument',
};

/**
 * The one-line description of a file system error on a path (`ENOENT … open '/x'`), or null for
 * any other error. A folder where a file should be, a missing or unreadable file, a full disk:
 * the user can fix those, so they are reported like user errors rather than as crashes.
 */
export function describeIoError(error: unknown): string | null {
  const e = error as NodeJS.ErrnoException | null;
  if (!(e instanceof Error) || typeof e.code !== 'string' || !(e.code in IO_PROBLEMS)) return null;
  if (typeof e.syscall !== 'string') return null;
  const dest = (e as { dest?: unknown }).dest;
  const where = typeof e.path === 'string' ? ` ${e.path}${typeof dest === 'string' ? ` → ${dest}` : ''}` : '';
  const verb = { open: 'open', read: 'read', write: 'write', scandir: 'list', mkdir: 'create', rename: 'rename', unlink: 'remove', rmdir: 'remove', stat: 'read', lstat: 'read', copyfile: 'copy', link: 'link', symlink: 'link', utime: 'touch', access: 'read', realpath: 'resolve' }[e.syscall] ?? e.syscall;
  return `cannot ${verb}${where}: ${IO_PROBLEMS[e.code]} (${e.code})`;
}

/**
 * Node reports some file errors without the path (reading a folder: `EISDIR … read`). Adds it,
 * so that describeIoError can say which file.
 */
export function withPath(error: unknown, file: string): unknown {
  const e = error as NodeJS.ErrnoException | null;
  if (e instanceof Error && typeof e.code === 'string' && e.path === undefined) e.path = file;
  return error;
}
