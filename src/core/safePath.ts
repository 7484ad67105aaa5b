/**
 * Paths that come from a file — the registry, a run envelope, a webview's saved state, the
 * project configuration — are data, not instructions: a cloned repository with a crafted
 * `.nb2prod` must not make nb2prod read or write outside the project. Every such path goes
 * through `containedPath` before it is opened: it is resolved against its base folder and must
 * lie inside one of the allowed roots (the workspace, the store), both as written and after
 * symbolic links are resolved (a link inside the workspace pointing out counts as out). A path
 * that fails is refused with one line saying what, where it came from and why.
 *
 * Paths the user types (CLI arguments, file dialogs) are theirs to choose and do not go
 * through here.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { UserError } from './errors';
import { printable } from './printable';

export interface ContainOptions {
  /** Relative paths are resolved against this folder. */
  base: string;
  /** The folders the path must lie in (at least one): the workspace, the store. */
  roots: readonly string[];
  /** Folders the path must not lie in even though a root contains them (e.g. the store, for a restored model file). */
  exclude?: readonly string[];
  /** What the path is, for the message: "the model file of churn v2". */
  what: string;
  /** Where it was read from, for the message: "registry.jsonl", "run 01J…". */
  from: string;
}

/** True when `child` is `parent` or below it (both absolute and normalised). */
export function isInsideFolder(parent: string, child: string): boolean {
  const relative = path.relative(parent, child);
  return relative === '' || (!relative.startsWith(`..${path.sep}`) && relative !== '..' && !path.isAbsolute(relative));
}

/**
 * The absolute path of `recorded`, after checking that it stays inside `roots` (and outside
 * `exclude`) as written and with every symbolic link resolved. The file itself need not exist:
 * its nearest existing ancestor is what is resolved.
 * @throws UserError 'unsafe-path' otherwise.
 */
export async function containedPath(recorded: string, options: ContainOptions): Promise<string> {
  const refuse = (why: string): never => {
    throw new UserError('unsafe-path', `Refused ${options.what}: "${printable(recorded, 200)}" (from ${options.from}) ${why}.`);
  };
  if (!recorded || recorded.includes('\0')) refuse('is not a usable path');
  const target = path.resolve(options.base, recorded);
  const roots = options.roots.map((r) => path.resolve(r));
  const exclude = (options.exclude ?? []).map((r) => path.resolve(r));
  const where = roots.length > 1 ? `the workspace (${roots[0]}) and the store` : `the workspace (${roots[0]})`;
  if (!roots.some((root) => isInsideFolder(root, target))) refuse(`is outside ${where}`);
  if (exclude.some((folder) => isInsideFolder(folder, target))) refuse('is inside the store, where no such file belongs');

  const real = await realPathOfNearest(target);
  if (real === null) refuse('goes through a symbolic link whose target does not exist');
  const realRoots = await Promise.all(roots.map((r) => fs.realpath(r).catch(() => r)));
  const realExclude = await Promise.all(exclude.map((r) => fs.realpath(r).catch(() => r)));
  if (!realRoots.some((root) => isInsideFolder(root, real!))) refuse(`leads outside ${where} through a symbolic link (to ${real})`);
  if (realExclude.some((folder) => isInsideFolder(folder, real!))) refuse('leads into the store through a symbolic link');
  return target;
}

/**
 * The real path of `target`, or of its nearest existing ancestor joined with the rest. Null when
 * a component is a symbolic link that points nowhere (writing through it would create its target,
 * wherever that is).
 */
async function realPathOfNearest(target: string): Promise<string | null> {
  const rest: string[] = [];
  for (let current = target; ; current = path.dirname(current)) {
    try {
      const real = await fs.realpath(current);
      return rest.length ? path.join(real, ...rest.reverse()) : real;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw error;
      // A dangling symbolic link exists (lstat) but cannot be resolved.
      const link = await fs.lstat(current).then((s) => s.isSymbolicLink(), () => false);
      if (link) return null;
    }
    if (path.dirname(current) === current) return path.join(current, ...rest.reverse());
    rest.push(path.basename(current));
  }
}

/**
 * A file a run page links to (the source, inputs, outputs, artifacts, lock file of an envelope),
 * resolved inside the workspace or the store before the editor opens it.
 */
export function linkedRunFile(recorded: string, workspace: string, storeRoot: string): Promise<string> {
  return containedPath(recorded, { base: workspace, roots: [workspace, storeRoot], what: 'to open a file the run page links to', from: 'the run file' });
}
