// Bundles the extension host code, the CLI and the webview scripts, and copies the Python
// companion and the generated services' runtime beside them. Type checking is separate (`npm run typecheck`), as in vscode-extension-samples.
import * as esbuild from 'esbuild';
import { copyFileSync, cpSync, mkdirSync, readdirSync, existsSync, rmSync } from 'node:fs';
import path from 'node:path';

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production') || process.env.NODE_ENV === 'production';

const common = {
  bundle: true,
  sourcemap: production ? false : 'linked',
  minify: production,
  logLevel: 'info',
  legalComments: 'none',
};

/** Prints errors in the format of the `$esbuild-watch` problem matcher. */
const problemMatcherPlugin = {
  name: 'problem-matcher',
  setup(build) {
    build.onStart(() => { if (watch) console.log('[watch] build started'); });
    build.onEnd((result) => {
      for (const { text, location } of result.errors) {
        console.error(`✘ [ERROR] ${text}`);
        if (location) console.error(`    ${location.file}:${location.line}:${location.column}:`);
      }
      if (watch) console.log('[watch] build finished');
    });
  },
};

const webviewEntries = existsSync('webviews')
  ? readdirSync('webviews', { withFileTypes: true })
      .filter((d) => d.isDirectory() && existsSync(path.join('webviews', d.name, 'main.ts')))
      .map((d) => ({ in: path.join('webviews', d.name, 'main.ts'), out: `webviews/${d.name}` }))
  : [];

const builds = [
  {
    ...common,
    entryPoints: { extension: 'src/extension/main.ts' },
    outdir: 'dist',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode', 'pg-native', 'cloudflare:sockets'],
    plugins: [problemMatcherPlugin],
  },
  {
    ...common,
    // The executable: answers runs/show/diff itself and loads cli-full.js for everything else;
    // the worker threads `nb2prod monitor` reads large audit logs with.
    entryPoints: { cli: 'src/cli/main.ts', monitorWorker: 'src/core/monitor/worker.ts' },
    outdir: 'dist',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    banner: { js: '#!/usr/bin/env node' },
    // pg's optional native binding and its Cloudflare socket are never used (the pure JS client is)
    external: ['pg-native', 'cloudflare:sockets'],
    plugins: [problemMatcherPlugin],
  },
  {
    ...common,
    entryPoints: { 'cli-full': 'src/cli/cli.ts' },
    outdir: 'dist',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    plugins: [problemMatcherPlugin],
  },
  ...(webviewEntries.length
    ? [{
        ...common,
        entryPoints: webviewEntries,
        outdir: 'dist',
        platform: 'browser',
        format: 'iife',
        target: 'es2022',
        plugins: [problemMatcherPlugin],
      }]
    : []),
];

function copyAssets() {
  mkdirSync('dist', { recursive: true });
  // The Python companion runs as source inside the user's interpreter.
  rmSync('dist/python', { recursive: true, force: true });
  cpSync('src/core/capture/python', 'dist/python', {
    recursive: true,
    filter: (source) => !/__pycache__|\.pyc$|\.pytest_cache/.test(source),
  });
  // The runtime of generated services. Dot files (.github, .dockerignore) are copied as dot-*
  // because the VSIX packager drops dot files; the generator names them back.
  rmSync('dist/scaffold-templates', { recursive: true, force: true });
  copyTemplates('src/core/scaffold/templates', 'dist/scaffold-templates');
}

function copyTemplates(from, to) {
  mkdirSync(to, { recursive: true });
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    if (/^(__pycache__|\.pytest_cache|var)$|\.pyc$/.test(entry.name)) continue;
    const target = path.join(to, entry.name.startsWith('.') ? `dot-${entry.name.slice(1)}` : entry.name);
    if (entry.isDirectory()) copyTemplates(path.join(from, entry.name), target);
    else copyFileSync(path.join(from, entry.name), target);
  }
}

copyAssets();
if (watch) {
  const contexts = await Promise.all(builds.map((b) => esbuild.context(b)));
  await Promise.all(contexts.map((c) => c.watch()));
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
}
