/**
 * `unpinned-install`: a notebook cell that installs a package without an exact version
 * (`!pip install pandas`, `%pip install "scikit-learn>=1.3"`, `%conda install numpy`,
 * `!pip install git+https://github.com/org/repo`). Each run installs whatever is newest that
 * day, so the same notebook runs different code next month.
 *
 * Commands come from the cell's magics (`!cmd`, `%pip`, `%conda`, and the body of `%%bash` /
 * `%%sh` cells), are split like a shell splits them (quotes, `&&`, `;`, `|`, redirections) and
 * each requirement after `install` is judged: `==`/`===` exact versions (conda: `=1.2.3`),
 * local paths, archives, `-r file` and VCS URLs pinned to a revision are fine.
 */
import type { Magic } from '../python/ipython';
import { normalizeDistributionName } from '../project';
import type { Fix, Rule } from '../rule';

export const unpinnedInstall: Rule = {
  id: 'unpinned-install',
  defaultSeverity: 'warning',
  summary: 'A package installed in the notebook without an exact version.',
  help: 'Pin the version (`pip install pandas==2.2.2`), or better, list the packages with exact versions in requirements.txt and install from it.',
  appliesTo: ['notebook'],
  check({ model, project, report }) {
    for (const { cell, facts } of model.codeCells()) {
      const comments: ShellComment[] = [];
      for (const command of installCommands(facts.source, facts.magics, comments)) {
        for (const problem of unpinnedRequirements(command)) {
          const { word } = problem;
          if (isSuppressedInShell(facts.source, comments, word.from)) continue;
          if (problem.kind === 'vcs') {
            const message = problem.branch
              ? `\`${word.value}\` installs whatever the branch \`${problem.branch}\` holds when the cell runs: pin a commit (\`...@<commit sha>\`) so the next run gets the same code`
              : `\`${word.value}\` installs whatever the repository's default branch holds when the cell runs: pin a commit (\`...@<commit sha>\`) so the next run gets the same code`;
            report({ cell, span: { from: word.from, to: word.to }, message });
            continue;
          }
          const version = project.installedVersion(problem.name);
          const pinned = `${problem.name}${problem.extras}==${version ?? '<version>'}`;
          const home = command.installer === 'conda' ? 'environment.yml' : 'requirements.txt';
          const message = `\`${problem.name}\` is installed without an exact version: pin it (\`${pinned}\`) so the next run gets the same code; better, move it to ${home}`;
          const fixes: Fix[] = [];
          if (version) {
            fixes.push({
              title: `Pin ${problem.name} to ${version} (the installed version)`,
              edits: [{ cell, span: { from: word.from, to: word.to }, text: quoteLike(word, `${problem.channel}${problem.name}${problem.extras}==${version}${problem.markers ? `; ${problem.markers}` : ''}`) }],
              preferred: true,
            });
          }
          report({ cell, span: { from: word.from, to: word.to }, message, fixes });
        }
      }
    }
  },
};

/** A shell word: its value after quote removal, and where its raw text is in the cell. */
interface Word {
  value: string;
  from: number;
  to: number;
  /** The quote around the whole word (`"pandas>=2"`), else ''. */
  quote: '' | '"' | "'";
  /** Holds `{expr}` or `$var`: its value is only known when the cell runs. */
  expansion: boolean;
}

type Installer = 'pip' | 'conda';

interface InstallCommand {
  installer: Installer;
  /** The words after `install`. */
  args: Word[];
}

type Problem =
  | { kind: 'name'; word: Word; name: string; extras: string; markers: string; channel: string }
  | { kind: 'vcs'; word: Word; branch: string | null };

/** Cell magics whose body is shell commands: `%%bash`, `%%sh`, `%%script bash`. */
const SHELL_CELL_MAGICS = new Set(['bash', 'sh']);

/** A `# ...` comment in a shell command. */
interface ShellComment {
  from: number;
  text: string;
}

const SUPPRESSION = /#\s*nb2prod:\s*ignore(?:\[([^\]]*)\])?/;

/**
 * `# nb2prod: ignore[unpinned-install]` at the end of a `!pip install` line. The engine reads
 * suppressions from Python comments, and a magic line has none: its comment is shell text.
 */
function isSuppressedInShell(source: string, comments: readonly ShellComment[], offset: number): boolean {
  const lineStart = source.lastIndexOf('\n', offset - 1) + 1;
  const lineEnd = source.indexOf('\n', offset);
  for (const comment of comments) {
    if (comment.from < lineStart || (lineEnd >= 0 && comment.from > lineEnd)) continue;
    const match = SUPPRESSION.exec(comment.text);
    if (match && (match[1] === undefined || match[1].split(',').some((id) => id.trim() === 'unpinned-install'))) return true;
  }
  return false;
}

/** The install commands of a cell's magics; their shell comments are added to `comments`. */
function installCommands(source: string, magics: readonly Magic[], comments: ShellComment[]): InstallCommand[] {
  const commands: InstallCommand[] = [];
  for (const magic of magics) {
    if (magic.kind === 'cell') {
      const [name, interpreter] = magic.command.split(/\s+/);
      if (!SHELL_CELL_MAGICS.has(name === 'script' ? (interpreter ?? '') : (name ?? ''))) continue;
      const bodyFrom = source.indexOf('\n', magic.to);
      if (bodyFrom < 0) continue;
      for (const words of shellSegments(source, bodyFrom + 1, source.length, comments)) pushInstall(commands, words, false);
      continue;
    }
    // A command continued with a trailing backslash goes on over the next lines.
    let to = magic.to;
    while (source.slice(magic.commandFrom, to).trimEnd().endsWith('\\') && to < source.length) {
      const next = source.indexOf('\n', to + 1);
      to = next < 0 ? source.length : next;
    }
    for (const words of shellSegments(source, magic.commandFrom, to, comments)) pushInstall(commands, words, magic.kind === 'line');
  }
  return commands;
}

function pushInstall(commands: InstallCommand[], words: Word[], lineMagic: boolean): void {
  let i = 0;
  const text = (at: number): string => words[at]?.value ?? '';
  // `!!pip ...`, `sudo pip ...`, `VAR=1 pip ...`, `%sx pip ...`.
  if (text(0).startsWith('!')) words[0] = { ...words[0]!, value: text(0).replace(/^!+/, '') };
  while (i < words.length && (text(i) === 'sudo' || /^[A-Za-z_]\w*=/.test(text(i)) || (lineMagic && i === 0 && (text(i) === 'sx' || text(i) === 'system')))) i++;
  if (words[i]?.expansion && !/^\{sys\.executable\}$/.test(text(i))) return;
  const program = basename(text(i));
  let installer: Installer;
  if (/^pip(?:3(?:\.\d+)?)?$/.test(program)) {
    installer = 'pip';
    i += 1;
  } else if (isPython(text(i)) && (text(i + 1) === '-m' || text(i + 1) === '-mpip')) {
    if (text(i + 1) === '-mpip') i += 2;
    else if (/^pip(?:3(?:\.\d+)?)?$/.test(text(i + 2))) i += 3;
    else return;
    installer = 'pip';
  } else if (program === 'uv' && text(i + 1) === 'pip') {
    installer = 'pip';
    i += 2;
  } else if (program === 'conda' || program === 'mamba' || program === 'micromamba') {
    installer = 'conda';
    i += 1;
  } else {
    return;
  }
  // Global options before the subcommand (`pip -q install`, `pip --proxy host install`).
  while (i < words.length && text(i).startsWith('-')) i += optionLength(words, i);
  if (text(i) !== 'install') return;
  commands.push({ installer, args: words.slice(i + 1) });
}

function isPython(word: string): boolean {
  return word === '{sys.executable}' || /^python(?:\d+(?:\.\d+)?)?(?:\.exe)?$/i.test(basename(word));
}

function basename(word: string): string {
  return word.split(/[/\\]/).pop() ?? '';
}

/** Long options that take a value (pip, uv pip, conda). */
// prettier-ignore
const VALUE_OPTIONS = new Set([
  'index-url', 'extra-index-url', 'find-links', 'constraint', 'requirement', 'editable', 'target', 'prefix', 'root', 'src',
  'platform', 'python-version', 'implementation', 'abi', 'upgrade-strategy', 'progress-bar', 'trusted-host', 'cache-dir',
  'log', 'log-file', 'proxy', 'retries', 'timeout', 'exists-action', 'cert', 'client-cert', 'global-option', 'install-option',
  'config-settings', 'build-option', 'no-binary', 'only-binary', 'report', 'python', 'root-user-action', 'use-feature',
  'use-deprecated', 'keyring-provider', 'resolution', 'prerelease', 'index-strategy', 'index', 'default-index', 'group',
  'extra', 'python-platform', 'exclude-newer', 'link-mode', 'upgrade-package', 'reinstall-package', 'no-build-package',
  'no-binary-package', 'only-binary-package', 'config-file', 'color', 'directory', 'project', 'overrides', 'channel', 'name',
  'file', 'solver', 'repodata-fn', 'subdir', 'platform',
]);

/** Short options that take a value: pip's -r -c -e -i -f -t -b -C, uv's -p -P, conda's -c -n -p. */
const SHORT_VALUE_OPTIONS = new Set(['r', 'c', 'e', 'i', 'f', 't', 'b', 'C', 'n', 'p', 'P']);

/** How many words the option at `i` uses (1, or 2 when its value is the next word). */
function optionLength(words: readonly Word[], i: number): number {
  const word = words[i]!.value;
  if (word.startsWith('--')) return !word.includes('=') && VALUE_OPTIONS.has(word.slice(2)) ? 2 : 1;
  // A cluster of short flags: `-qU`; a value option takes the rest of the word or the next word.
  for (let at = 1; at < word.length; at++) if (SHORT_VALUE_OPTIONS.has(word[at]!)) return at === word.length - 1 ? 2 : 1;
  return 1;
}

/** Packages that are tooling, not the notebook's code: upgrading pip is not a reproducibility problem. */
const TOOLING = new Set(['pip', 'setuptools', 'wheel', 'uv']);

const NAME = '[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?';
const PEP508 = new RegExp(`^(${NAME})\\s*(\\[[^\\]]*\\])?\\s*(\\(?[^;@]*?\\)?)\\s*(?:;\\s*(.*))?$`);
const PEP508_URL = new RegExp(`^(${NAME})\\s*(\\[[^\\]]*\\])?\\s*@\\s*(\\S+)\\s*(?:;.*)?$`);
const CONDA_SPEC = new RegExp(`^((?:[^\\s:]+::)?)(${NAME})(.*)$`);

/** The requirements of an install command that are not pinned to one version. */
function unpinnedRequirements(command: InstallCommand): Problem[] {
  const problems: Problem[] = [];
  const { args } = command;
  let optionsEnded = false;
  for (let i = 0; i < args.length; i++) {
    const word = args[i]!;
    if (!optionsEnded && word.value === '--') {
      optionsEnded = true;
      continue;
    }
    if (!optionsEnded && word.value.startsWith('-') && word.quote === '') {
      i += optionLength(args, i) - 1;
      continue;
    }
    if (word.expansion || !word.value) continue;
    // `name @ url` written as three words.
    if (args[i + 1]?.value === '@' && args[i + 2]) {
      const url = args[i + 2]!;
      i += 2;
      if (url.expansion) continue;
      const problem = judgeUrl({ ...word, value: `${word.value} @ ${url.value}`, to: url.to, quote: '' }, url.value);
      if (problem) problems.push(problem);
      continue;
    }
    const problem = command.installer === 'conda' ? judgeConda(word) : judgePip(word);
    if (problem) problems.push(problem);
  }
  return problems;
}

function judgePip(word: Word): Problem | null {
  const value = word.value.trim();
  const withUrl = PEP508_URL.exec(value);
  if (withUrl) return judgeUrl(word, withUrl[3]!);
  if (isLocation(value)) return judgeUrl(word, value);
  const match = PEP508.exec(value);
  // Not a requirement we can read: say nothing rather than guess.
  if (!match) return null;
  const name = match[1]!;
  if (TOOLING.has(normalizeDistributionName(name))) return null;
  const specifier = match[3]!.replace(/^\(|\)$/g, '').trim();
  const clauses = specifier ? specifier.split(',').map((clause) => /^\s*(===|==|~=|!=|<=|>=|<|>)\s*(\S+)\s*$/.exec(clause)) : [];
  if (clauses.some((clause) => !clause)) return null;
  const exact = clauses.some((clause) => clause![1] === '===' || (clause![1] === '==' && !clause![2]!.includes('*')));
  if (exact) return null;
  return { kind: 'name', word, name, extras: (match[2] ?? '').replace(/\s+/g, ''), markers: (match[4] ?? '').trim(), channel: '' };
}

function judgeConda(word: Word): Problem | null {
  const value = word.value.trim();
  if (isLocation(value)) return null;
  const match = CONDA_SPEC.exec(value);
  if (!match) return null;
  const [, channel, name, rest] = match as unknown as [string, string, string, string];
  if (TOOLING.has(normalizeDistributionName(name))) return null;
  const spec = rest.trim();
  // `pkg=1.2.3`, `pkg==1.2.3`, `pkg=1.2.3=build`, `"pkg 1.2.3"`: one version (no wildcard, no alternatives).
  const exact = /^(?:==?|\s)\s*([A-Za-z0-9_.+!]+)(?:[= ][A-Za-z0-9_.*]+)?$/.exec(rest);
  if (exact && !spec.includes('*') && !spec.includes('|')) return null;
  if (spec && !/^(?:[=<>!~ ]|\[)/.test(rest)) return null;
  return { kind: 'name', word, name, extras: '', markers: '', channel };
}

/** A path or URL rather than a name: `.`, `./pkg`, `/abs`, `~/x`, `C:\x`, `pkg.whl`, `https://...`. */
function isLocation(value: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(value) || /^(?:git|hg|svn|bzr)\+/i.test(value) || /^[./~\\]/.test(value) || /^[A-Za-z]:[\\/]/.test(value) || /[/\\]/.test(value) || /\.(?:whl|tar\.gz|tgz|tar\.bz2|zip)$/i.test(value);
}

/** Branch names that move: a revision naming one is not a pin. */
const MOVING_BRANCHES = new Set(['main', 'master', 'HEAD', 'develop', 'dev', 'trunk', 'default']);

/** A VCS URL without a revision (or naming a moving branch) is unpinned; paths and archive URLs are fixed. */
function judgeUrl(word: Word, url: string): Problem | null {
  if (!/^(?:git|hg|svn|bzr)\+/i.test(url)) return null;
  const location = url.split('#')[0]!;
  const scheme = location.indexOf('://');
  // The revision is an `@` in the path, after the host (`git+ssh://git@host/...` has a user).
  const pathStart = scheme < 0 ? location.indexOf(':') + 1 : location.indexOf('/', scheme + 3);
  if (pathStart <= 0) return null;
  const at = location.indexOf('@', pathStart);
  if (at < 0) return { kind: 'vcs', word, branch: null };
  const revision = location.slice(at + 1);
  if (!revision) return { kind: 'vcs', word, branch: null };
  return MOVING_BRANCHES.has(revision) ? { kind: 'vcs', word, branch: revision } : null;
}

/** The replacement written the way the original word was: quoted alike, or quoted when the shell needs it. */
function quoteLike(word: Word, text: string): string {
  if (word.quote) return `${word.quote}${text}${word.quote}`;
  return /[\s;<>|&()]/.test(text) ? `"${text}"` : text;
}

/**
 * Splits shell text (offsets `from`..`to` of `source`) into simple commands, each a list of
 * words, the way sh would: quotes, backslash escapes and continuations, `#` comments, and the
 * operators `;`, `&&`, `||`, `|`, `&` and newlines between commands. Redirections (`> log`,
 * `2>&1`) are dropped with their target. IPython's `{expr}` and `$var` mark a word as expanded.
 *
 * One departure from sh: `>`/`<` inside a word (`pandas>=2`) stay in the word. sh would redirect
 * to a file named `=2`, but the author meant a version specifier, and that is what is judged.
 */
function shellSegments(source: string, from: number, to: number, comments: ShellComment[]): Word[][] {
  const segments: Word[][] = [];
  let words: Word[] = [];
  // Assigned in the closures below too, so TS must not narrow it to null.
  let word = null as (Word & { parts: number }) | null;
  let skipNextWord = false;
  const endWord = (at: number): void => {
    if (!word) return;
    word.to = at;
    const first = source[word.from];
    word.quote = word.parts === 1 && (first === '"' || first === "'") && at - word.from >= 2 && source[at - 1] === first ? first : '';
    if (skipNextWord) skipNextWord = false;
    else words.push({ value: word.value, from: word.from, to: word.to, quote: word.quote, expansion: word.expansion });
    word = null;
  };
  const endSegment = (): void => {
    if (words.length) segments.push(words);
    words = [];
    skipNextWord = false;
  };
  const startWord = (at: number): Word & { parts: number } => (word ??= { value: '', from: at, to: at, quote: '', expansion: false, parts: 0 });
  let i = from;
  while (i < to) {
    const ch = source[i]!;
    if (ch === '\\' && source[i + 1] === '\n') {
      i += 2;
      continue;
    }
    if (ch === '\\' && source[i + 1] === '\r' && source[i + 2] === '\n') {
      i += 3;
      continue;
    }
    if (ch === ' ' || ch === '\t' || ch === '\r') {
      endWord(i);
      i++;
      continue;
    }
    if (ch === '\n' || ch === ';' || ch === '|' || ch === '&') {
      endWord(i);
      // `>&1` is handled with redirections; here `&`, `&&`, `|`, `||`, `;` and newlines.
      endSegment();
      i += source[i + 1] === ch ? 2 : 1;
      continue;
    }
    if (ch === '#' && !word) {
      const start = i;
      while (i < to && source[i] !== '\n') i++;
      comments.push({ from: start, text: source.slice(start, i) });
      continue;
    }
    if ((ch === '>' || ch === '<') && (!word || /^\d*$/.test(word.value))) {
      // A redirection: `> file`, `2>&1`, `>> log`, `< input`. The fd digits are not a word.
      word = null;
      i++;
      if (source[i] === '>') i++;
      if (source[i] === '&') {
        i++;
        while (i < to && /\d/.test(source[i]!)) i++;
        continue;
      }
      skipNextWord = true;
      // An attached target (`>log.txt`) is the next word.
      continue;
    }
    const current = startWord(i);
    if (ch === "'") {
      const end = source.indexOf("'", i + 1);
      const close = end < 0 || end >= to ? to : end;
      current.value += source.slice(i + 1, close);
      if (source.slice(i + 1, close).includes('{') || source.slice(i + 1, close).includes('$')) current.expansion = true;
      current.parts++;
      i = close + 1;
      continue;
    }
    if (ch === '"') {
      let j = i + 1;
      while (j < to && source[j] !== '"') {
        if (source[j] === '\\' && j + 1 < to && '"\\$`\n'.includes(source[j + 1]!)) {
          if (source[j + 1] !== '\n') current.value += source[j + 1];
          j += 2;
          continue;
        }
        if (source[j] === '{' || source[j] === '$') current.expansion = true;
        current.value += source[j];
        j++;
      }
      current.parts++;
      i = Math.min(j + 1, to);
      continue;
    }
    current.parts += 2; // Unquoted text: the word is not one quoted string.
    if (ch === '\\') {
      current.value += source[i + 1] ?? '';
      i += 2;
      continue;
    }
    if (ch === '{' || (ch === '$' && source[i + 1] === '(')) {
      // IPython's `{expr}` (which may hold spaces and quotes) and `$(cmd)`: up to the matching bracket.
      const open = ch === '{' ? '{' : '(';
      const close = open === '{' ? '}' : ')';
      let depth = 0;
      let j = ch === '{' ? i : i + 1;
      for (; j < to; j++) {
        if (source[j] === open) depth++;
        else if (source[j] === close && --depth === 0) break;
      }
      current.value += source.slice(i, Math.min(j + 1, to));
      current.expansion = true;
      i = j + 1;
      continue;
    }
    if (ch === '$') current.expansion = true;
    current.value += ch;
    i++;
  }
  endWord(Math.min(i, to));
  endSegment();
  return segments;
}
