import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RULE_IDS } from '../../../src/core/lint/rule';
import { ALL_RULES } from '../../../src/core/lint/rules';
import { SKLEARN_RANDOM_STATE } from '../../../src/core/lint/rules/randomnessCatalog';

const repo = path.join(__dirname, '..', '..', '..');
const manifest = JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8')) as {
  activationEvents: string[];
  contributes: { configuration: { properties: Record<string, { properties?: Record<string, { enum: string[] }> }> } };
};

describe('the rule catalogue', () => {
  it('has every rule id exactly once, in the documented order', () => {
    expect(ALL_RULES.map((r) => r.id)).toEqual([...RULE_IDS]);
  });

  it('documents every rule in docs/rules with why, what triggers it, what does not, the fix and configuration', () => {
    for (const rule of ALL_RULES) {
      const file = path.join(repo, 'docs', 'rules', `${rule.id}.md`);
      expect(existsSync(file), file).toBe(true);
      const text = readFileSync(file, 'utf8');
      expect(text.startsWith(`# ${rule.id}`), `${rule.id}.md title`).toBe(true);
      for (const heading of [/why/i, /triggers/i, /does not/i, /fix/i, /configuration/i]) expect(text, `${rule.id}.md: ${heading}`).toMatch(new RegExp(`^## .*${heading.source}`, 'im'));
      expect(rule.summary.length, rule.id).toBeGreaterThan(10);
      expect(rule.help.length, rule.id).toBeGreaterThan(10);
    }
  });

  it('offers every rule in the nb2prod.lint.rules setting, and lints Python files from activation', () => {
    const setting = manifest.contributes.configuration.properties['nb2prod.lint.rules']!;
    expect(Object.keys(setting.properties ?? {}).sort()).toEqual([...RULE_IDS].sort());
    for (const value of Object.values(setting.properties ?? {})) expect(value.enum).toEqual(['error', 'warning', 'info', 'off']);
    expect(manifest.activationEvents).toEqual(expect.arrayContaining(['onNotebook:jupyter-notebook', 'onLanguage:python']));
  });

  it('gives the run tracker the same conditions for random scikit-learn estimators as the linter', () => {
    // The capture reports an unseeded fit only when the linter's table says the estimator draws.
    const patches = readFileSync(path.join(repo, 'src', 'core', 'capture', 'python', 'nb2prod', '_patches.py'), 'utf8');
    const table = /_RANDOM_WHEN = \{([^}]*)\}/.exec(patches)?.[1] ?? '';
    const python = new Map([...table.matchAll(/"(\w+)": "([\w-]+)"/g)].map((m) => [m[1]!, m[2]!]));
    // Estimators only: functions (lower case) and splitters are checked at call and split time.
    const estimators = [...SKLEARN_RANDOM_STATE].filter(([name]) => /^[A-Z]/.test(name) && !/(Split|Fold)$/.test(name));
    expect(python.size).toBeGreaterThan(40);
    expect(new Map(estimators)).toEqual(python);
  });
});
