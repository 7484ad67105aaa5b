// Builds the production bundle and packages it into .cache/vsix/nb2prod.vsix with vsce.
// Everything the extension runs is bundled into dist/, so vsce gets --no-dependencies and the
// allow-list in .vscodeignore decides the contents.
//
//   node scripts/package-vsix.mjs                 build + package, human-readable summary
//   node scripts/package-vsix.mjs --json          same, but stdout is one JSON line (for bench/)
//   node scripts/package-vsix.mjs --skip-build    package the dist/ that is already there
//
// Also importable: `const { packageVsix, readVsixEntries } = await import('./scripts/package-vsix.mjs')`.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const vsixPath = path.join(root, '.cache', 'vsix', 'nb2prod.vsix');

/**
 * Lists the entries of a zip (a VSIX is one) from its central directory, without unzip:
 * unzip is not among the provisioned packages.
 * @param {string} file
 * @returns {string[]}
 */
export function readVsixEntries(file) {
  const buf = readFileSync(file);
  // End-of-central-directory record: last 22 bytes plus an optional comment of up to 64 KiB.
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) { eocd = i; break; }
  }
  if (eocd < 0) throw new Error(`${file} is not a zip file`);
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const names = [];
  for (let n = 0; n < count; n++) {
    if (buf.readUInt32LE(p) !== 0x02014b50) throw new Error(`${file}: bad central directory`);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    names.push(buf.toString('utf8', p + 46, p + 46 + nameLen));
    p += 46 + nameLen + extraLen + commentLen;
  }
  return names.filter((n) => !n.endsWith('/'));
}

/**
 * @param {string} cmd
 * @param {string[]} args
 * @param {boolean} quiet  send the child's stdout to our stderr (keeps --json stdout clean)
 */
function run(cmd, args, quiet) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: ['ignore', quiet ? process.stderr : 'inherit', 'inherit'] });
  if (r.error) throw new Error(`${cmd} ${args.join(' ')}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${path.basename(args[0] ?? cmd)} ${args.slice(1).join(' ')} exited with ${r.status ?? r.signal}`);
}

/**
 * @param {{ build?: boolean, quiet?: boolean }} [options]
 * @returns {{ path: string, bytes: number, mb: number, files: number, entries: string[] }}
 */
export function packageVsix(options = {}) {
  const { build = true, quiet = false } = options;
  if (build) run(process.execPath, ['esbuild.mjs', '--production'], quiet);
  if (!existsSync(path.join(root, 'dist', 'extension.js'))) {
    throw new Error('dist/extension.js is missing: the extension bundle did not build (src/extension/main.ts)');
  }
  mkdirSync(path.dirname(vsixPath), { recursive: true });
  rmSync(vsixPath, { force: true });
  const vsce = path.join(root, 'node_modules', '@vscode', 'vsce', 'vsce');
  if (!existsSync(vsce)) throw new Error('@vscode/vsce is not installed: run npm install');
  // --skip-license only while the repo has no LICENSE yet: vsce would otherwise stop at a y/N prompt.
  const license = existsSync(path.join(root, 'LICENSE')) ? [] : ['--skip-license'];
  // --no-rewrite-relative-links: the repository is not on GitHub/GitLab, so vsce cannot turn
  // README links such as docs/architecture.md into absolute URLs and would stop; installed
  // extensions resolve them against their own folder anyway.
  run(process.execPath, [vsce, 'package', '--no-dependencies', '--no-yarn', '--no-rewrite-relative-links', ...license, '--out', vsixPath], quiet);
  const bytes = statSync(vsixPath).size;
  // vsce adds two bookkeeping entries of its own; count the extension's files only.
  const entries = readVsixEntries(vsixPath).filter((e) => e !== '[Content_Types].xml' && e !== 'extension.vsixmanifest');
  return { path: vsixPath, bytes, mb: Math.round((bytes / 1024 / 1024) * 100) / 100, files: entries.length, entries };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const json = process.argv.includes('--json');
  try {
    const result = packageVsix({ build: !process.argv.includes('--skip-build'), quiet: json });
    if (json) {
      process.stdout.write(JSON.stringify({ path: result.path, bytes: result.bytes, mb: result.mb, files: result.files }) + '\n');
    } else {
      console.log(`package-vsix: ${path.relative(root, result.path)}: ${result.mb.toFixed(2)} MB, ${result.files} files`);
      for (const e of result.entries) console.log(`  ${e}`);
    }
  } catch (err) {
    console.error(`package-vsix: FAILED: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
}
