// Times loading and activating an extension bundle in a fresh Node process with a stand-in for
// the `vscode` module (every API is a no-op proxy). It measures our own start-up cost —
// bundle parse and evaluation plus activate() — and whether WebAssembly was
// instantiated during activation, which it must not be.
// Usage: node bench/activate.cjs BUNDLE  → prints {"ms": …, "wasmInstantiated": …}
const Module = require('node:module');
const path = require('node:path');

function stub() {
  const fn = function () {};
  return new Proxy(fn, {
    get: (_t, prop) => (prop === Symbol.toPrimitive ? () => '' : prop === 'then' ? undefined : stub()),
    // Extensions assign properties (statusBarItem.name = ...): accept and forget them.
    set: () => true,
    apply: () => stub(),
    construct: () => stub(),
  });
}
// esbuild's interop copies the module's own keys, so the namespaces and classes we use are listed.
const API_NAMES = ['window', 'workspace', 'commands', 'env', 'extensions', 'languages', 'notebooks', 'Uri', 'EventEmitter',
  'ThemeIcon', 'ThemeColor', 'TreeItem', 'TreeItemCollapsibleState', 'MarkdownString', 'RelativePattern', 'ViewColumn',
  'CancellationError', 'Disposable', 'ProgressLocation', 'StatusBarAlignment', 'Range', 'Position', 'Diagnostic',
  'DiagnosticSeverity', 'CodeAction', 'CodeActionKind', 'WorkspaceEdit', 'NotebookCellKind', 'l10n'];
const vscodeStub = Object.fromEntries(API_NAMES.map((name) => [name, stub()]));
const originalResolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (request === 'vscode') return 'vscode';
  return originalResolve.call(this, request, ...rest);
};
require.cache.vscode = { id: 'vscode', filename: 'vscode', loaded: true, exports: vscodeStub };

let wasmInstantiated = false;
for (const name of ['instantiate', 'compile', 'instantiateStreaming']) {
  const original = WebAssembly[name];
  if (original) WebAssembly[name] = (...args) => { wasmInstantiated = true; return original.apply(WebAssembly, args); };
}

const bundle = path.resolve(process.argv[2]);
const context = {
  subscriptions: [],
  extensionUri: stub(),
  workspaceState: stub(),
  globalState: stub(),
  extension: { packageJSON: { version: 'bench' } },
};
const started = performance.now();
const extension = require(bundle);
extension.activate(context);
const ms = performance.now() - started;
process.stdout.write(JSON.stringify({ ms, wasmInstantiated }) + '\n');
