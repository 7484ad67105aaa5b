/**
 * Small real projects for the readiness checklist: files on disk, optionally a git repository,
 * and a real RunStore holding envelopes built with makeEnvelope.
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { RunEnvelope } from '../../../src/core/envelope';
import { sha256Hex } from '../../../src/core/hash';
import { newRunId } from '../../../src/core/ids';
import { checkReadiness } from '../../../src/core/readiness/check';
import type { ItemId, ReadinessItem, ReadinessReport, RegistryFacts } from '../../../src/core/readiness/model';
import { RunStore } from '../../../src/core/store/runStore';
import { type EnvelopeOptions, makeEnvelope } from '../../fixtures/envelopes';

const exec = promisify(execFile);

export class TempProject {
  readonly store: RunStore;
  private clock = Date.parse('2025-03-01T10:00:00Z');

  constructor(readonly root: string) {
    this.store = new RunStore(path.join(root, '.nb2prod'));
  }

  static async create(prefix = 'readiness'): Promise<TempProject> {
    return new TempProject(await fs.mkdtemp(path.join(os.tmpdir(), `nb2prod-${prefix}-`)));
  }

  async write(relative: string, content: string | Buffer): Promise<string> {
    const file = path.join(this.root, relative);
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, content);
    return file;
  }

  async read(relative: string): Promise<string> {
    return fs.readFile(path.join(this.root, relative), 'utf8');
  }

  async git(...args: string[]): Promise<void> {
    await exec('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', '-c', 'commit.gpgsign=false', ...args], { cwd: this.root });
  }

  /** git init (once), add everything except the store, commit. */
  async commitAll(message = 'commit'): Promise<void> {
    try {
      await fs.access(path.join(this.root, '.git'));
    } catch {
      await this.git('init', '-q');
      await this.write('.gitignore', '.nb2prod/\n');
    }
    await this.git('add', '-A');
    await this.git('commit', '-qm', message, '--allow-empty');
  }

  /** Writes a run: makeEnvelope's fields, then `overrides` on top. Runs get increasing start times. */
  async addRun(options: EnvelopeOptions = {}, overrides: Partial<RunEnvelope> = {}): Promise<RunEnvelope> {
    this.clock += 60_000;
    const started = options.startedAt ?? new Date(this.clock);
    const envelope: RunEnvelope = { ...makeEnvelope({ sourcePath: 'train.ipynb', ...options, startedAt: started, id: options.id ?? newRunId(started.getTime()) }), ...overrides };
    await this.store.writeRun(envelope);
    return envelope;
  }

  /** An input record of a file of the project, hashed from its content on disk. */
  async input(relative: string): Promise<RunEnvelope['inputs'][number]> {
    const bytes = await fs.readFile(path.join(this.root, relative));
    return { path: relative, sha256: sha256Hex(bytes), bytes: bytes.length };
  }

  async check(registry?: RegistryFacts | null): Promise<ReadinessReport> {
    return checkReadiness({ root: this.root, store: this.store, ...(registry !== undefined ? { registry: async () => registry } : {}) });
  }

  async item(id: ItemId, registry?: RegistryFacts | null): Promise<ReadinessItem> {
    const report = await this.check(registry);
    return report.items.find((i) => i.id === id)!;
  }

  async dispose(): Promise<void> {
    this.store.close();
    await fs.rm(this.root, { recursive: true, force: true });
  }
}

/** Registry facts of a healthy registry: champion v2, previous v1, rolled back once, approved. */
export function goodRegistry(runIds: { champion: string | null; previous: string | null }, overrides: Partial<RegistryFacts> = {}): RegistryFacts {
  return {
    champion: { model: 'churn', version: 2, runId: runIds.champion, registeredBy: 'dana' },
    previousChampion: { model: 'churn', version: 1, runId: runIds.previous, registeredBy: 'dana' },
    rollbackDone: true,
    lastRollbackAt: '2025-03-02T09:00:00Z',
    approvals: [
      { role: 'developer', by: 'dana' },
      { role: 'validator', by: 'sam' },
    ],
    requiredRoles: ['developer', 'validator'],
    ...overrides,
  };
}
