/**
 * Which calls take a file path and where that path is: data reads (`pd.read_csv(path)`,
 * `open(path)`, `np.load(path)`, `Path(p).read_text()` …), writes (`df.to_csv(path)`,
 * `plt.savefig(path)` …) and other path uses (`os.chdir`, `sys.path.append`, `Path(...)`).
 * Shared by `unversioned-data` (reads) and `absolute-path` (every use).
 */
import path, { type PlatformPath } from 'node:path';
import type { ArgFact, CallFact, Expr, Span } from '../python/analyze';
import type { NotebookModel, Position } from '../model';

export type PathUseKind = 'read' | 'write' | 'other';

export interface PathUse {
  cell: number;
  at: Position;
  call: CallFact;
  kind: PathUseKind;
  /** The expression holding the path (an argument, or the receiver of `Path(...).read_text()`). */
  path: Expr;
  /** Where to point a finding about the path. */
  span: Span;
  /** What is called, for messages: `pandas.read_csv`, `open`, `to_csv`. */
  callee: string;
}

const PATH_CONSTRUCTORS = ['pathlib.Path', 'pathlib.PurePath', 'pathlib.PosixPath', 'pathlib.WindowsPath', 'pathlib.PurePosixPath', 'pathlib.PureWindowsPath'];

interface ArgSpec {
  /** Positional index of the path. */
  position: number;
  keywords: readonly string[];
}

const PANDAS_READERS = [
  'read_csv', 'read_table', 'read_parquet', 'read_json', 'read_excel', 'read_feather', 'read_pickle', 'read_orc',
  'read_stata', 'read_sas', 'read_spss', 'read_hdf', 'read_fwf', 'read_xml', 'read_html',
];
const PANDAS_PATH_KEYWORDS = ['filepath_or_buffer', 'path', 'path_or_buf', 'path_or_buffer', 'io'];

/** Resolved callee → where its path argument is. */
const READERS = new Map<string, ArgSpec>([
  ...PANDAS_READERS.map((name) => [`pandas.${name}`, { position: 0, keywords: PANDAS_PATH_KEYWORDS }] as const),
  ['numpy.load', { position: 0, keywords: ['file'] }],
  ['numpy.loadtxt', { position: 0, keywords: ['fname'] }],
  ['numpy.genfromtxt', { position: 0, keywords: ['fname'] }],
  ['numpy.fromfile', { position: 0, keywords: ['file'] }],
  ['joblib.load', { position: 0, keywords: ['filename'] }],
  ['torch.load', { position: 0, keywords: ['f'] }],
  ['PIL.Image.open', { position: 0, keywords: ['fp'] }],
  ['cv2.imread', { position: 0, keywords: ['filename'] }],
  ['pyarrow.parquet.read_table', { position: 0, keywords: ['source'] }],
  ['pyarrow.parquet.ParquetFile', { position: 0, keywords: ['source'] }],
  ['pyarrow.csv.read_csv', { position: 0, keywords: ['input_file'] }],
  ['pyarrow.feather.read_table', { position: 0, keywords: ['source'] }],
  ['pyarrow.feather.read_feather', { position: 0, keywords: ['source'] }],
  ['xarray.open_dataset', { position: 0, keywords: ['filename_or_obj'] }],
  ['scipy.io.loadmat', { position: 0, keywords: ['file_name'] }],
  ['geopandas.read_file', { position: 0, keywords: ['filename'] }],
]);

/** Calls that open a file for reading unless their mode says otherwise. */
const OPENERS = new Map<string, ArgSpec & { mode: ArgSpec }>([
  ['builtins.open', { position: 0, keywords: ['file'], mode: { position: 1, keywords: ['mode'] } }],
  ['io.open', { position: 0, keywords: ['file'], mode: { position: 1, keywords: ['mode'] } }],
  ['h5py.File', { position: 0, keywords: ['name'], mode: { position: 1, keywords: ['mode'] } }],
]);

const WRITERS = new Map<string, ArgSpec>([
  ['numpy.save', { position: 0, keywords: ['file'] }],
  ['numpy.savez', { position: 0, keywords: ['file'] }],
  ['numpy.savez_compressed', { position: 0, keywords: ['file'] }],
  ['numpy.savetxt', { position: 0, keywords: ['fname'] }],
  ['torch.save', { position: 1, keywords: ['f'] }],
  ['joblib.dump', { position: 1, keywords: ['filename'] }],
  ['cv2.imwrite', { position: 0, keywords: ['filename'] }],
  ['urllib.request.urlretrieve', { position: 1, keywords: ['filename'] }],
  ['urllib.urlretrieve', { position: 1, keywords: ['filename'] }],
  ['gdown.download', { position: 1, keywords: ['output'] }],
  ['sklearn.tree.export_graphviz', { position: 1, keywords: ['out_file'] }],
  ['shutil.unpack_archive', { position: 1, keywords: ['extract_dir'] }],
  ['keras.models.save_model', { position: 1, keywords: ['filepath'] }],
  ['tensorflow.keras.models.save_model', { position: 1, keywords: ['filepath'] }],
  ['tensorflow.saved_model.save', { position: 1, keywords: ['export_dir'] }],
]);

/** Writes recognised by method name: the receiver is a data frame or figure the model cannot type. */
const WRITE_METHODS = new Map<string, ArgSpec>([
  ...['to_csv', 'to_parquet', 'to_json', 'to_excel', 'to_feather', 'to_pickle', 'to_hdf', 'to_stata', 'to_orc', 'to_xml', 'to_netcdf'].map(
    (name) => [name, { position: 0, keywords: ['path_or_buf', 'path', 'excel_writer', 'fname', 'path_or_buffer'] }] as const,
  ),
  ['savefig', { position: 0, keywords: ['fname'] }],
  ...['write_csv', 'write_parquet', 'write_json', 'write_ndjson', 'write_ipc', 'write_excel', 'write_avro'].map(
    (name) => [name, { position: 0, keywords: ['file'] }] as const,
  ),
  ['save_pretrained', { position: 0, keywords: ['save_directory'] }],
  // A model's, an image's or a workbook's `save(path)`; `archive.extractall(folder)`.
  ['save', { position: 0, keywords: ['filepath', 'fp', 'filename', 'path', 'fname', 'file'] }],
  ['save_weights', { position: 0, keywords: ['filepath'] }],
  ['save_model', { position: 0, keywords: ['fname', 'filepath', 'model_file'] }],
  ['to_file', { position: 0, keywords: ['filename', 'path'] }],
  ['extractall', { position: 0, keywords: ['path'] }],
]);

/** Other calls whose arguments are paths (every listed position). */
const OTHER_PATH_CALLS = new Map<string, { positions: number[] | 'all'; keywords: readonly string[] }>([
  ['os.chdir', { positions: [0], keywords: ['path'] }],
  ['os.listdir', { positions: [0], keywords: ['path'] }],
  ['os.scandir', { positions: [0], keywords: ['path'] }],
  ['os.walk', { positions: [0], keywords: ['top'] }],
  ['os.makedirs', { positions: [0], keywords: ['name'] }],
  ['os.mkdir', { positions: [0], keywords: ['path'] }],
  ['os.remove', { positions: [0], keywords: ['path'] }],
  ['os.unlink', { positions: [0], keywords: ['path'] }],
  ['os.rename', { positions: [0, 1], keywords: ['src', 'dst'] }],
  ['os.path.exists', { positions: [0], keywords: ['path'] }],
  ['os.path.isfile', { positions: [0], keywords: ['path'] }],
  ['os.path.isdir', { positions: [0], keywords: ['s'] }],
  ['os.path.getsize', { positions: [0], keywords: ['filename'] }],
  ['os.path.expanduser', { positions: [0], keywords: ['path'] }],
  ['os.path.abspath', { positions: [0], keywords: ['path'] }],
  ['os.path.realpath', { positions: [0], keywords: ['path'] }],
  ['os.path.join', { positions: 'all', keywords: [] }],
  ['glob.glob', { positions: [0], keywords: ['pathname'] }],
  ['glob.iglob', { positions: [0], keywords: ['pathname'] }],
  ['shutil.copy', { positions: [0, 1], keywords: ['src', 'dst'] }],
  ['shutil.copy2', { positions: [0, 1], keywords: ['src', 'dst'] }],
  ['shutil.copyfile', { positions: [0, 1], keywords: ['src', 'dst'] }],
  ['shutil.copytree', { positions: [0, 1], keywords: ['src', 'dst'] }],
  ['shutil.move', { positions: [0, 1], keywords: ['src', 'dst'] }],
  ['shutil.rmtree', { positions: [0], keywords: ['path'] }],
  ['sys.path.append', { positions: [0], keywords: [] }],
  ['sys.path.insert', { positions: [1], keywords: [] }],
  ...PATH_CONSTRUCTORS.map((name) => [name, { positions: 'all' as const, keywords: [] }] as const),
]);

const OTHER_PATH_METHODS = new Map<string, ArgSpec>([['from_pretrained', { position: 0, keywords: ['pretrained_model_name_or_path'] }]]);

const PATH_CLASSES: ReadonlySet<string> = new Set(PATH_CONSTRUCTORS);

/** Methods of a `pathlib.Path` that read, write or open the file. */
const PATH_METHODS: Record<string, PathUseKind | 'open'> = {
  read_text: 'read',
  read_bytes: 'read',
  write_text: 'write',
  write_bytes: 'write',
  open: 'open',
};

/** The argument at `spec` (by keyword or position), or undefined. Gives up after a `*args`. */
export function argumentAt(call: CallFact, spec: ArgSpec): ArgFact | undefined {
  const byKeyword = call.args.find((a) => a.keyword !== null && spec.keywords.includes(a.keyword));
  if (byKeyword) return byKeyword;
  let index = 0;
  for (const arg of call.args) {
    if (arg.star) return undefined;
    if (arg.keyword !== null) continue;
    if (index === spec.position) return arg;
    index++;
  }
  return undefined;
}

/** Whether a file mode opens for reading only (`r`, `rb`, `rt`, absent); `r+` reads too. */
function modeReads(model: NotebookModel, call: CallFact, spec: ArgSpec, at: Position): boolean | null {
  const arg = argumentAt(call, spec);
  if (!arg) return true;
  const mode = model.stringValue(arg.value, at);
  if (mode === null) return null;
  if (/[wax]/.test(mode)) return false;
  return true;
}

function methodName(call: CallFact): string | null {
  return call.callee.kind === 'attribute' ? call.callee.name : null;
}

/** Every call in the notebook that takes a path, with the path argument. */
/** Both path rules ask for the same model's uses: computed once per model. */
const pathUsesOf = new WeakMap<NotebookModel, PathUse[]>();

export function pathUses(model: NotebookModel): PathUse[] {
  let uses = pathUsesOf.get(model);
  if (!uses) {
    uses = findPathUses(model);
    pathUsesOf.set(model, uses);
  }
  return uses;
}

function findPathUses(model: NotebookModel): PathUse[] {
  const uses: PathUse[] = [];
  for (const { cell, call, at } of model.calls()) {
    const callee = model.calleePath(call, at);
    const add = (kind: PathUseKind, arg: ArgFact | undefined, name: string): void => {
      if (arg && !arg.star) uses.push({ cell, at, call, kind, path: arg.value, span: arg.value.span, callee: name });
    };
    if (callee) {
      const reader = READERS.get(callee) ?? polarsReader(callee);
      if (reader) {
        add('read', argumentAt(call, reader), callee);
        continue;
      }
      const opener = OPENERS.get(callee);
      if (opener) {
        const reads = modeReads(model, call, opener.mode, at);
        add(reads === null ? 'other' : reads ? 'read' : 'write', argumentAt(call, opener), callee === 'builtins.open' ? 'open' : callee);
        continue;
      }
      const writer = WRITERS.get(callee);
      if (writer) {
        add('write', argumentAt(call, writer), callee);
        continue;
      }
      const other = OTHER_PATH_CALLS.get(callee);
      if (other) {
        call.args.forEach((arg, i) => {
          if (arg.star) return;
          const positional = call.args.slice(0, i).filter((a) => a.keyword === null).length;
          const matches = arg.keyword === null ? other.positions === 'all' || other.positions.includes(positional) : other.keywords.includes(arg.keyword);
          if (matches) add('other', arg, callee);
        });
        continue;
      }
    }
    const method = methodName(call);
    if (!method || call.callee.kind !== 'attribute') continue;
    const pathMethod = PATH_METHODS[method];
    if (pathMethod) {
      const receiver = call.callee.object;
      if (PATH_CLASSES.has(model.constructedBy(receiver, at) ?? '')) {
        let kind: PathUseKind = pathMethod === 'open' ? 'read' : pathMethod;
        if (pathMethod === 'open') {
          const reads = modeReads(model, call, { position: 0, keywords: ['mode'] }, at);
          kind = reads === null ? 'other' : reads ? 'read' : 'write';
        }
        // Point at `"data/x.csv"` in `Path("data/x.csv").read_text()`, else at the receiver.
        const inner = receiver.kind === 'call' && receiver.call.args.length === 1 && !receiver.call.args[0]!.keyword && !receiver.call.args[0]!.star ? receiver.call.args[0]!.value : null;
        uses.push({ cell, at, call, kind, path: receiver, span: (inner ?? receiver).span, callee: `Path.${method}` });
        continue;
      }
    }
    const writeMethod = WRITE_METHODS.get(method);
    if (writeMethod) {
      add('write', argumentAt(call, writeMethod), method);
      continue;
    }
    const otherMethod = OTHER_PATH_METHODS.get(method);
    if (otherMethod) add('other', argumentAt(call, otherMethod), method);
  }
  return uses;
}

function polarsReader(callee: string): ArgSpec | undefined {
  const match = /^polars\.(read|scan)_[a-z_]+$/.exec(callee);
  return match ? { position: 0, keywords: ['source', 'file'] } : undefined;
}

/** Calls whose result is a path built from their arguments. */
const PATH_BUILDERS: ReadonlySet<string> = new Set([...PATH_CONSTRUCTORS, 'os.path.join', 'posixpath.join', 'ntpath.join', 'os.path.expanduser', 'os.path.abspath', 'os.path.normpath', 'builtins.str']);

export interface LocatedLiteral {
  cell: number;
  literal: Extract<Expr, { kind: 'string' }>;
}

/**
 * The string literals a path expression is built from, following names to the literal they were
 * assigned (in whichever cell), `+`, `/`, `os.path.join` and `Path(...)`.
 */
export function pathLiterals(model: NotebookModel, expr: Expr, at: Position, depth = 0): LocatedLiteral[] {
  if (depth > 8) return [];
  switch (expr.kind) {
    case 'string':
      return expr.bytes ? [] : [{ cell: at.cell, literal: expr }];
    case 'name': {
      const binding = model.bindingAt(expr.name, at);
      if (!binding?.item.value) return [];
      return pathLiterals(model, binding.item.value, { cell: binding.cell, offset: binding.item.span.from }, depth + 1);
    }
    case 'binary':
      if (expr.op !== '/' && expr.op !== '+') return [];
      return [...pathLiterals(model, expr.left, at, depth + 1), ...pathLiterals(model, expr.right, at, depth + 1)];
    case 'call': {
      const callee = model.calleePath(expr.call, at);
      if (!callee || !PATH_BUILDERS.has(callee)) return [];
      return expr.call.args.filter((a) => !a.keyword && !a.star).flatMap((a) => pathLiterals(model, a.value, at, depth + 1));
    }
    default:
      return [];
  }
}

/**
 * Path functions for the project's platform, told from the root's shape so that a Windows
 * project linted elsewhere (and tests) resolve like Windows does.
 */
export function pathApiFor(root: string): PlatformPath {
  return /^[A-Za-z]:[\\/]/.test(root) || root.startsWith('\\\\') ? path.win32 : path.posix;
}

/** `C:\x` → `C:/x` for display and for relative paths written into Python source. */
export function forwardSlashes(value: string): string {
  return value.replace(/\\/g, '/');
}

/** Shortened for messages: long paths and URLs keep their start and end. */
export function shorten(value: string, max = 80): string {
  return value.length <= max ? value : `${value.slice(0, max / 2 - 1)}…${value.slice(value.length - max / 2)}`;
}

/** Calls that join path parts: their result is the parts with `/` between. */
const JOINS: ReadonlySet<string> = new Set([...PATH_CONSTRUCTORS, 'os.path.join', 'posixpath.join', 'ntpath.join']);

/**
 * What a path or URL expression holds as far as it is known: the model's `stringValue`, else the
 * known parts of `+`, `/`, `os.path.join(...)` and `Path(...)` with `{}` for the unknown ones
 * (`os.path.join("datasets", name)` gives `datasets/{}`), following global names to their values
 * and a function's parameter to its default (`def fetch(url=HOUSING_URL)`). Null when nothing is
 * known.
 */
export function partialString(model: NotebookModel, expr: Expr, at: Position, depth = 0): string | null {
  const known = model.stringValue(expr, at);
  if (known !== null || depth > 6) return known;
  const part = (e: Expr): string | null => partialString(model, e, at, depth + 1);
  switch (expr.kind) {
    case 'binary': {
      if (expr.op !== '+' && expr.op !== '/') return null;
      const left = part(expr.left);
      const right = part(expr.right);
      if (left === null && right === null) return null;
      return (left ?? '{}') + (expr.op === '/' ? '/' : '') + (right ?? '{}');
    }
    case 'call': {
      const callee = model.calleePath(expr.call, at);
      if ((callee === 'urllib.parse.urljoin' || callee === 'urlparse.urljoin') && expr.call.args.length === 2 && !expr.call.args.some((a) => a.keyword || a.star)) {
        const base = part(expr.call.args[0]!.value);
        const relative = part(expr.call.args[1]!.value);
        return base === null && relative === null ? null : urlJoin(base ?? '{}', relative ?? '{}');
      }
      if (!callee || !JOINS.has(callee) || expr.call.args.some((a) => a.keyword || a.star) || !expr.call.args.length) return null;
      const parts = expr.call.args.map((a) => part(a.value));
      if (parts.every((p) => p === null)) return null;
      return parts.map((p) => p ?? '{}').join('/');
    }
    case 'name': {
      const facts = model.cells[at.cell]?.facts;
      if (!facts) return null;
      if (facts.uses.some((u) => u.span.from === expr.span.from)) {
        const binding = model.bindingAt(expr.name, at);
        return binding?.item.value ? partialString(model, binding.item.value, { cell: binding.cell, offset: binding.item.span.from }, depth + 1) : null;
      }
      // A parameter of the function around it, with a default: `def fetch(url=URL)`.
      const parameter = facts.namedValues.filter((v) => v.kind === 'parameter' && v.name === expr.name && v.value.span.to <= expr.span.from).at(-1);
      return parameter ? part(parameter.value) : null;
    }
    default:
      return null;
  }
}

/** `urllib.parse.urljoin` for the cases a notebook writes: absolute, root-relative, relative. */
function urlJoin(base: string, relative: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(relative)) return relative;
  if (relative.startsWith('/')) return (/^[a-z][a-z0-9+.-]*:\/\/[^/]*/i.exec(base)?.[0] ?? '') + relative;
  return base.slice(0, base.lastIndexOf('/') + 1) + relative;
}
