/**
 * Lint configuration: which rules run and at what severity, and which files are skipped. Read
 * from the project — `nb2prod.toml` (section `[lint]`) or `pyproject.toml` (section
 * `[tool.nb2prod.lint]`), the nearest one above the linted file — so the CLI in CI and the
 * editor agree. The editor's `nb2prod.lint.rules` setting is applied on top (personal taste wins
 * over the project's in one's own editor; CI only sees the project file).
 *
 *   [tool.nb2prod.lint]
 *   exclude = ["scratch/**"]
 *   [tool.nb2prod.lint.rules]
 *   unexecuted-cell = "off"
 *   absolute-path = "error"
 */
import path from 'node:path';
import { invalidConfig, isTable, loadProjectConfig } from '../project/config';
import { isRuleId, type RuleId, type Severity } from './rule';

export type RuleSetting = Severity | 'off';

export interface LintConfig {
  rules: Partial<Record<RuleId, RuleSetting>>;
  /** Glob patterns (relative to the config file's folder) of files not to lint. */
  exclude: string[];
  /** The file this came from, for messages; null for defaults. */
  file: string | null;
  /** The folder `exclude` patterns are relative to. */
  baseDir: string | null;
}

export const DEFAULT_CONFIG: LintConfig = { rules: {}, exclude: [], file: null, baseDir: null };

const SETTINGS = new Set(['error', 'warning', 'info', 'off']);

/** Validates a `[lint]` table (already parsed); `origin` names where it came from in errors. */
export function parseLintSection(section: unknown, origin: string, baseDir: string | null): LintConfig {
  const config: LintConfig = { rules: {}, exclude: [], file: origin, baseDir };
  if (section === undefined) return config;
  if (!isTable(section)) throw invalidConfig(origin, 'the lint section must be a table');
  for (const [key, value] of Object.entries(section)) {
    if (key === 'rules') {
      if (!isTable(value)) throw invalidConfig(origin, '`rules` must be a table of rule = "error" | "warning" | "info" | "off"');
      for (const [rule, setting] of Object.entries(value)) {
        if (!isRuleId(rule)) throw invalidConfig(origin, `unknown rule \`${rule}\` (see \`nb2prod lint --list-rules\`)`);
        if (typeof setting !== 'string' || !SETTINGS.has(setting)) throw invalidConfig(origin, `rule \`${rule}\` must be "error", "warning", "info" or "off"`);
        config.rules[rule] = setting as RuleSetting;
      }
    } else if (key === 'exclude') {
      if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw invalidConfig(origin, '`exclude` must be a list of glob patterns');
      config.exclude = value as string[];
    } else {
      throw invalidConfig(origin, `unknown key \`${key}\` (expected \`rules\` or \`exclude\`)`);
    }
  }
  return config;
}

/**
 * The lint configuration governing files under `startDir`: the `lint` section of the nearest
 * project configuration (see core/project/config.ts), looking upwards no further than `stopDir`.
 */
export function loadLintConfig(startDir: string, stopDir?: string): LintConfig {
  const project = loadProjectConfig(startDir, stopDir);
  if (!project.file) return DEFAULT_CONFIG;
  return parseLintSection(project.sections.lint, project.file, project.baseDir);
}

/** `override`'s rule settings on top of `base` (exclude and file stay `base`'s). */
export function withRuleOverrides(base: LintConfig, overrides: Partial<Record<string, string>>): LintConfig {
  const rules = { ...base.rules };
  for (const [rule, setting] of Object.entries(overrides)) {
    if (isRuleId(rule) && setting && SETTINGS.has(setting)) rules[rule] = setting as RuleSetting;
  }
  return { ...base, rules };
}

export function severityFor(config: LintConfig, rule: RuleId, defaultSeverity: Severity): RuleSetting {
  return config.rules[rule] ?? defaultSeverity;
}

/** Whether `file` (absolute) matches one of the config's exclude globs. */
export function isExcluded(config: LintConfig, file: string): boolean {
  if (!config.exclude.length || !config.baseDir) return false;
  const relative = path.relative(config.baseDir, file).split(path.sep).join('/');
  if (relative.startsWith('..')) return false;
  return config.exclude.some((pattern) => globToRegExp(pattern).test(relative));
}

/** gitignore-like globs: `*` within a segment, `**` across segments, `?` one character. */
export function globToRegExp(pattern: string): RegExp {
  let source = '';
  const p = pattern.replace(/^\.\//, '');
  for (let i = 0; i < p.length; i++) {
    const ch = p[i]!;
    if (ch === '*' && p[i + 1] === '*') {
      source += p[i + 2] === '/' ? '(?:.*/)?' : '.*';
      i += p[i + 2] === '/' ? 2 : 1;
    } else if (ch === '*') source += '[^/]*';
    else if (ch === '?') source += '[^/]';
    else source += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  // A pattern without a slash matches at any depth, as in .gitignore; a folder matches its contents.
  const anchored = p.includes('/') ? `^${source}` : `^(?:.*/)?${source}`;
  return new RegExp(`${anchored}(?:/.*)?$`);
}

