/** The distributions installed in an interpreter (name → version), for "pin to the installed version". */
import { execFile } from 'node:child_process';
import os from 'node:os';

const LIST_DISTRIBUTIONS = [
  'import json, importlib.metadata as m',
  'print(json.dumps({d.metadata["Name"]: d.version for d in m.distributions() if d.metadata["Name"]}))',
].join('\n');

export function queryInstalledDistributions(python: string, timeoutMs = 15_000): Promise<Map<string, string>> {
  return new Promise((resolve, reject) => {
    // Run from a neutral folder so a workspace module named like a stdlib one is not imported;
    // not isolated (-I), which would hide user-site packages the kernel does see.
    execFile(python, ['-c', LIST_DISTRIBUTIONS], { cwd: os.tmpdir(), timeout: timeoutMs, maxBuffer: 8 * 1024 * 1024 }, (error, stdout) => {
      if (error) return reject(new Error(`${python} could not list its packages: ${error.message.split('\n')[0]}`));
      try {
        const parsed = JSON.parse(stdout) as unknown;
        if (typeof parsed !== 'object' || parsed === null) throw new Error('not an object');
        const installed = new Map<string, string>();
        for (const [name, version] of Object.entries(parsed)) if (typeof version === 'string') installed.set(name, version);
        resolve(installed);
      } catch (parseError) {
        reject(new Error(`${python} printed an unexpected package list (${(parseError as Error).message})`));
      }
    });
  });
}
