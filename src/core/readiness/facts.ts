/**
 * What the checklist reads, gathered once: the project's files (a bounded walk), its
 * configuration, the runs of its notebooks and scripts from the store, how files are versioned
 * (the lint project scanner), the service manifest, and the registry facts.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { RunEnvelope } from '../envelope';
import { isUserError } from '../errors';
import type { DataVersioning } from '../lint/project';
import { findProjectRoot, isInside, ProjectScanner } from '../lint/project/scan';
import { loadProjectConfig, type ProjectConfig } from '../project/config';
import { containedPath } from '../safePath';
import type { RunStore } from '../store/runStore';
import { DEFAULT_SERVICE_MANIFEST, type MonitoringConfig, parseMonitoringConfig, parseReadinessConfig, type ReadinessConfig } from './config';
import type { RegistryFacts, RegistryFactsProvider, ServiceManifest } from './model';

/** Runs read per source (newest first): enough for groups, replays and recent evaluation sets. */
export const RUNS_PER_SOURCE = 100;
/** The runs whose evaluation set must agree: the latest few of a source. */
export const RECENT_RUNS = 5;

const SKIPPED_DIRS = new Set(['node_modules', '__pycache__', 'site-packages', '.ipynb_checkpoints', 'venv', 'env']);
const MAX_DEPTH = 8;
const MAX_FILES = 20_000;

export interface ServiceFacts {
  /** The manifest path, relative to the project. */
  path: string;
  manifest: ServiceManifest | null;
  /** Why the manifest could not be used (missing file, bad JSON, wrong fields). */
  problem: string | null;
  exists: boolean;
  /** The generated service's daily audit files beside it (var/audit/predictions-YYYY-MM-DD.jsonl), oldest first. */
  auditFiles?: string[];
}

export type RegistryState = { state: 'none' } | { state: 'unreadable'; reason: string } | { state: 'ok'; facts: RegistryFacts };

export interface ReadinessFacts {
  /** The checked project folder (absolute). */
  root: string;
  /** The folder run paths are relative to: the folder holding the store. */
  workspaceRoot: string;
  store: RunStore;
  config: ProjectConfig;
  readiness: ReadinessConfig;
  monitoring: MonitoringConfig | null;
  /** Files of the project, relative to root, forward slashes, sorted (dot folders skipped). */
  files: string[];
  /** Valid runs whose source is inside the project, oldest first. */
  runs: RunEnvelope[];
  /** Sources in scope (relative to the workspace, as runs record them). */
  sources: string[];
  /** True when the store exists. */
  storeExists: boolean;
  versioning(relativeToRoot: string): DataVersioning;
  service: ServiceFacts;
  registry: RegistryState;
  /**
   * A file's text, null when it does not exist. The path may come from the configuration or a run
   * file (`from` says which, for the message): it must stay inside the project or the store,
   * else the check stops with an `unsafe-path` error. Without `from` (files found by walking the
   * project), one that leads out through a link is read as absent.
   */
  readText(relativeToRoot: string, from?: string): Promise<string | null>;
}

export interface GatherOptions {
  root: string;
  store: RunStore;
  /** Whether git may run in the project (false in an untrusted workspace). Default true. */
  useGit?: boolean;
  registry?: RegistryFactsProvider;
}

export async function gatherFacts(options: GatherOptions): Promise<ReadinessFacts> {
  const root = path.resolve(options.root);
  const store = options.store;
  const workspaceRoot = path.basename(store.root) === '.nb2prod' ? path.dirname(store.root) : root;
  const config = loadProjectConfig(root, findProjectRoot(root));
  const readiness = parseReadinessConfig(config);
  const monitoring = parseMonitoringConfig(config);
  const files = await walkFiles(root);
  const storeExists = await store.exists();

  const scanner = new ProjectScanner(findProjectRoot(root), { useGit: options.useGit ?? true });
  const info = await scanner.forFile(path.join(root, '.nb2prod-readiness'));

  const configuredSources = readiness.sources.map((s) => toPortable(path.relative(workspaceRoot, path.resolve(config.baseDir ?? root, s))));
  const runs = storeExists ? await loadRuns(store, root, workspaceRoot, configuredSources) : [];
  const tracked = [...new Set(runs.filter((r) => isModelRun(r) && r.status === 'succeeded').map((r) => r.source.path))].sort();
  const sources = configuredSources.length ? configuredSources : tracked;

  const readable = (relative: string, from: string) => containedPath(relative, { base: root, roots: [root, workspaceRoot, store.root], what: 'a file the readiness check reads', from });
  const readText = async (relative: string, from?: string): Promise<string | null> => {
    let file: string;
    try {
      file = await readable(relative, from ?? 'the project');
    } catch (error) {
      // A file of the project's own walk that links out is skipped; a path the configuration or
      // a run file names is refused with its reason.
      if (from === undefined && isUserError(error)) return null;
      throw error;
    }
    try {
      return await fs.readFile(file, 'utf8');
    } catch {
      return null;
    }
  };
  const manifest = await serviceManifestPath(root, readiness.service, files);
  await readable(manifest, `${config.file ?? 'the project'} (service)`);
  const service = await readService(root, manifest);
  let registry: RegistryState = { state: 'none' };
  if (options.registry) {
    try {
      const facts = await options.registry({ root, storeRoot: store.root });
      registry = facts ? { state: 'ok', facts } : { state: 'none' };
    } catch (error) {
      registry = { state: 'unreadable', reason: isUserError(error) ? error.message : (error as Error).message };
    }
  } else if (await fileExists(path.join(store.root, 'registry.jsonl'))) {
    registry = { state: 'unreadable', reason: `${toPortable(path.relative(root, path.join(store.root, 'registry.jsonl')))} exists but this version of nb2prod check cannot read it` };
  }

  return {
    root,
    workspaceRoot,
    store,
    config,
    readiness,
    monitoring,
    files,
    runs,
    sources,
    storeExists,
    versioning: (relative) => info.versioning(path.resolve(root, relative)),
    service,
    registry,
    readText,
  };
}

/** A run of the model's code: not a replay. */
export function isModelRun(run: RunEnvelope): boolean {
  return !run.tags.includes('replay');
}

async function loadRuns(store: RunStore, root: string, workspaceRoot: string, sources: string[]): Promise<RunEnvelope[]> {
  const { runs: summaries } = await store.list({ order: 'desc' });
  const perSource = new Map<string, number>();
  const wanted = summaries.filter((s) => {
    if (sources.length ? !sources.includes(s.sourcePath) : !isInside(root, path.resolve(workspaceRoot, s.sourcePath))) return false;
    const n = (perSource.get(s.sourcePath) ?? 0) + 1;
    perSource.set(s.sourcePath, n);
    return n <= RUNS_PER_SOURCE;
  });
  const envelopes: RunEnvelope[] = [];
  for (const summary of wanted) {
    try {
      envelopes.push(await store.getRun(summary.id));
    } catch (error) {
      if (!isUserError(error)) throw error; // a file removed or damaged since the listing: skip it
    }
  }
  return envelopes.sort((a, b) => a.startedAt.localeCompare(b.startedAt) || a.id.localeCompare(b.id));
}

/**
 * The configured manifest; when that is the default and absent, the one `nb2prod scaffold` wrote
 * into a project folder below the root (`churn-service/service/nb2prod-service.json`).
 */
async function serviceManifestPath(root: string, configured: string, files: readonly string[]): Promise<string> {
  if (configured !== DEFAULT_SERVICE_MANIFEST || (await fs.stat(path.resolve(root, configured)).catch(() => null))) return configured;
  const generated = files.filter((file) => file.endsWith(`/${DEFAULT_SERVICE_MANIFEST}`)).sort((a, b) => a.length - b.length || a.localeCompare(b));
  return generated[0] ?? configured;
}

async function readService(root: string, manifestPath: string): Promise<ServiceFacts> {
  const relative = toPortable(manifestPath);
  let text: string;
  try {
    text = await fs.readFile(path.resolve(root, manifestPath), 'utf8');
  } catch {
    return { path: relative, manifest: null, problem: `${relative} does not exist`, exists: false };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { path: relative, manifest: null, problem: `${relative} is not valid JSON (${(error as Error).message})`, exists: true };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { path: relative, manifest: null, problem: `${relative} must hold a JSON object`, exists: true };
  const v = value as Record<string, unknown>;
  for (const key of ['auditLog', 'killSwitch'] as const) {
    if (v[key] !== undefined && typeof v[key] !== 'boolean') return { path: relative, manifest: null, problem: `${relative}: "${key}" must be true or false`, exists: true };
  }
  if (v.fallback !== undefined && v.fallback !== null && typeof v.fallback !== 'string') return { path: relative, manifest: null, problem: `${relative}: "fallback" must be a text saying what answers instead of the model`, exists: true };
  const manifest: ServiceManifest = {
    auditLog: v.auditLog === true,
    killSwitch: v.killSwitch === true,
    fallback: typeof v.fallback === 'string' && v.fallback.trim() ? v.fallback.trim() : null,
    ...(typeof v.auditLogPath === 'string' ? { auditLogPath: v.auditLogPath } : {}),
  };
  return { path: relative, manifest, problem: null, exists: true, auditFiles: await auditFilesBeside(root, relative) };
}

/** The audit files a generated service wrote into its own var/ (the default state folder). */
async function auditFilesBeside(root: string, manifest: string): Promise<string[]> {
  const project = path.posix.dirname(path.posix.dirname(manifest));
  const folder = path.posix.join(project, 'var', 'audit');
  try {
    const names = await fs.readdir(path.resolve(root, folder));
    return names.filter((n) => /^predictions-\d{4}-\d{2}-\d{2}\.jsonl$/.test(n)).sort().map((n) => path.posix.join(folder, n));
  } catch {
    return [];
  }
}

/** Files under `root` (relative, forward slashes), skipping dot folders, environments and caches. */
async function walkFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string, depth: number): Promise<void> => {
    if (depth > MAX_DEPTH || out.length >= MAX_FILES) return;
    let entries;
    try {
      entries = await fs.readdir(path.join(root, dir), { withFileTypes: true });
    } catch {
      return;
    }
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const entry of entries) {
      const relative = dir ? `${dir}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        if (entry.name.startsWith('.') || SKIPPED_DIRS.has(entry.name)) continue;
        if (await fileExists(path.join(root, relative, 'pyvenv.cfg'))) continue;
        await walk(relative, depth + 1);
      } else if (entry.isFile() && out.length < MAX_FILES) out.push(relative);
    }
  };
  await walk('', 0);
  return out.sort();
}

async function fileExists(file: string): Promise<boolean> {
  try {
    await fs.access(file);
    return true;
  } catch {
    return false;
  }
}

export function toPortable(p: string): string {
  return p.split(path.sep).join('/');
}
