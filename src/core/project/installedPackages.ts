/**
 * The distributions installed in an interpreter: name → version (for "pin to the installed
 * version"), and which top-level modules each provides (its `top_level.txt`, else the files its
 * RECORD lists), so an import can be traced to the distribution that installed it
 * (`import ignite` comes from pytorch-ignite).
 */
import { execFile } from 'node:child_process';
import os from 'node:os';

const LIST_DISTRIBUTIONS = [
  'import json, importlib.metadata as m',
  'versions, modules = {}, {}',
  'for d in m.distributions():',
  '    name = d.metadata["Name"]',
  '    if not name: continue',
  '    versions[name] = d.version',
  '    try:',
  '        top = (d.read_text("top_level.txt") or "").split()',
  '        if not top:',
  '            for f in d.files or ():',
  '                first = f.parts[0] if f.parts else ""',
  '                if first in ("..", "__pycache__") or first.endswith((".dist-info", ".egg-info", ".data", ".pth")): continue',
  '                if len(f.parts) == 1 and not first.endswith(".py"): continue',
  '                top.append(first[:-3] if first.endswith(".py") else first)',
  '        modules[name] = sorted(set(t for t in top if t.isidentifier()))',
  '    except Exception:',
  '        pass',
  'print(json.dumps({"versions": versions, "modules": modules}))',
].join('\n');

export interface InstalledPackages {
  /** Distribution name → version. */
  versions: Map<string, string>;
  /** Top-level module → the distributions (names as installed) that provide it. */
  modules: Map<string, string[]>;
}

export function queryInstalledPackages(python: string, timeoutMs = 15_000): Promise<InstalledPackages> {
  return new Promise((resolve, reject) => {
    // Run from a neutral folder so a workspace module named like a stdlib one is not imported;
    // not isolated (-I), which would hide user-site packages the kernel does see.
    execFile(python, ['-c', LIST_DISTRIBUTIONS], { cwd: os.tmpdir(), timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout) => {
      if (error) return reject(new Error(`${python} could not list its packages: ${error.message.split('\n')[0]}`));
      try {
        resolve(parseInstalled(stdout));
      } catch (parseError) {
        reject(new Error(`${python} printed an unexpected package list (${(parseError as Error).message})`));
      }
    });
  });
}

/** Name → version of the installed distributions. */
export async function queryInstalledDistributions(python: string, timeoutMs = 15_000): Promise<Map<string, string>> {
  return (await queryInstalledPackages(python, timeoutMs)).versions;
}

export function parseInstalled(stdout: string): InstalledPackages {
  const parsed = JSON.parse(stdout) as unknown;
  if (typeof parsed !== 'object' || parsed === null) throw new Error('not an object');
  const { versions: rawVersions, modules: rawModules } = parsed as { versions?: unknown; modules?: unknown };
  if (typeof rawVersions !== 'object' || rawVersions === null) throw new Error('no versions');
  const versions = new Map<string, string>();
  for (const [name, version] of Object.entries(rawVersions)) if (typeof version === 'string') versions.set(name, version);
  const modules = new Map<string, string[]>();
  if (typeof rawModules === 'object' && rawModules !== null) {
    for (const [name, tops] of Object.entries(rawModules)) {
      if (!Array.isArray(tops)) continue;
      for (const top of tops) {
        if (typeof top !== 'string') continue;
        const list = modules.get(top) ?? [];
        if (!list.includes(name)) list.push(name);
        modules.set(top, list);
      }
    }
  }
  return { versions, modules };
}
