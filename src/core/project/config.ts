/**
 * The project's nb2prod configuration, shared by the CLI (in CI) and the editor: the nearest
 * `nb2prod.toml` above a folder, or a `pyproject.toml` with a `[tool.nb2prod]` table. Each
 * feature reads its own section (`lint`, `registry`, `readiness`, ...) and validates it.
 *
 *   # nb2prod.toml                     # pyproject.toml
 *   [lint.rules]                       [tool.nb2prod.lint.rules]
 *   unexecuted-cell = "off"            unexecuted-cell = "off"
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { UserError } from '../errors';

export interface ProjectConfig {
  /** The file the configuration came from; null when there is none. */
  file: string | null;
  /** Its folder: relative paths in the configuration are relative to it. */
  baseDir: string | null;
  /** The nb2prod tables by name (`lint`, `registry`, ...); empty without a file. */
  sections: Record<string, unknown>;
}

export const NO_PROJECT_CONFIG: ProjectConfig = { file: null, baseDir: null, sections: {} };

/**
 * The configuration governing files under `startDir`, looking upwards no further than
 * `stopDir`. A pyproject.toml without `[tool.nb2prod]` does not count (the search goes on).
 */
export function loadProjectConfig(startDir: string, stopDir?: string): ProjectConfig {
  let dir = path.resolve(startDir);
  const stop = stopDir ? path.resolve(stopDir) : undefined;
  for (;;) {
    const own = path.join(dir, 'nb2prod.toml');
    if (existsSync(own)) return { file: own, baseDir: dir, sections: readToml(own) };
    const pyproject = path.join(dir, 'pyproject.toml');
    if (existsSync(pyproject)) {
      const tool = readToml(pyproject).tool;
      if (isTable(tool) && isTable(tool.nb2prod)) return { file: pyproject, baseDir: dir, sections: tool.nb2prod };
    }
    const parent = path.dirname(dir);
    if (dir === stop || parent === dir) return NO_PROJECT_CONFIG;
    dir = parent;
  }
}

/** The name of a section as the user wrote it, for messages: `[lint]` or `[tool.nb2prod.lint]`. */
export function sectionName(config: ProjectConfig, section: string): string {
  return config.file?.endsWith('pyproject.toml') ? `[tool.nb2prod.${section}]` : `[${section}]`;
}

export function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function invalidConfig(origin: string, what: string): UserError {
  return new UserError('invalid-config', `${origin}: ${what}.`);
}

function readToml(file: string): Record<string, unknown> {
  try {
    return parseToml(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    throw invalidConfig(file, `it is not valid TOML (${(error as Error).message.split('\n')[0]})`);
  }
}
