/**
 * `absolute-path`: paths that only exist on the author's machine — a home directory
 * (`/home/alice/...`, `/Users/alice/...`, `C:\Users\alice\...`, `~/...`), a Windows drive or
 * network share, a WSL, Colab or macOS mount, or the author's own checkout of the project. The
 * notebook fails with FileNotFoundError anywhere else.
 *
 * Home-directory paths are flagged wherever a string literal starts with one (few strings look
 * like that and are not paths); the weaker shapes (`~`, drive letters, mounts) only where the
 * literal is used as a path: passed to a read, a write, `open`, `Path`, `os.chdir`,
 * `sys.path.append`, or assigned to a name that is.
 */
import type { PlatformPath } from 'node:path';
import type { StringFact } from '../python/analyze';
import { stringTokenValue } from '../python/strings';
import type { Fix, Rule, RuleContext } from '../rule';
import { forwardSlashes, pathApiFor, pathLiterals, pathUses, shorten } from './dataPaths';

interface Shape {
  test: RegExp;
  what: string;
}

/** Flagged in any string literal: a path inside one user's home directory. */
const HOME_SHAPES: Shape[] = [
  { test: /^\/home\/(?!\{\})[^/\s]+/, what: "a path in one user's home directory" },
  { test: /^\/Users\/(?!\{\})[^/\s]+/, what: "a path in one user's home directory" },
  { test: /^[A-Za-z]:[\\/]Users[\\/](?!\{\})[^\\/\s]+/i, what: "a path in one user's home directory" },
];

/** Flagged only in literals used as paths. */
const MACHINE_SHAPES: Shape[] = [
  { test: /^\/root(\/|$)/, what: "a path in root's home directory" },
  { test: /^\/mnt\/[a-zA-Z](\/|$)/, what: 'a WSL mount of a Windows drive' },
  { test: /^\/Volumes\/[^/]+/, what: 'a path on a macOS volume' },
  { test: /^\/media\/[^/]+\/[^/]+/, what: 'a path on a removable drive' },
  { test: /^\/content\/drive(\/|$)/, what: 'a Google Drive mount in Colab' },
  { test: /^[A-Za-z]:[\\/]/, what: 'a Windows drive path' },
  { test: /^\\\\[^\\/]+[\\/][^\\/]+/, what: 'a network share path' },
  // `~` alone is "the home directory" (`expanduser("~")`, as portable as `Path.home()`); what is under it is not.
  { test: /^~[\\/]./, what: 'a path in the home directory of whoever runs it' },
];

/** Calls whose string arguments are URL routes, not paths (`@app.route("/home/about")`). */
const ROUTE_METHODS: ReadonlySet<string> = new Set([
  'route', 'get', 'post', 'put', 'patch', 'delete', 'head', 'options', 'websocket', 'api_route', 'add_url_rule', 'add_api_route',
  'path', 're_path', 'url', 'mount',
]);

/** A pattern over paths (a regular expression), not a path. Backslash classes only count in POSIX-looking text: `C:\data` is a path. */
const REGEX_LIKE = /\[\^|\.\*|\.\+|\(\?|^\^/;
const REGEX_CLASS = /\\[wdsWDSbB]/;

export const absolutePath: Rule = {
  id: 'absolute-path',
  defaultSeverity: 'warning',
  summary: "A path that only exists on the author's machine (a home directory, a drive letter, `~`).",
  help: 'Keep data inside the project and use a path relative to the notebook, or read the location from configuration or an environment variable.',
  appliesTo: ['notebook', 'script'],
  check(context) {
    const { model } = context;
    const reported = new Set<string>();
    const flag = (cell: number, literal: { value: string; formatted: boolean; span: StringFact['span'] }, usedAsPath: boolean): void => {
      const key = `${cell}:${literal.span.from}`;
      if (reported.has(key)) return;
      const problem = describe(context, literal.value, usedAsPath);
      if (!problem) return;
      reported.add(key);
      report(context, cell, literal, problem);
    };

    // Literals that end up as a path argument, wherever they were written.
    for (const use of pathUses(model)) {
      for (const { cell, literal } of pathLiterals(model, use.path, use.at)) flag(cell, literal, true);
    }

    // Home-directory paths anywhere, except route strings of web frameworks.
    const routeArgs = new Set<string>();
    for (const { cell, call } of model.calls()) {
      if (call.callee.kind === 'attribute' && ROUTE_METHODS.has(call.callee.name)) for (const arg of call.args) routeArgs.add(`${cell}:${arg.value.span.from}`);
    }
    for (const { cell, facts } of model.codeCells()) {
      for (const literal of facts.strings) {
        if (literal.bytes || routeArgs.has(`${cell}:${literal.span.from}`) || !describe(context, literal.value, false)) continue;
        if (facts.decorators.some((span) => span.from <= literal.span.from && literal.span.to <= span.to)) continue;
        flag(cell, literal, false);
      }
      // `%cd /home/alice/project`
      for (const magic of facts.magics) {
        if (magic.kind !== 'line' || !/^cd\s/.test(magic.command)) continue;
        const argument = magic.command.slice(2).trim().replace(/^(['"])(.*)\1$/, '$2');
        const problem = describe(context, argument, true);
        if (!problem) continue;
        const from = facts.source.indexOf(argument, magic.commandFrom);
        if (from < 0) continue;
        context.report({ cell, span: { from, to: from + argument.length }, message: message(argument, problem, null) });
      }
    }
  },
};

interface Problem {
  what: string;
  /** The path relative to the notebook's folder, when the absolute path is inside the project. */
  relative: string | null;
}

function describe({ project, target }: RuleContext, value: string, usedAsPath: boolean): Problem | null {
  if (!value || value.includes('\n') || REGEX_LIKE.test(value) || (value.startsWith('/') && REGEX_CLASS.test(value))) return null;
  const api = pathApiFor(project.root);
  const relative = insideProject(api, project.root, target.path, value);
  const home = HOME_SHAPES.find((shape) => shape.test.test(value));
  if (home) return { what: home.what, relative };
  if (!usedAsPath) return null;
  const machine = MACHINE_SHAPES.find((shape) => shape.test.test(value));
  if (machine) return { what: machine.what, relative };
  if (relative !== null) return { what: "an absolute path into the author's copy of the project", relative };
  return null;
}

/** `value` relative to the notebook's folder when it is an absolute path inside the project root. */
function insideProject(api: PlatformPath, root: string, file: string, value: string): string | null {
  if (!api.isAbsolute(value) || value.includes('{}') || api.parse(root).root === root) return null;
  const fromRoot = api.relative(root, value);
  if (fromRoot.startsWith('..') || api.isAbsolute(fromRoot)) return null;
  const relative = forwardSlashes(api.relative(api.dirname(file), value)) || '.';
  return /[\\/]$/.test(value) && relative !== '.' ? `${relative}/` : relative;
}

function message(value: string, problem: Problem, scriptRelative: string | null): string {
  const head = `\`${shorten(value)}\` is ${problem.what}: it only exists on the author's machine, so the code fails anywhere else (another machine, CI).`;
  if (scriptRelative !== null) return `${head} Build it from the script's folder instead: \`Path(__file__).parent / "${scriptRelative}"\`.`;
  if (problem.relative !== null) return `${head} Use a path relative to the notebook: \`${problem.relative}\`.`;
  return `${head} Move the data into the project and use a relative path, or read the location from configuration or an environment variable.`;
}

function report(context: RuleContext, cell: number, literal: { value: string; formatted: boolean; span: StringFact['span'] }, problem: Problem): void {
  const isScript = context.target.kind === 'script';
  const fixes: Fix[] = [];
  if (problem.relative !== null && !isScript) {
    const source = context.model.cells[cell]!.cell.source;
    const text = replacementLiteral(source.slice(literal.span.from, literal.span.to), literal.value, problem.relative);
    if (text !== null) {
      fixes.push({ title: `Make the path relative to the notebook: ${problem.relative}`, edits: [{ cell, span: literal.span, text }], preferred: true });
    }
  }
  context.report({ cell, span: literal.span, message: message(literal.value, problem, isScript ? problem.relative : null), fixes });
}

/** The literal rewritten to hold `value`, keeping its prefix and quotes; null when that is not simple. */
function replacementLiteral(token: string, expected: string, value: string): string | null {
  const prefix = /^[a-zA-Z]*/.exec(token)![0];
  const body = token.slice(prefix.length);
  const quote = body.startsWith('"""') || body.startsWith("'''") ? body.slice(0, 3) : body.slice(0, 1);
  if (quote !== '"' && quote !== "'" && quote !== '"""' && quote !== "'''") return null;
  // A single token (not implicit concatenation) whose value is what the model saw.
  if (!body.endsWith(quote) || stringTokenValue(token).value !== expected) return null;
  if (value.includes(quote[0]!) || value.includes('\\') || (prefix.toLowerCase().includes('f') && /[{}]/.test(value))) return null;
  return `${prefix}${quote}${value}${quote}`;
}
