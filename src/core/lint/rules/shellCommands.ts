/**
 * The shell commands a notebook runs: `!cmd` lines, `x = !cmd`, `%system`/`%sx`, and the bodies
 * of `%%bash`/`%%sh`/`%%script bash` cells, split into simple commands (at `&&`, `||`, `;`, `|`)
 * and words, each word with its offsets in the cell so a finding can point at it. IPython expands
 * `{name}` and `$name` in `!` commands from the notebook's variables; `expand` does the same with
 * what the model knows of those names.
 *
 * Used by `runtime-download` (what `wget`, `curl`, `git clone`, `kaggle` fetch) and
 * `unversioned-data` (which files those commands and `%%writefile` write).
 */
import type { Span } from '../python/analyze';
import type { NotebookModel, Position } from '../model';

export interface ShellWord {
  /** The word with quotes and backslashes removed. */
  text: string;
  /** Offsets in the cell. */
  span: Span;
}

export interface ShellCommand {
  cell: number;
  /** Where the line (or cell) holding it starts: names in `{name}` have their value from here. */
  at: Position;
  words: ShellWord[];
  /** `> file` and `>> file` targets. */
  redirects: ShellWord[];
  /** The folder a `cd dir &&` before it (in the same line) moved to, relative to the notebook's; '' for none. */
  cwd: string;
  /** Unknown: a `cd` to a folder whose name is not known. */
  cwdUnknown: boolean;
  /** The program its output is piped into (`curl URL | tar xz`), when it is. */
  pipedInto: string | null;
}

/** Cell magics whose body is shell script. */
const SHELL_CELL_MAGICS = new Set(['bash', 'sh', 'system', 'sx']);
const SCRIPT_SHELLS = new Set(['bash', 'sh', 'zsh']);

/** Every shell command of the notebook, in order. */
export function shellCommands(model: NotebookModel): ShellCommand[] {
  const out: ShellCommand[] = [];
  for (const { cell, facts } of model.codeCells()) {
    const source = facts.source;
    for (const magic of facts.magics) {
      const at = { cell, offset: magic.from };
      if (magic.kind === 'shell') {
        out.push(...splitLine(source, magic.commandFrom, magic.to, cell, at));
      } else if (magic.kind === 'line') {
        const name = /^(system|sx)\b/.exec(magic.command)?.[1];
        if (name) {
          const from = source.indexOf(name, magic.commandFrom) + name.length;
          out.push(...splitLine(source, from, magic.to, cell, at));
        }
      } else if (magic.kind === 'cell') {
        const [name = '', ...args] = magic.command.split(/\s+/);
        if (!SHELL_CELL_MAGICS.has(name) && !(name === 'script' && SCRIPT_SHELLS.has((args[0] ?? '').replace(/^.*\//, '')))) continue;
        // The body: every line after the magic's.
        let lineStart = source.indexOf('\n', magic.to);
        while (lineStart !== -1) {
          const from = lineStart + 1;
          const end = source.indexOf('\n', from);
          const to = end === -1 ? source.length : end;
          out.push(...splitLine(source, from, to, cell, { cell, offset: from }));
          lineStart = end;
        }
      }
    }
  }
  return out;
}

/** Splits one line of shell into simple commands, following `cd` within the line. */
function splitLine(source: string, from: number, to: number, cell: number, at: Position): ShellCommand[] {
  const commands: ShellCommand[] = [];
  let words: ShellWord[] = [];
  let redirects: ShellWord[] = [];
  let cwd = '';
  let cwdUnknown = false;
  let redirectNext = false;
  let piped = false;
  const flush = (): void => {
    if (words.length) {
      const command: ShellCommand = { cell, at, words, redirects, cwd, cwdUnknown, pipedInto: null };
      // The command before a `|` is piped into this one.
      const previous = commands.at(-1);
      if (piped && previous) previous.pipedInto = program(command)?.name ?? null;
      commands.push(command);
      if (words[0]!.text === 'cd') {
        const target = words[1]?.text;
        if (!target || /[{$]/.test(target) || target.startsWith('~') || target.startsWith('/')) cwdUnknown = true;
        else cwd = cwd ? `${cwd}/${target}` : target;
      }
    }
    words = [];
    redirects = [];
  };
  const separate = (operator: string): void => {
    flush();
    piped = operator === '|';
  };
  let i = from;
  while (i < to) {
    const ch = source[i]!;
    if (ch === ' ' || ch === '\t' || ch === '\r') {
      i++;
      continue;
    }
    if (ch === '#' && (i === from || /\s/.test(source[i - 1]!))) break;
    if (ch === ';' || ch === '|' || ch === '&') {
      // `&&`, `||`, `|`, `;`, `&`: a new command. (`2>&1` is taken apart below.)
      const double = source[i + 1] === ch;
      separate(double ? ch + ch : ch);
      i += double ? 2 : 1;
      continue;
    }
    if (ch === '>' || ch === '<') {
      redirectNext = ch === '>';
      i += source[i + 1] === '>' ? 2 : 1;
      if (source[i] === '&') {
        // `>&2`: a file descriptor, not a file.
        redirectNext = false;
        i++;
        while (i < to && /\d/.test(source[i]!)) i++;
      }
      continue;
    }
    const start = i;
    let text = '';
    while (i < to && !/[\s;|&<>]/.test(source[i]!)) {
      const c = source[i]!;
      if (c === "'" || c === '"') {
        const close = source.indexOf(c, i + 1);
        const end = close === -1 || close >= to ? to : close;
        text += source.slice(i + 1, end);
        i = end + 1;
      } else if (c === '\\' && i + 1 < to) {
        text += source[i + 1];
        i += 2;
      } else {
        text += c;
        i++;
      }
    }
    // `2>file`: the digit is a descriptor for the redirection that follows.
    if (/^\d$/.test(text) && (source[i] === '>' || source[i] === '<')) continue;
    const word = { text, span: { from: start, to: Math.min(i, to) } };
    if (redirectNext) {
      redirects.push(word);
      redirectNext = false;
    } else words.push(word);
  }
  separate('');
  return commands;
}

/**
 * A word with IPython's `{name}` and `$name` expanded from the model's values; unknown values
 * stay `{}` (as format strings do).
 */
export function expand(model: NotebookModel, word: string, at: Position): string {
  const value = (name: string): string => {
    const known = model.stringValue({ kind: 'name', name, span: { from: at.offset, to: at.offset } }, at);
    return known ?? '{}';
  };
  return word
    .replace(/\{([A-Za-z_][\w]*)\}/g, (_, name: string) => value(name))
    .replace(/\{[^{}]*\}/g, '{}')
    .replace(/\$\{?([A-Za-z_]\w*)\}?/g, (_, name: string) => value(name));
}

/** The program a command runs, past `sudo`, `env`, `time` and variable assignments. */
export function program(command: ShellCommand): { name: string; args: ShellWord[] } | null {
  let i = 0;
  const words = command.words;
  while (i < words.length && (/^[A-Za-z_]\w*=/.test(words[i]!.text) || ['sudo', 'env', 'time', 'nohup', 'command'].includes(words[i]!.text))) i++;
  const first = words[i];
  if (!first) return null;
  return { name: first.text.replace(/^.*\//, ''), args: words.slice(i + 1) };
}

/** A `wget` or `curl` command taken apart. */
export interface ShellDownload {
  program: 'wget' | 'curl';
  /** Its URL arguments. */
  urls: ShellWord[];
  /** Files it writes: `wget -O f`, `curl -o f`, `> f` (relative to the command's folder). */
  outputs: ShellWord[];
  /**
   * Where files named after the URL land (`wget URL`, `wget -P dir URL`, `curl -O URL`,
   * `curl --output-dir dir -O URL`): a folder relative to the command's, '' for it; null when
   * nothing is saved under the URL's name.
   */
  remoteNameDir: string | null;
  /** `wget -i list.txt`: the URLs come from a file. */
  fromFile: ShellWord | null;
  /** `curl -T`, `-d`, `-F`: it sends data rather than fetching it. */
  sends: boolean;
}

/** Options taking a value (the next word unless attached: `-ofile`, `--output=file`). */
const VALUE_OPTIONS: Record<'wget' | 'curl', ReadonlySet<string>> = {
  wget: new Set([
    '-O', '--output-document', '-o', '--output-file', '-a', '--append-output', '-P', '--directory-prefix', '-t', '--tries', '-T', '--timeout',
    '-w', '--wait', '--waitretry', '-Q', '--quota', '-U', '--user-agent', '--header', '--user', '--password', '--http-user', '--http-password',
    '-e', '--execute', '-l', '--level', '-A', '--accept', '-R', '--reject', '-D', '--domains', '-X', '--exclude-directories', '-I',
    '--include-directories', '-B', '--base', '--post-data', '--post-file', '--load-cookies', '--save-cookies', '--referer', '--limit-rate',
    '-i', '--input-file', '--cut-dirs', '--default-page', '--ca-certificate', '--certificate', '--private-key', '--bind-address',
  ]),
  curl: new Set([
    '-o', '--output', '-H', '--header', '-d', '--data', '--data-raw', '--data-binary', '--data-urlencode', '-F', '--form', '-u', '--user',
    '-A', '--user-agent', '-e', '--referer', '-x', '--proxy', '-w', '--write-out', '-X', '--request', '-b', '--cookie', '-c', '--cookie-jar',
    '-K', '--config', '-r', '--range', '-m', '--max-time', '--retry', '--retry-delay', '--retry-max-time', '-C', '--continue-at',
    '--connect-timeout', '-T', '--upload-file', '--output-dir', '-z', '--time-cond', '--limit-rate', '-E', '--cert', '--cacert', '--key',
    '--resolve', '--max-filesize', '--proto', '-U', '--proxy-user', '--interface', '-Y', '--speed-limit', '-y', '--speed-time', '--netrc-file',
  ]),
};

const SENDING = new Set(['-T', '--upload-file', '-d', '--data', '--data-raw', '--data-binary', '--data-urlencode', '-F', '--form']);

/** The download a `wget`/`curl` command makes, or null for other programs. */
export function downloadOf(command: ShellCommand): ShellDownload | null {
  const run = program(command);
  if (!run || (run.name !== 'wget' && run.name !== 'curl')) return null;
  const name = run.name;
  const takesValue = VALUE_OPTIONS[name];
  const result: ShellDownload = { program: name, urls: [], outputs: [...command.redirects], remoteNameDir: name === 'wget' ? '' : null, fromFile: null, sends: false };
  let outputDir = '';
  const option = (flag: string, value: ShellWord | undefined): void => {
    if (SENDING.has(flag) && name === 'curl') result.sends = true;
    if (!value) return;
    if ((name === 'wget' && (flag === '-O' || flag === '--output-document')) || (name === 'curl' && (flag === '-o' || flag === '--output'))) {
      if (value.text !== '-') result.outputs.push(value);
      if (name === 'wget') result.remoteNameDir = null;
    } else if ((name === 'wget' && (flag === '-P' || flag === '--directory-prefix')) || (name === 'curl' && flag === '--output-dir')) {
      outputDir = value.text;
    } else if (name === 'wget' && (flag === '-i' || flag === '--input-file')) result.fromFile = value;
  };
  const args = run.args;
  for (let i = 0; i < args.length; i++) {
    const word = args[i]!;
    const text = word.text;
    if (text.startsWith('--')) {
      const eq = text.indexOf('=');
      const flag = eq < 0 ? text : text.slice(0, eq);
      if (name === 'curl' && (flag === '--remote-name' || flag === '--remote-name-all')) result.remoteNameDir = '';
      if (eq >= 0) option(flag, { text: text.slice(eq + 1), span: { from: word.span.from + eq + 1, to: word.span.to } });
      else if (takesValue.has(flag)) option(flag, args[++i]);
      else option(flag, undefined);
      continue;
    }
    if (text.startsWith('-') && text.length > 1) {
      // A cluster of short options: `-qO-`, `-sSL`, `-LO`.
      for (let k = 1; k < text.length; k++) {
        const flag = `-${text[k]}`;
        if (name === 'curl' && flag === '-O') result.remoteNameDir = '';
        if (takesValue.has(flag)) {
          const rest = text.slice(k + 1);
          option(flag, rest ? { text: rest, span: { from: word.span.from + k + 1, to: word.span.to } } : args[++i]);
          break;
        }
        option(flag, undefined);
      }
      continue;
    }
    result.urls.push(word);
  }
  if (result.remoteNameDir !== null && outputDir) result.remoteNameDir = outputDir;
  return result;
}

/** The last part of a URL's path: the name `wget URL` and `curl -O URL` save it under. */
export function urlBasename(url: string): string | null {
  const path = url.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*/i, '').split(/[?#]/)[0]!;
  const base = path.split('/').pop();
  return base ? decodeURIComponentSafe(base) : null;
}

function decodeURIComponentSafe(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
