/**
 * What an import name means for requirements: whether it is the standard library, and which
 * distributions (the names pip installs) provide it when the two names differ
 * (`import sklearn` comes from scikit-learn).
 */
import { normalizeDistributionName } from '../project';

/**
 * `sys.stdlib_module_names` of CPython 3.11 (generated, not hand-written), the private modules
 * 3.12 added, and `__main__`. Modules removed in later versions (distutils, imp, asyncore, ...) stay listed:
 * a notebook importing them was written against a Python that had them.
 */
// prettier-ignore
export const STDLIB_MODULES: ReadonlySet<string> = new Set([
  '__future__', '__main__', '_abc', '_aix_support', '_ast', '_asyncio', '_bisect', '_blake2', '_bootsubprocess', '_bz2',
  '_codecs', '_codecs_cn', '_codecs_hk', '_codecs_iso2022', '_codecs_jp', '_codecs_kr', '_codecs_tw', '_collections',
  '_collections_abc', '_compat_pickle', '_compression', '_contextvars', '_crypt', '_csv', '_ctypes', '_curses',
  '_curses_panel', '_datetime', '_dbm', '_decimal', '_elementtree', '_frozen_importlib', '_frozen_importlib_external',
  '_functools', '_gdbm', '_hashlib', '_heapq', '_imp', '_io', '_json', '_locale', '_lsprof', '_lzma', '_markupbase',
  '_md5', '_msi', '_multibytecodec', '_multiprocessing', '_opcode', '_operator', '_osx_support', '_overlapped',
  '_pickle', '_posixshmem', '_posixsubprocess', '_py_abc', '_pydatetime', '_pydecimal', '_pyio', '_pylong', '_queue',
  '_random', '_scproxy', '_sha1', '_sha256', '_sha3', '_sha512', '_signal', '_sitebuiltins', '_socket', '_sqlite3',
  '_sre', '_ssl', '_stat', '_statistics', '_string', '_strptime', '_struct', '_symtable', '_thread',
  '_threading_local', '_tkinter', '_tokenize', '_tracemalloc', '_typing', '_uuid', '_warnings', '_weakref',
  '_weakrefset', '_winapi', '_wmi', '_zoneinfo', 'abc', 'aifc', 'antigravity', 'argparse', 'array', 'ast', 'asynchat',
  'asyncio', 'asyncore', 'atexit', 'audioop', 'base64', 'bdb', 'binascii', 'bisect', 'builtins', 'bz2', 'cProfile',
  'calendar', 'cgi', 'cgitb', 'chunk', 'cmath', 'cmd', 'code', 'codecs', 'codeop', 'collections', 'colorsys',
  'compileall', 'concurrent', 'configparser', 'contextlib', 'contextvars', 'copy', 'copyreg', 'crypt', 'csv',
  'ctypes', 'curses', 'dataclasses', 'datetime', 'dbm', 'decimal', 'difflib', 'dis', 'distutils', 'doctest', 'email',
  'encodings', 'ensurepip', 'enum', 'errno', 'faulthandler', 'fcntl', 'filecmp', 'fileinput', 'fnmatch', 'fractions',
  'ftplib', 'functools', 'gc', 'genericpath', 'getopt', 'getpass', 'gettext', 'glob', 'graphlib', 'grp', 'gzip',
  'hashlib', 'heapq', 'hmac', 'html', 'http', 'idlelib', 'imaplib', 'imghdr', 'imp', 'importlib', 'inspect', 'io',
  'ipaddress', 'itertools', 'json', 'keyword', 'lib2to3', 'linecache', 'locale', 'logging', 'lzma', 'mailbox',
  'mailcap', 'marshal', 'math', 'mimetypes', 'mmap', 'modulefinder', 'msilib', 'msvcrt', 'multiprocessing', 'netrc',
  'nis', 'nntplib', 'nt', 'ntpath', 'nturl2path', 'numbers', 'opcode', 'operator', 'optparse', 'os', 'ossaudiodev',
  'pathlib', 'pdb', 'pickle', 'pickletools', 'pipes', 'pkgutil', 'platform', 'plistlib', 'poplib', 'posix',
  'posixpath', 'pprint', 'profile', 'pstats', 'pty', 'pwd', 'py_compile', 'pyclbr', 'pydoc', 'pydoc_data', 'pyexpat',
  'queue', 'quopri', 'random', 're', 'readline', 'reprlib', 'resource', 'rlcompleter', 'runpy', 'sched', 'secrets',
  'select', 'selectors', 'shelve', 'shlex', 'shutil', 'signal', 'site', 'smtpd', 'smtplib', 'sndhdr', 'socket',
  'socketserver', 'spwd', 'sqlite3', 'sre_compile', 'sre_constants', 'sre_parse', 'ssl', 'stat', 'statistics',
  'string', 'stringprep', 'struct', 'subprocess', 'sunau', 'symtable', 'sys', 'sysconfig', 'syslog', 'tabnanny',
  'tarfile', 'telnetlib', 'tempfile', 'termios', 'textwrap', 'this', 'threading', 'time', 'timeit', 'tkinter',
  'token', 'tokenize', 'tomllib', 'trace', 'traceback', 'tracemalloc', 'tty', 'turtle', 'turtledemo', 'types',
  'typing', 'unicodedata', 'unittest', 'urllib', 'uu', 'uuid', 'venv', 'warnings', 'wave', 'weakref', 'webbrowser',
  'winreg', 'winsound', 'wsgiref', 'xdrlib', 'xml', 'xmlrpc', 'zipapp', 'zipfile', 'zipimport', 'zlib', 'zoneinfo',
]);

/**
 * Import names whose distribution is named differently, with every distribution that provides
 * them (the first is the one to suggest). Names missing here are assumed to be their own
 * distribution (PEP 503-normalised: `huggingface_hub` is huggingface-hub).
 */
// prettier-ignore
const DISTRIBUTIONS_BY_IMPORT: Readonly<Record<string, readonly string[]>> = {
  sklearn: ['scikit-learn'],
  skimage: ['scikit-image'],
  imblearn: ['imbalanced-learn'],
  cv2: ['opencv-python', 'opencv-python-headless', 'opencv-contrib-python', 'opencv-contrib-python-headless'],
  PIL: ['pillow', 'pillow-simd'],
  yaml: ['pyyaml'],
  bs4: ['beautifulsoup4', 'bs4'],
  dateutil: ['python-dateutil'],
  dotenv: ['python-dotenv'],
  jwt: ['pyjwt'],
  jose: ['python-jose'],
  Crypto: ['pycryptodome', 'pycrypto'],
  Cryptodome: ['pycryptodomex'],
  nacl: ['pynacl'],
  attr: ['attrs'],
  serial: ['pyserial'],
  OpenSSL: ['pyopenssl'],
  usb: ['pyusb'],
  zmq: ['pyzmq'],
  gi: ['pygobject'],
  cairo: ['pycairo'],
  fitz: ['pymupdf'],
  magic: ['python-magic'],
  docx: ['python-docx'],
  pptx: ['python-pptx'],
  slugify: ['python-slugify'],
  multipart: ['python-multipart'],
  MySQLdb: ['mysqlclient'],
  psycopg2: ['psycopg2', 'psycopg2-binary'],
  psycopg: ['psycopg', 'psycopg-binary'],
  bson: ['pymongo'],
  ldap: ['python-ldap'],
  dns: ['dnspython'],
  git: ['gitpython'],
  github: ['pygithub'],
  telegram: ['python-telegram-bot'],
  discord: ['discord-py'],
  kafka: ['kafka-python'],
  websocket: ['websocket-client'],
  socketio: ['python-socketio'],
  engineio: ['python-engineio'],
  grpc: ['grpcio'],
  googleapiclient: ['google-api-python-client'],
  win32api: ['pywin32'],
  win32con: ['pywin32'],
  win32com: ['pywin32'],
  win32gui: ['pywin32'],
  win32file: ['pywin32'],
  pythoncom: ['pywin32'],
  pywintypes: ['pywin32'],
  wx: ['wxpython'],
  Xlib: ['python-xlib'],
  speech_recognition: ['speechrecognition'],
  Levenshtein: ['levenshtein', 'python-levenshtein'],
  umap: ['umap-learn'],
  faiss: ['faiss-cpu', 'faiss-gpu'],
  igraph: ['igraph', 'python-igraph'],
  community: ['python-louvain'],
  Bio: ['biopython'],
  rdkit: ['rdkit', 'rdkit-pypi'],
  osgeo: ['gdal'],
  delta: ['delta-spark'],
  talib: ['ta-lib'],
  llama_cpp: ['llama-cpp-python'],
  absl: ['absl-py'],
  tf_keras: ['tf-keras'],
  fbprophet: ['fbprophet', 'prophet'],
  pkg_resources: ['setuptools'],
  mpl_toolkits: ['matplotlib'],
  pylab: ['matplotlib'],
  // Jupyter's metapackages depend on IPython, so declaring them declares it.
  IPython: ['ipython', 'ipykernel', 'jupyter', 'notebook', 'jupyterlab'],
  ipykernel: ['ipykernel', 'jupyter', 'notebook', 'jupyterlab'],
  nbformat: ['nbformat', 'jupyter', 'notebook', 'jupyterlab', 'nbconvert', 'nbclient'],
  nbconvert: ['nbconvert', 'jupyter', 'notebook', 'jupyterlab'],
  nbclient: ['nbclient', 'nbconvert', 'jupyter', 'notebook', 'jupyterlab'],
  jupyter_client: ['jupyter-client', 'ipykernel', 'jupyter', 'notebook', 'jupyterlab'],
  ipywidgets: ['ipywidgets', 'jupyter'],
  torch: ['torch', 'pytorch'],
  tensorflow: ['tensorflow', 'tensorflow-cpu', 'tensorflow-gpu', 'tensorflow-macos', 'tensorflow-intel', 'tf-nightly'],
  // TensorFlow 2 depends on keras.
  keras: ['keras', 'tensorflow', 'tensorflow-cpu', 'tensorflow-gpu', 'tensorflow-macos'],
  sqlalchemy: ['sqlalchemy'],
  unidecode: ['unidecode', 'text-unidecode'],
  markdown: ['markdown'],
  // Packages whose import name is not their distribution's.
  tensorflow_serving: ['tensorflow-serving-api', 'tensorflow-serving-api-gpu'],
  grpc_tools: ['grpcio-tools'],
  grpc_status: ['grpcio-status'],
  ignite: ['pytorch-ignite'],
  skopt: ['scikit-optimize'],
  surprise: ['scikit-surprise'],
  pycrfsuite: ['python-crfsuite'],
  pdfminer: ['pdfminer-six', 'pdfminer'],
  newspaper: ['newspaper3k', 'newspaper4k'],
  apiclient: ['google-api-python-client'],
  paddle: ['paddlepaddle', 'paddlepaddle-gpu'],
  haiku: ['dm-haiku'],
  sonnet: ['dm-sonnet'],
  tree: ['dm-tree'],
  gin: ['gin-config'],
  OpenGL: ['pyopengl'],
  snappy: ['python-snappy'],
  Image: ['pillow'],
  cupy: ['cupy', 'cupy-cuda12x', 'cupy-cuda11x'],
  onnxruntime: ['onnxruntime', 'onnxruntime-gpu'],
  fasttext: ['fasttext', 'fasttext-wheel'],
  sentencepiece: ['sentencepiece'],
  pyximport: ['cython'],
  memory_profiler: ['memory-profiler'],
  line_profiler: ['line-profiler'],
};

/**
 * Namespace packages: the distribution is named after the first parts of the module
 * (`google.cloud.storage` is google-cloud-storage, `azure.storage.blob` is azure-storage-blob).
 */
// prettier-ignore
const NAMESPACE_PACKAGES: ReadonlySet<string> = new Set([
  'google', 'azure', 'jaraco', 'zope', 'backports', 'ruamel', 'sphinxcontrib', 'opentelemetry', 'snowflake', 'databricks', 'mysql', 'oslo',
]);

// prettier-ignore
const NAMESPACE_MODULES: Readonly<Record<string, readonly string[]>> = {
  'google.protobuf': ['protobuf'],
  'google.auth': ['google-auth'],
  'google.oauth2': ['google-auth'],
  'google.api_core': ['google-api-core'],
  'google.rpc': ['googleapis-common-protos'],
  'google.type': ['googleapis-common-protos'],
  'google.api': ['googleapis-common-protos'],
  'google.longrunning': ['googleapis-common-protos'],
  // Parts of google-cloud-core that the other google-cloud distributions bring along.
  'google.cloud.exceptions': ['google-cloud-core'],
  'google.cloud.client': ['google-cloud-core'],
  'snowflake.connector': ['snowflake-connector-python'],
  'snowflake.snowpark': ['snowflake-snowpark-python'],
  'mysql.connector': ['mysql-connector-python', 'mysql-connector'],
};

/**
 * Modules that the environment running the notebook provides and no requirements file can:
 * Colab's and Kaggle's helpers, Pyodide's bridge (JupyterLite).
 */
const ENVIRONMENT_MODULES: ReadonlySet<string> = new Set(['google.colab', 'kaggle_secrets', 'kaggle_datasets', 'pyodide', 'js', 'micropip']);

export function isStdlibModule(topLevel: string): boolean {
  return STDLIB_MODULES.has(topLevel);
}

/**
 * Python 2's standard library modules that Python 3 renamed or removed (`urllib2`, `cPickle`,
 * `StringIO`, `ConfigParser`, ...). Importing one means the code is Python 2: that is one finding
 * about the notebook (another rule's), not a missing requirement.
 */
// prettier-ignore
export const PYTHON2_STDLIB_MODULES: ReadonlySet<string> = new Set([
  '__builtin__', '_winreg', 'anydbm', 'BaseHTTPServer', 'Bastion', 'CGIHTTPServer', 'commands', 'compiler', 'ConfigParser',
  'Cookie', 'cookielib', 'copy_reg', 'cPickle', 'cStringIO', 'dbhash', 'Dialog', 'dircache', 'DocXMLRPCServer', 'dumbdbm',
  'dummy_thread', 'exceptions', 'FileDialog', 'fpformat', 'future_builtins', 'gdbm', 'htmlentitydefs', 'htmllib', 'HTMLParser',
  'httplib', 'imputil', 'markupbase', 'md5', 'mhlib', 'mimetools', 'MimeWriter', 'mimify', 'multifile', 'mutex', 'new', 'popen2',
  'posixfile', 'Queue', 'repr', 'rexec', 'rfc822', 'robotparser', 'ScrolledText', 'sets', 'sgmllib', 'sha', 'SimpleDialog',
  'SimpleHTTPServer', 'SimpleXMLRPCServer', 'SocketServer', 'statvfs', 'StringIO', 'thread', 'Tix', 'tkColorChooser',
  'tkCommonDialog', 'Tkconstants', 'Tkdnd', 'tkFileDialog', 'tkFont', 'Tkinter', 'tkMessageBox', 'tkSimpleDialog', 'ttk',
  'urllib2', 'urlparse', 'UserDict', 'UserList', 'UserString', 'whichdb', 'xmlrpclib',
]);

export function isPython2StdlibModule(topLevel: string): boolean {
  return PYTHON2_STDLIB_MODULES.has(topLevel);
}

/** Whether a module comes with the environment (Colab, Kaggle, Pyodide), never from a requirement. */
export function isEnvironmentModule(module: string): boolean {
  const parts = module.split('.');
  for (let i = 1; i <= parts.length; i++) if (ENVIRONMENT_MODULES.has(parts.slice(0, i).join('.'))) return true;
  return false;
}

/** Azure's product families: their distributions have three parts (azure-storage-blob, azure-ai-ml). */
// prettier-ignore
const AZURE_FAMILIES: ReadonlySet<string> = new Set([
  'storage', 'ai', 'mgmt', 'keyvault', 'data', 'search', 'monitor', 'communication', 'messaging', 'synapse', 'digitaltwins', 'iot', 'mixedreality', 'developer',
]);

/** How many leading parts of a namespace package's module name its distribution (google.cloud.storage: 3). */
function namespaceDepth(parts: readonly string[]): number {
  if (parts[0] === 'google' && parts[1] === 'cloud') return 3;
  if (parts[0] === 'azure' && AZURE_FAMILIES.has(parts[1] ?? '')) return 3;
  return 2;
}

/**
 * The module whose distribution an import needs. Usually the imported module; for
 * `from google.cloud import storage` the module alone names only the namespace, so the
 * imported name completes it (`google.cloud.storage`).
 */
export function moduleOfImport(module: string, importedName: string | undefined): string {
  const parts = module.split('.');
  if (importedName && NAMESPACE_PACKAGES.has(parts[0]!) && parts.length < namespaceDepth([...parts, importedName])) return `${module}.${importedName}`;
  return module;
}

export interface ImportedDistribution {
  /** What the import is keyed on: the top-level module, or the namespace package's module. */
  key: string;
  /** Normalised distribution names that provide it, the one to suggest first. */
  candidates: string[];
}

/**
 * The distributions that may provide an imported module (dotted, absolute). Null for a bare
 * namespace package (`import google`), which no single distribution provides.
 */
export function distributionsFor(module: string): ImportedDistribution | null {
  const parts = module.split('.');
  const top = parts[0]!;
  if (NAMESPACE_PACKAGES.has(top)) {
    if (parts.length < 2) return null;
    for (let i = parts.length; i >= 2; i--) {
      const known = NAMESPACE_MODULES[parts.slice(0, i).join('.')];
      if (known) return { key: parts.slice(0, i).join('.'), candidates: known.map(normalizeDistributionName) };
    }
    // google.cloud.storage is google-cloud-storage, azure.storage.blob is azure-storage-blob,
    // azure.identity is azure-identity: suggest that depth, accept longer and shorter joins too
    // (azure.core.exceptions comes from azure-core).
    const depth = Math.min(parts.length, namespaceDepth(parts));
    const join = (n: number): string => normalizeDistributionName(parts.slice(0, n).join('-'));
    const candidates: string[] = [join(depth)];
    for (let n = depth + 1; n <= parts.length; n++) candidates.push(join(n));
    for (let n = depth - 1; n >= 2; n--) candidates.push(join(n));
    for (const name of [...candidates]) candidates.push(`${name}-python`);
    return { key: parts.slice(0, depth).join('.'), candidates };
  }
  const known = DISTRIBUTIONS_BY_IMPORT[top];
  const own = normalizeDistributionName(top);
  // Common spellings of a distribution wrapping a module: pyserial, python-magic, opencv-python.
  const candidates = known ? known.map(normalizeDistributionName) : [own, `py${own}`, `python-${own}`, `${own}-python`];
  return { key: top, candidates };
}
