/**
 * `unversioned-data`: a local data file read that nothing pins — not committed to git, not
 * tracked by DVC or git LFS. A run of such a notebook cannot be tied to the data it read, so its
 * results cannot be reproduced or even explained later.
 *
 * A file the notebook itself writes before it reads it (`np.save` then `np.load`, `to_csv` then
 * `read_csv`, `%%writefile`, a download saved by `urlretrieve` or `!wget`) is its own output, not
 * an input. Data downloaded at run time is `runtime-download`'s, not reported here. Relative paths
 * follow the notebook's `os.chdir`/`%cd`, and each file is reported once, at its first read.
 */
import type { PlatformPath } from 'node:path';
import type { CallFact, Expr } from '../python/analyze';
import { comparePositions, type NotebookModel, type Position } from '../model';
import type { Rule } from '../rule';
import { argumentAt, forwardSlashes, partialString, type PathUse, pathApiFor, pathUses, shorten } from './dataPaths';
import { downloadOf, expand, program, shellCommands, urlBasename } from './shellCommands';

export const unversionedData: Rule = {
  id: 'unversioned-data',
  defaultSeverity: 'warning',
  summary: 'A local data file read that no version control pins.',
  help: 'Commit the file to git, or track it with DVC (`dvc add`) or git LFS.',
  appliesTo: ['notebook', 'script'],
  check({ model, target, project, report }) {
    const api = pathApiFor(project.root);
    const folders = new WorkingFolders(model, api.dirname(target.path), api);
    const uses = pathUses(model);
    const written = writtenPaths(model, uses, folders, api);
    const reported = new Set<string>();
    for (const use of uses) {
      if (use.kind !== 'read') continue;
      const value = model.stringValue(use.path, use.at);
      // Unknown at lint time (a variable, an f-string field): nothing to say.
      if (value === null || value.includes('{}') || !value.trim()) continue;
      // URLs and remote storage are runtime-download's.
      if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value) || /[*?[]/.test(value) || value.startsWith('~') || value === '-' || /^\/(dev|proc|sys)\//.test(value)) continue;
      const folder = folders.at(use.at);
      if (folder === null) continue;
      const absolute = api.resolve(folder, value);
      if (reported.has(absolute) || isWrittenBefore(absolute, use.at, written, api)) continue;
      const relative = api.relative(project.root, absolute);
      // Outside the project nothing here can version it (absolute-path reports machine paths).
      if (!relative || relative.startsWith('..') || api.isAbsolute(relative)) continue;
      if (project.versioning(absolute) !== 'untracked') continue;
      reported.add(absolute);
      const shown = forwardSlashes(relative);
      report({
        cell: use.cell,
        span: use.span,
        message: `\`${shorten(shown)}\` is not tracked by git, DVC or git LFS: commit it (\`git add ${quoteShell(shown)}\`), or track it with \`dvc add ${quoteShell(shown)}\`, so a run can be tied to the data it read.`,
      });
    }
  },
};

// ---- the working folder ---------------------------------------------------------------------

/**
 * The folder relative paths resolve against at each point: the notebook's, moved by module-level
 * `os.chdir(...)` and `%cd ...` in notebook order. Null after a move to a folder whose name is
 * not known.
 */
class WorkingFolders {
  private readonly moves: Array<{ at: Position; to: string | null }> = [];

  constructor(
    model: NotebookModel,
    private readonly start: string,
    private readonly api: PlatformPath,
  ) {
    for (const { cell, call, at } of model.calls()) {
      if (call.timing !== 'immediate' || model.calleePath(call, at) !== 'os.chdir') continue;
      const arg = argumentAt(call, { position: 0, keywords: ['path'] });
      const value = arg ? model.stringValue(arg.value, at) : null;
      this.moves.push({ at: { cell, offset: call.span.from }, to: value === null || value.includes('{}') ? null : value });
    }
    for (const { cell, facts } of model.codeCells()) {
      for (const magic of facts.magics) {
        const target = magic.kind === 'line' ? /^cd\s+(.+?)\s*$/.exec(magic.command)?.[1] : undefined;
        if (target === undefined) continue;
        const at = { cell, offset: magic.from };
        const value = /[{$]/.test(target) || target.startsWith('-') ? null : target.replace(/^(['"])(.*)\1$/, '$2');
        this.moves.push({ at, to: value === null || value.startsWith('~') ? null : value });
      }
    }
    this.moves.sort((a, b) => comparePositions(a.at, b.at));
  }

  at(position: Position): string | null {
    let folder: string | null = this.start;
    for (const move of this.moves) {
      if (comparePositions(move.at, position) >= 0) break;
      folder = move.to === null || folder === null ? null : this.api.resolve(folder, move.to);
    }
    return folder;
  }
}

// ---- what the notebook writes ---------------------------------------------------------------

interface Written {
  absolute: string;
  at: Position;
  /** For a path with unknown parts (`datasets/{}`): what it matches. */
  pattern: RegExp | null;
}

/** Calls whose second path argument is a file they create: copies, moves, renames. */
const COPIES: ReadonlySet<string> = new Set(['shutil.copy', 'shutil.copy2', 'shutil.copyfile', 'shutil.copytree', 'shutil.move', 'os.rename', 'os.replace']);

/** `np.save("a", x)` writes `a.npy`; `np.savez("a", ...)` writes `a.npz`. */
const ADDED_SUFFIX: ReadonlyMap<string, string> = new Map([
  ['numpy.save', '.npy'],
  ['numpy.savez', '.npz'],
  ['numpy.savez_compressed', '.npz'],
]);

/** Files (and folders) the notebook writes itself, with where. */
function writtenPaths(model: NotebookModel, uses: readonly PathUse[], folders: WorkingFolders, api: PlatformPath): Written[] {
  const written: Written[] = [];
  const add = (value: string | null, at: Position, folder: string | null = folders.at(at)): void => {
    if (value === null || !value.trim() || folder === null || /^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return;
    const absolute = api.resolve(folder, value);
    if (!value.includes('{}')) {
      written.push({ absolute, at, pattern: null });
      return;
    }
    // A name not known before running (`os.path.join("datasets", name)`): any file of that
    // shape in a known folder. A path with no known folder would match too much.
    if (!/[\\/]/.test(value.slice(0, value.indexOf('{}')))) return;
    const source = absolute.split('{}').map((s) => s.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/[{}]/g, '\\$&')).join('[^\\\\/]*');
    written.push({ absolute, at, pattern: new RegExp(`^${source}(?:[\\\\/].*)?$`) });
  };
  for (const use of uses) {
    const value = (): string | null => partialString(model, use.path, use.at);
    if (use.kind === 'write') {
      const path = value();
      const suffix = ADDED_SUFFIX.get(use.callee);
      add(path !== null && suffix && !path.endsWith(suffix) ? path + suffix : path, use.at);
    } else if (COPIES.has(use.callee) && isDestination(use.call, use.path)) add(value(), use.at);
  }
  for (const { cell, facts } of model.codeCells()) {
    for (const magic of facts.magics) {
      // `%%writefile [-a] path` and `%%file path`: the cell's text becomes that file.
      const target = magic.kind === 'cell' ? /^(?:writefile|file)\s+(?:-a\s+)?(\S+)/.exec(magic.command)?.[1] : undefined;
      if (target) add(expand(model, target.replace(/^(['"])(.*)\1$/, '$2'), { cell, offset: magic.from }), { cell, offset: magic.from });
    }
  }
  for (const command of shellCommands(model)) {
    const at = command.at;
    const notebookFolder = folders.at(at);
    const folder = command.cwdUnknown || notebookFolder === null ? null : api.resolve(notebookFolder, command.cwd || '.');
    const put = (word: string): void => add(expand(model, word, at), at, folder);
    for (const redirect of command.redirects) put(redirect.text);
    const download = downloadOf(command);
    if (download) {
      for (const output of download.outputs) put(output.text);
      if (download.remoteNameDir !== null) {
        for (const url of download.urls) {
          const base = urlBasename(expand(model, url.text, at));
          if (base && !base.includes('{}')) put(download.remoteNameDir ? `${download.remoteNameDir}/${base}` : base);
        }
      }
      continue;
    }
    const run = program(command);
    if (!run) continue;
    const plain = run.args.filter((w) => !w.text.startsWith('-')).map((w) => w.text);
    const optionValue = (...flags: string[]): string | undefined => {
      const i = run.args.findIndex((w) => flags.includes(w.text));
      return i >= 0 ? run.args[i + 1]?.text : undefined;
    };
    switch (run.name) {
      case 'gunzip':
      case 'bunzip2':
      case 'unxz':
        for (const file of plain) put(file.replace(/\.(gz|bz2|xz)$/, ''));
        break;
      case 'unzip': {
        const dir = optionValue('-d');
        if (dir) put(dir);
        break;
      }
      case 'tar': {
        const dir = optionValue('-C', '--directory');
        if (dir) put(dir);
        break;
      }
      case 'cp':
      case 'mv':
        if (plain.length >= 2) put(plain.at(-1)!);
        break;
      case 'git':
        if (plain[0] === 'clone' && plain[1]) put(plain[2] ?? urlBasename(expand(model, plain[1], at))?.replace(/\.git$/, '') ?? '');
        break;
      case 'kaggle': {
        const dir = optionValue('-p', '--path');
        if (dir) put(dir);
        break;
      }
    }
  }
  return written;
}

/** Whether `path` is the destination (second) argument of a copy. */
function isDestination(call: CallFact, path: Expr): boolean {
  return argumentAt(call, { position: 1, keywords: ['dst'] })?.value === path;
}

/** Written (as that file, or inside that folder) before the read at `at`. */
function isWrittenBefore(absolute: string, at: Position, written: readonly Written[], api: PlatformPath): boolean {
  return written.some((w) => comparePositions(w.at, at) < 0 && (w.pattern ? w.pattern.test(absolute) : w.absolute === absolute || absolute.startsWith(w.absolute + api.sep)));
}

function quoteShell(value: string): string {
  return /^[\w./@%+=:,-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}
