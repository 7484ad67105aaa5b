/** Facts about the machine a run ran on: OS, hardware, and the names of environment variables. */
import { execFile } from 'node:child_process';
import os from 'node:os';
import { promisify } from 'node:util';
import type { RunEnvelope } from '../envelope';

const exec = promisify(execFile);

export function readOs(): RunEnvelope['environment']['os'] {
  return { platform: process.platform, release: os.release(), arch: process.arch };
}

/** GPUs through nvidia-smi when it exists; none otherwise (a missing tool is not an error). */
async function readGpus(): Promise<RunEnvelope['hardware']['gpus']> {
  try {
    const { stdout } = await exec('nvidia-smi', ['--query-gpu=name,memory.total', '--format=csv,noheader,nounits'], { timeout: 5000 });
    return stdout
      .split('\n')
      .map((line) => line.trim())
      .filter(Boolean)
      .map((line) => {
        const [name, memoryMiB] = line.split(',').map((s) => s.trim());
        const mib = Number(memoryMiB);
        return { name: name ?? 'GPU', memoryBytes: Number.isFinite(mib) ? Math.round(mib * 1024 * 1024) : null };
      });
  } catch {
    return [];
  }
}

export async function readHardware(): Promise<RunEnvelope['hardware']> {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() || 'unknown',
    cores: Math.max(1, cpus.length),
    memoryBytes: os.totalmem(),
    gpus: await readGpus(),
  };
}

/** Names only, sorted: values hold secrets and are never recorded. */
export function environmentVariableNames(env: NodeJS.ProcessEnv): string[] {
  return Object.keys(env)
    .filter((name) => !name.startsWith('NB2PROD_'))
    .sort();
}
