/**
 * `runtime-download`: data fetched from the network while the notebook runs — a URL read by
 * pandas, `urlretrieve`, `requests.get(url)` whose content is used, `keras.utils.get_file`,
 * `sns.load_dataset`, scikit-learn's `fetch_*`, Hugging Face `load_dataset`, `tfds.load`,
 * `!wget`/`!curl`/`!git clone`/`!kaggle ... download`. What comes back can change or vanish
 * between runs, and every fresh run needs the network and the host, so a result cannot be tied
 * to the data it was computed from.
 *
 * Quiet when the fetch is evidently pinned: a URL naming a fixed version (commit, release, object
 * version, content hash, date: see urls.ts), a checksum given to the fetcher (`get_file(...,
 * file_hash=...)`, `download_url(..., md5=...)`), a version or revision (`fetch_openml(...,
 * version=2)` or `data_id=`, `load_dataset(..., revision=...)`, `tfds.load("mnist:3.0.1")`), or a
 * checksum checked in the same cell (`hashlib`, `sha256sum -c`).
 *
 * URLs are followed through names, concatenation, f-strings, `os.path.join` and `urljoin` (the
 * model's `stringValue`); a fetcher whose argument is a URL by definition is reported even when
 * the URL's value is not known statically.
 */
import type { ArgFact, CallFact, Expr, Span } from '../python/analyze';
import type { NotebookModel, Position } from '../model';
import type { Rule } from '../rule';
import { argumentAt, partialString, pathUses, shorten } from './dataPaths';
import { downloadOf, expand, program, type ShellCommand, shellCommands, type ShellWord } from './shellCommands';
import { displayUrl, isLocalUrl, REMOTE, urlAdvice, urlIsPinned } from './urls';

interface ArgSpec {
  position: number;
  keywords: readonly string[];
}

type FetchKind =
  /** The argument at `url` is a URL (reported even when its value is unknown). */
  | { kind: 'url'; url: ArgSpec; checksum?: readonly string[]; consumed?: boolean }
  /** A named dataset from a hub that serves its latest version. */
  | { kind: 'named'; name: ArgSpec; source: string; pinned?: (model: NotebookModel, call: CallFact, at: Position) => boolean; advice: string }
  /** A library's own dataset, checksummed by the library but downloaded on every fresh run. */
  | { kind: 'library'; library: string; advice: string };

const URL_ARG: ArgSpec = { position: 0, keywords: ['url'] };

/** Fetchers by resolved callee path. */
const FETCHERS = new Map<string, FetchKind>([
  ['urllib.request.urlretrieve', { kind: 'url', url: URL_ARG }],
  ['urllib.urlretrieve', { kind: 'url', url: URL_ARG }],
  ['six.moves.urllib.request.urlretrieve', { kind: 'url', url: URL_ARG }],
  ['urllib.request.urlopen', { kind: 'url', url: URL_ARG }],
  ['urllib2.urlopen', { kind: 'url', url: URL_ARG }],
  ['urllib.urlopen', { kind: 'url', url: URL_ARG }],
  ['requests.get', { kind: 'url', url: URL_ARG, consumed: true }],
  ['httpx.get', { kind: 'url', url: URL_ARG, consumed: true }],
  ['wget.download', { kind: 'url', url: URL_ARG }],
  ['gdown.download', { kind: 'url', url: URL_ARG }],
  ['gdown.cached_download', { kind: 'url', url: URL_ARG, checksum: ['md5', 'hash'] }],
  ['pooch.retrieve', { kind: 'url', url: URL_ARG, checksum: ['known_hash'] }],
  ['torch.hub.download_url_to_file', { kind: 'url', url: URL_ARG, checksum: ['hash_prefix'] }],
  ['torchvision.datasets.utils.download_url', { kind: 'url', url: URL_ARG, checksum: ['md5'] }],
  ['torchvision.datasets.utils.download_and_extract_archive', { kind: 'url', url: URL_ARG, checksum: ['md5'] }],
  ...['keras.utils.get_file', 'keras.utils.data_utils.get_file', 'tensorflow.keras.utils.get_file', 'tensorflow.keras.utils.data_utils.get_file', 'tf_keras.utils.get_file'].map(
    (path) => [path, { kind: 'url', url: { position: 1, keywords: ['origin'] }, checksum: ['file_hash', 'md5_hash'] }] as const,
  ),
  [
    'seaborn.load_dataset',
    { kind: 'named', name: { position: 0, keywords: ['name'] }, source: 'from the seaborn-data repository on GitHub', advice: 'save it once (`df.to_csv(...)`) and keep that copy under version control' },
  ],
  [
    'sklearn.datasets.fetch_openml',
    {
      kind: 'named',
      name: { position: 0, keywords: ['name'] },
      source: "from OpenML, in whatever version is active that day",
      pinned: (_model, call) => hasValue(call, 'data_id') || (hasValue(call, 'version') && !isStringArg(call, 'version')),
      advice: 'pin the dataset version (`version=1`, or `data_id=...`), and keep a copy under version control (`data_home=...`)',
    },
  ],
  [
    'datasets.load_dataset',
    {
      kind: 'named',
      name: { position: 0, keywords: ['path'] },
      source: 'from the Hugging Face Hub, at its latest revision',
      pinned: (_model, call) => hasValue(call, 'revision'),
      advice: 'pin a revision (`revision="<commit sha>"`), or keep a copy under version control',
    },
  ],
  ...['tensorflow_datasets.load', 'tensorflow_datasets.builder'].map(
    (path) =>
      [
        path,
        {
          kind: 'named',
          name: { position: 0, keywords: ['name'] },
          source: 'by TensorFlow Datasets, in the version the installed package defaults to',
          pinned: (model: NotebookModel, call: CallFact, at: Position) => {
            const name = argumentAt(call, { position: 0, keywords: ['name'] });
            const value = name ? model.stringValue(name.value, at) : null;
            return value !== null && /:\d/.test(value);
          },
          advice: 'pin the dataset version (`"mnist:3.0.1"`) and keep the prepared copy (`data_dir=...`) under version control',
        },
      ] as const,
  ),
  ['nltk.download', { kind: 'named', name: { position: 0, keywords: ['info_or_id'] }, source: 'from the NLTK data index, in its latest version', advice: 'keep the downloaded data (`download_dir=...`) under version control' }],
  ['kagglehub.dataset_download', { kind: 'named', name: { position: 0, keywords: ['handle'] }, source: 'from Kaggle', pinned: (model, call, at) => /\/versions\/\d+/.test(stringArg(model, call, 0, 'handle', at) ?? ''), advice: 'pin the version in the handle (`owner/name/versions/3`), or keep a copy under version control' }],
]);

/** `kaggle.api.dataset_download_files(...)` and friends, on the module or a `KaggleApi()`. */
const KAGGLE_METHODS = new Set(['dataset_download_files', 'dataset_download_file', 'competition_download_files', 'competition_download_file']);

export const runtimeDownload: Rule = {
  id: 'runtime-download',
  defaultSeverity: 'warning',
  summary: 'Data downloaded at run time, with no version or checksum pinning it.',
  help: 'Pin a version or checksum (a commit or release in the URL, `version=`/`revision=`, `file_hash=`), or download the data once and keep the copy under version control (DVC, git LFS) and read that.',
  appliesTo: ['notebook', 'script'],
  check(context) {
    const { model } = context;
    const reported = new Set<string>();
    const report = (cell: number, span: Span, message: string): void => {
      const key = `${cell}:${span.from}:${span.to}`;
      if (reported.has(key)) return;
      reported.add(key);
      context.report({ cell, span, message });
    };
    const checksummed = checkedCells(model);

    for (const { cell, call, at } of model.calls()) {
      if (checksummed.has(cell)) continue;
      const path = model.calleePath(call, at);
      const source = model.cells[cell]!.cell.source;
      const written = (expr: Expr): string => source.slice(expr.span.from, expr.span.to);
      const fetcher = path ? (FETCHERS.get(path) ?? libraryFetcher(path, call)) : kaggleMethod(model, call, at);
      if (fetcher) {
        const finding = fetchFinding(model, call, at, path ?? '', fetcher, written);
        if (finding) report(cell, finding.span, finding.message);
        continue;
      }
      if (!path && isSessionGet(model, call, at)) {
        const finding = fetchFinding(model, call, at, 'requests.Session.get', { kind: 'url', url: URL_ARG, consumed: true }, written);
        if (finding) report(cell, finding.span, finding.message);
      }
    }

    // Readers given a URL: `pd.read_csv("https://...")`.
    for (const use of pathUses(model)) {
      if (use.kind !== 'read' || checksummed.has(use.cell)) continue;
      const value = partialString(model, use.path, use.at);
      if (value === null || !REMOTE.test(value) || isLocalUrl(value) || (!value.includes('{}') && urlIsPinned(value))) continue;
      report(use.cell, use.span, `\`${shorten(displayUrl(value))}\` is ${readVerb(value)} at run time by \`${shortCallee(use.callee)}\`, and the URL names no version: the data behind it can change or vanish between runs. ${urlAdvice(value)}`);
    }

    for (const command of shellCommands(model)) {
      if (checksummed.has(command.cell)) continue;
      for (const finding of shellFindings(model, command)) report(command.cell, finding.span, finding.message);
    }
  },
};

// ---- calls --------------------------------------------------------------------------------

interface Found {
  span: Span;
  message: string;
}

function fetchFinding(model: NotebookModel, call: CallFact, at: Position, path: string, fetcher: FetchKind, written: (expr: Expr) => string): Found | null {
  if (call.args.some((a) => a.star === '**')) return null;
  const name = calleeText(call, written);
  switch (fetcher.kind) {
    case 'url': {
      const arg = argumentAt(call, fetcher.url);
      if (!arg) return null;
      if (fetcher.checksum?.some((k) => hasValue(call, k))) return null;
      if (fetcher.consumed && !responseUsed(model, call, at)) return null;
      const value = partialString(model, arg.value, at);
      // A value that is known and not a URL (a local path given to `urlopen`, say): not a download.
      if (value !== null && !value.includes('{}') && !REMOTE.test(value)) return null;
      if (value !== null && isLocalUrl(value)) return null;
      if (value !== null && !value.includes('{}') && urlIsPinned(value)) return null;
      const shown = value !== null && !value.startsWith('{}') ? `\`${shorten(displayUrl(value))}\`` : `the URL in \`${shorten(written(arg.value), 60)}\``;
      const hashHint = fetcher.checksum ? ` (or pass \`${fetcher.checksum[0]}=\` so the download is checked)` : '';
      const advice = value !== null && REMOTE.test(value) ? urlAdvice(value) : 'Use a URL that names a fixed version (a release, a commit, a content hash), or download it once and keep the copy under version control.';
      return { span: arg.value.span, message: `${shown} is downloaded at run time by \`${name}\`: the data behind it can change or vanish between runs. ${advice.replace(/\.$/, '')}${hashHint}.` };
    }
    case 'named': {
      if (fetcher.pinned?.(model, call, at)) return null;
      const arg = argumentAt(call, fetcher.name);
      const what = arg ? `\`${shorten(written(arg.value), 60)}\`` : 'its dataset';
      return { span: call.span, message: `\`${name}\` downloads ${what} at run time ${fetcher.source}: the data can change or vanish between runs. ${capitalize(fetcher.advice)}.` };
    }
    case 'library':
      return {
        span: call.span,
        message: `\`${name}\` downloads its data at run time (${fetcher.library} checks what it gets, but every fresh run needs the network and the host): ${fetcher.advice}.`,
      };
  }
}

/**
 * Datasets that libraries download and check themselves: scikit-learn's `fetch_*`, Keras'
 * `datasets.<name>.load_data()`, torchvision datasets with `download=True`.
 */
function libraryFetcher(path: string, call: CallFact): FetchKind | undefined {
  if (/^sklearn\.datasets\.(fetch_\w+)$/.test(path)) {
    return { kind: 'library', library: 'scikit-learn', advice: 'keep the downloaded copy under version control and point `data_home=` at it, or read a file the project versions' };
  }
  if (/^(tensorflow\.)?keras\.datasets\.\w+\.load_data$/.test(path) || /^tf_keras\.datasets\.\w+\.load_data$/.test(path)) {
    return { kind: 'library', library: 'Keras', advice: 'keep the downloaded file under version control and load it from there' };
  }
  if (/^torchvision\.datasets\.[A-Z]\w*$/.test(path) && call.args.some((a) => a.keyword === 'download' && a.value.kind === 'constant' && a.value.value === 'True')) {
    return { kind: 'library', library: 'torchvision', advice: 'download once, keep the `root=` folder under version control (DVC, git LFS) and pass `download=False`' };
  }
  return undefined;
}

/** `api.dataset_download_files("owner/name")` on `kaggle.api` or a `KaggleApi()` instance. */
function kaggleMethod(model: NotebookModel, call: CallFact, at: Position): FetchKind | undefined {
  if (call.callee.kind !== 'attribute' || !KAGGLE_METHODS.has(call.callee.name)) return undefined;
  const receiver = model.resolve(call.callee.object, at) ?? model.constructedBy(call.callee.object, at) ?? '';
  if (!receiver.startsWith('kaggle')) return undefined;
  return { kind: 'named', name: { position: 0, keywords: ['dataset', 'competition'] }, source: 'from Kaggle, in its latest version', advice: 'keep a copy under version control (DVC, git LFS) and read that' };
}

/** `session.get(url)` on a `requests.Session()`. */
function isSessionGet(model: NotebookModel, call: CallFact, at: Position): boolean {
  if (call.callee.kind !== 'attribute' || call.callee.name !== 'get') return false;
  const made = model.constructedBy(call.callee.object, at);
  return made === 'requests.Session' || made === 'requests.session' || made === 'httpx.Client';
}

/** What of a response means its body is used as data (not a status or a header check). */
const BODY = new Set(['content', 'text', 'json', 'raw', 'iter_content', 'iter_lines', 'read', 'iter_bytes', 'iter_text']);

/**
 * Whether the response of `requests.get(...)` is read: `.content`, `.text`, `.json()`, ... on
 * the call itself or on the name it was assigned to.
 */
function responseUsed(model: NotebookModel, call: CallFact, at: Position): boolean {
  const facts = model.cells[at.cell]!.facts!;
  const holder = facts.bindings.find((b) => b.value?.kind === 'call' && b.value.call === call);
  let used = false;
  const visit = (expr: Expr | null | undefined): void => {
    if (!expr || used) return;
    switch (expr.kind) {
      case 'attribute':
        if (BODY.has(expr.name) && ((expr.object.kind === 'call' && expr.object.call === call) || (holder && expr.object.kind === 'name' && expr.object.name === holder.name))) used = true;
        visit(expr.object);
        break;
      case 'subscript':
        visit(expr.object);
        break;
      case 'call':
        visit(expr.call.callee);
        for (const arg of expr.call.args) visit(arg.value);
        break;
      case 'binary':
        visit(expr.left);
        visit(expr.right);
        break;
      case 'sequence':
        expr.items.forEach(visit);
        break;
      case 'string':
        expr.fields?.forEach(visit);
        break;
      default:
        break;
    }
  };
  const cells = holder ? model.codeCells().filter((c) => c.cell >= at.cell) : [{ facts }];
  for (const { facts: each } of cells) {
    for (const c of each.calls) {
      visit(c.callee);
      for (const arg of c.args) visit(arg.value);
    }
    for (const b of each.bindings) visit(b.value ?? b.unpacked?.value);
    if (used) return true;
  }
  // `with requests.get(url, stream=True) as r:` binds r to no value the model keeps: a body read
  // in that cell counts.
  if (!holder) return used || withResponseRead(facts.source, call);
  return used;
}

function withResponseRead(source: string, call: CallFact): boolean {
  const after = source.slice(call.span.to, call.span.to + 200);
  const bound = /^\s*as\s+([A-Za-z_]\w*)/.exec(after)?.[1];
  return !!bound && new RegExp(`\\b${bound}\\.(${[...BODY].join('|')})\\b`).test(source.slice(call.span.to));
}

// ---- shell --------------------------------------------------------------------------------

/** Programs a download piped into installs something (a signing key, a script): not data. */
const INSTALLERS = new Set(['apt-key', 'bash', 'sh', 'zsh', 'sudo', 'gpg', 'python', 'python3', 'tee', 'source']);
/** Files that set the machine up rather than hold data. */
const SETUP_FILE = /\.(sh|gpg|asc|key|pub|whl|deb|rpm|exe|msi|dmg)$/i;

function shellFindings(model: NotebookModel, command: ShellCommand): Found[] {
  const run = program(command);
  if (!run) return [];
  const expanded = (word: ShellWord): string => expand(model, word.text, command.at);
  const urlFinding = (word: ShellWord, tool: string): Found | null => {
    const value = expanded(word);
    const known = !value.includes('{}');
    if (known && !REMOTE.test(value)) return null;
    if (isLocalUrl(value) || SETUP_FILE.test(value.split(/[?#]/)[0]!)) return null;
    if (known && urlIsPinned(value)) return null;
    const shown = known || !value.startsWith('{}') ? `\`${shorten(displayUrl(value))}\`` : `\`${shorten(word.text, 60)}\``;
    const advice = REMOTE.test(value) ? urlAdvice(value) : 'Use a URL that names a fixed version, or download it once and keep the copy under version control.';
    return { span: word.span, message: `${shown} is downloaded at run time by \`${tool}\`: the data behind it can change or vanish between runs. ${advice}` };
  };
  const download = downloadOf(command);
  if (download) {
    if (download.sends || (command.pipedInto && INSTALLERS.has(command.pipedInto))) return [];
    const found = download.urls.map((w) => urlFinding(w, download.program)).filter((f): f is Found => f !== null);
    if (download.fromFile) {
      found.push({ span: download.fromFile.span, message: `\`${download.program} -i ${shorten(download.fromFile.text, 40)}\` downloads the URLs listed in that file at run time: pin each to a fixed version, or keep the downloaded copies under version control.` });
    }
    return found;
  }
  const args = run.args.filter((w) => !w.text.startsWith('-'));
  switch (run.name) {
    case 'git': {
      if (args[0]?.text !== 'clone' || !args[1]) return [];
      if (cloneIsPinned(run.args)) return [];
      const url = args[1];
      return [{ span: url.span, message: `\`git clone ${shorten(expanded(url), 60)}\` fetches the repository's default branch at run time: what it holds can change between runs. Check out a fixed commit or tag (\`git clone --branch <tag>\`, or \`git checkout <sha>\` after it), or add it as a submodule pinned to a commit.` }];
    }
    case 'kaggle': {
      if (!['datasets', 'competitions', 'd', 'c'].includes(args[0]?.text ?? '') || args[1]?.text !== 'download') return [];
      const ref = kaggleRef(run.args) ?? run.args[0]!;
      return [{ span: ref.span, message: `\`kaggle ${args[0]!.text} download ${shorten(ref.text, 50)}\` downloads the data at run time, in whatever version Kaggle serves that day: keep a copy under version control (DVC, git LFS) and read that.` }];
    }
    case 'gsutil': {
      if (!['cp', 'rsync'].includes(args[0]?.text ?? '')) return [];
      return args.slice(1, -1).map((w) => urlFinding(w, 'gsutil')).filter((f): f is Found => f !== null);
    }
    case 'aws': {
      if (args[0]?.text !== 's3' || !['cp', 'sync'].includes(args[1]?.text ?? '')) return [];
      const source = args[2];
      const found = source ? urlFinding(source, 'aws s3') : null;
      return found ? [found] : [];
    }
    case 'huggingface-cli':
    case 'hf': {
      if (args[0]?.text !== 'download' || !args[1] || run.args.some((w) => w.text === '--revision' || w.text.startsWith('--revision='))) return [];
      return [{ span: args[1].span, message: `\`${run.name} download ${shorten(args[1].text, 50)}\` downloads the repository's latest revision at run time: pass \`--revision <commit sha>\`, or keep a copy under version control.` }];
    }
    default:
      return [];
  }
}

/** `git clone --branch v1.2 URL`, `-b <sha>`, or a `git checkout <sha or tag>` later on the line. */
function cloneIsPinned(args: ShellWord[]): boolean {
  for (let i = 0; i < args.length; i++) {
    const text = args[i]!.text;
    const branch = text === '--branch' || text === '-b' ? args[i + 1]?.text : text.startsWith('--branch=') ? text.slice('--branch='.length) : undefined;
    if (branch && isFixedRef(branch)) return true;
  }
  return false;
}

function isFixedRef(ref: string): boolean {
  return /^v?\d+(\.\d+)+([-.+]\w+)*$/i.test(ref) || /^[0-9a-f]{7,40}$/i.test(ref);
}

function kaggleRef(args: ShellWord[]): ShellWord | null {
  for (let i = 0; i < args.length; i++) {
    const text = args[i]!.text;
    if ((text === '-d' || text === '--dataset' || text === '-c' || text === '--competition') && args[i + 1]) return args[i + 1]!;
  }
  // `kaggle datasets download owner/name`: the first plain argument after `download`.
  const at = args.findIndex((w) => w.text === 'download');
  return args.slice(at + 1).find((w) => !w.text.startsWith('-')) ?? null;
}

// ---- checksums ----------------------------------------------------------------------------

/**
 * Cells that check what they download: a `hashlib` call, `sha256sum -c`/`md5sum -c`/`shasum -c`,
 * or a `git checkout <sha or tag>`. A download there is taken for pinned.
 */
function checkedCells(model: NotebookModel): Set<number> {
  const cells = new Set<number>();
  for (const { cell, call, at } of model.calls()) {
    const path = model.calleePath(call, at);
    if (path?.startsWith('hashlib.')) cells.add(cell);
  }
  for (const command of shellCommands(model)) {
    const run = program(command);
    if (run && /^(sha\d*sum|md5sum|shasum|b2sum)$/.test(run.name) && run.args.some((w) => w.text === '-c' || w.text === '--check')) cells.add(command.cell);
    if (isFixedCheckout(command)) cells.add(command.cell);
  }
  return cells;
}

/** `git checkout <sha or tag>` after a clone on the line pins what the clone fetched. */
function isFixedCheckout(command: ShellCommand): boolean {
  const run = program(command);
  if (!run || run.name !== 'git') return false;
  const args = run.args.filter((w) => !w.text.startsWith('-'));
  return args[0]?.text === 'checkout' && !!args[1] && isFixedRef(args[1].text);
}

// ---- helpers ------------------------------------------------------------------------------

function keyword(call: CallFact, name: string): ArgFact | undefined {
  return call.args.find((a) => a.keyword === name);
}

function hasValue(call: CallFact, name: string): boolean {
  const arg = keyword(call, name);
  return !!arg && !(arg.value.kind === 'constant' && arg.value.value === 'None');
}

function isStringArg(call: CallFact, name: string): boolean {
  return keyword(call, name)?.value.kind === 'string';
}

function stringArg(model: NotebookModel, call: CallFact, position: number, name: string, at: Position): string | null {
  const arg = argumentAt(call, { position, keywords: [name] });
  return arg ? model.stringValue(arg.value, at) : null;
}

function calleeText(call: CallFact, written: (expr: Expr) => string): string {
  return shorten(written(call.callee), 50);
}

function shortCallee(callee: string): string {
  return callee.replace(/^pandas\./, 'pd.').replace(/^numpy\./, 'np.');
}

function readVerb(url: string): string {
  return /^(https?|ftp):/i.test(url) ? 'downloaded' : 'read from remote storage';
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

