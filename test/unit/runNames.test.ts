/**
 * Runs named by what differs: the default name from the overrides or the script's arguments,
 * what the Runs view shows beside runs of one notebook, and Track Run with Parameters…'s
 * prompt (the parameters cell read as the runner reads it, the typed overrides parsed, values
 * equal to the cell left to it).
 */
import { describe, expect, it } from 'vitest';
import { defaultRunName, overridesText, splitArguments } from '../../src/core/capture/tracker';
import type { RunEnvelope } from '../../src/core/envelope';
import type { NotebookCell } from '../../src/core/notebook/ipynb';
import { changedOverrides, parametersOf, parametersText, parseLiteral, parseOverrides } from '../../src/core/notebook/parameters';
import { paramLines, runDistinctions } from '../../src/core/render/runLabels';
import type { RegistryState } from '../../src/core/registry/fold';
import { scaffoldRunChoices } from '../../src/core/scaffold/runChoice';
import { summarize } from '../../src/core/store/runIndex';
import { makeEnvelope } from '../fixtures/envelopes';

const at = new Date('2026-12-03T09:08:30Z');

describe('default run names', () => {
  it('says which overrides or arguments the run had, then the time', () => {
    expect(defaultRunName('notebooks/churn.ipynb', overridesText({ max_depth: 12, seed: 2 }), at)).toBe('max_depth=12, seed=2 · churn.ipynb 2026-12-03 09:08');
    expect(defaultRunName('train.py', '--max-depth 12 --seed 2', at)).toBe('--max-depth 12 --seed 2 · train.py 2026-12-03 09:08');
    expect(defaultRunName('churn.ipynb', '', at)).toBe('churn.ipynb 2026-12-03 09:08');
    expect(overridesText({ criterion: 'entropy', layers: [64, 32] })).toBe('criterion=entropy, layers=[64,32]');
    expect(defaultRunName('train.py', 'x'.repeat(200), at).length).toBeLessThan(120);
  });
});

describe('what sets runs apart in the Runs view', () => {
  let clock = at.getTime();
  const run = (params: RunEnvelope['params'], sources: Record<string, 'notebook' | 'override' | 'autolog'>, seed = 42, sourcePath = 'churn.ipynb') => {
    clock += 60_000;
    const envelope = makeEnvelope({ startedAt: new Date(clock), name: 'churn.ipynb 2026-12-03 09:08', params, seed, sourcePath });
    return summarize({ ...envelope, paramSources: sources });
  };

  it('names the params that vary among runs of one notebook, short and once, then the seed', () => {
    const auto = { max_depth: 'notebook', seed: 'override', 'RandomForestClassifier.max_depth': 'autolog', 'RandomForestClassifier.random_state': 'autolog', 'RandomForestClassifier.n_jobs': 'autolog' } as const;
    const runs = [
      run({ max_depth: 8, seed: 1, 'RandomForestClassifier.max_depth': 8, 'RandomForestClassifier.random_state': 1, 'RandomForestClassifier.n_jobs': 1 }, auto, 1),
      run({ max_depth: 12, seed: 2, 'RandomForestClassifier.max_depth': 12, 'RandomForestClassifier.random_state': 2, 'RandomForestClassifier.n_jobs': 1 }, auto, 2),
      run({ lr: 0.1 }, { lr: 'notebook' }, 42, 'train.py'),
    ];
    const shown = runDistinctions(runs);
    expect(shown.get(runs[0]!.id)).toBe('max_depth=8, seed=1');
    expect(shown.get(runs[1]!.id)).toBe('max_depth=12, seed=2');
    // Alone among the runs of its source: nothing to tell apart.
    expect(shown.get(runs[2]!.id)).toBe('');
    expect(paramLines(runs[0]!)).toEqual({ own: ['max_depth=8', 'seed=1'], autologged: 3 });
  });

  it('falls back to the recorded seeds when no param says it', () => {
    const runs = [run({ depth: 3 }, { depth: 'notebook' }, 7), run({ depth: 3 }, { depth: 'notebook' }, 8)];
    expect([...runDistinctions(runs).values()]).toEqual(['seed 7', 'seed 8']);
  });
});

describe('Track Run with Parameters…', () => {
  const cell = (source: string, tags: string[] = ['parameters']): NotebookCell => ({ index: 1, kind: 'code', id: null, source, tags, executionCount: null });
  const parameters = parametersOf([
    cell('import os', []),
    cell(['# Parameters: nb2prod can override these', 'n_estimators = 200', 'max_depth: int = 8', 'test_size = 0.25  # share held out', 'criterion = "gini"', 'layers = [64, 32]', 'use_gpu = False', 'path = os.path.join("a", "b")', 'seed=42'].join('\n')),
  ])!;

  it('reads the parameters cell as the runner does: literal assignments only', () => {
    expect(parameters.map((p) => [p.name, p.value])).toEqual([
      ['n_estimators', 200],
      ['max_depth', 8],
      ['test_size', 0.25],
      ['criterion', 'gini'],
      ['layers', [64, 32]],
      ['use_gpu', false],
      ['seed', 42],
    ]);
    expect(parametersText(parameters)).toBe('n_estimators=200, max_depth=8, test_size=0.25, criterion="gini", layers=[64, 32], use_gpu=False, seed=42');
    expect(parametersOf([cell('x = 1', [])])).toBeNull();
  });

  it('passes only what the user changed, parsed as Python literals or JSON', () => {
    const typed = parseOverrides('n_estimators=200, max_depth=12, test_size=0.25, criterion="entropy", layers=[128, 64], use_gpu=True, seed=2');
    expect(typed.problems).toEqual([]);
    expect(changedOverrides(typed.params, parameters)).toEqual({ max_depth: 12, criterion: 'entropy', layers: [128, 64], use_gpu: true, seed: 2 });
    expect(parseOverrides('max_depth=12 seed=2').params).toEqual({ max_depth: 12, seed: 2 });
    expect(parseOverrides('mode=fast, ratio=1e-3, d={"a": None}').params).toEqual({ mode: 'fast', ratio: 0.001, d: { a: null } });
    expect(parseOverrides('max_depth, =3, seed=').problems).toEqual(['"max_depth" is not name=value', '"=3" is not name=value', 'seed has no value']);
    expect(changedOverrides({ extra: 1 }, null)).toEqual({ extra: 1 });
  });

  it('parses Python literals and refuses expressions', () => {
    expect(parseLiteral("r'C:\\data'")?.value).toBe('C:\\data');
    expect(parseLiteral('(1, 2.5, -3)')?.value).toEqual([1, 2.5, -3]);
    expect(parseLiteral('1_000')?.value).toBe(1000);
    expect(parseLiteral('"""multi\nline"""')?.value).toBe('multi\nline');
    expect(parseLiteral('np.pi')).toBeUndefined();
    expect(parseLiteral('1 + 2')).toBeUndefined();
  });

  it('splits script arguments as a shell would, quotes grouping', () => {
    expect(splitArguments('--max-depth 12 --name "deep forest" --tag \'a b\'')).toEqual(['--max-depth', '12', '--name', 'deep forest', '--tag', 'a b']);
    expect(splitArguments('  ')).toEqual([]);
  });
});

describe('the run a service is generated from', () => {
  let clock = Date.parse('2026-12-01T00:00:00Z');
  const run = (accuracy: number, loss: number, status: RunEnvelope['status'] = 'succeeded', sourcePath = 'churn.ipynb') => {
    clock += 60_000;
    return summarize(makeEnvelope({ startedAt: new Date(clock), metrics: { accuracy, loss }, status, sourcePath }));
  };
  const runs = [run(0.78, 0.4), run(0.81, 0.5), run(0.76, 0.3), run(0.99, 0.1, 'failed'), run(0.95, 0.05, 'succeeded', 'other.ipynb')];

  it('defaults to the best succeeded run of the notebook by its metric, not the latest', () => {
    const choice = scaffoldRunChoices(runs, 'churn.ipynb', null, null);
    expect(choice.metric).toBe('accuracy');
    expect(choice.runs.map((c) => c.run.id)).toEqual([runs[1]!.id, runs[0]!.id, runs[2]!.id]);
    expect(choice.runs[0]!.why).toBe('best accuracy 0.81');
    expect(choice.runs.slice(1).every((c) => c.why === null)).toBe(true);
  });

  it('follows the registry gate\'s metric and direction', () => {
    const choice = scaffoldRunChoices(runs, 'churn.ipynb', null, { metric: 'loss', direction: 'lower' });
    expect(choice.runs[0]).toMatchObject({ run: { id: runs[2]!.id }, why: 'best loss 0.3' });
  });

  it('prefers the champion\'s run when it is one of the notebook\'s', () => {
    const version = { model: 'churn', version: 2, run: runs[0]!.id } as unknown as RegistryState['models'][string]['versions'][number];
    const registry = { models: { churn: { name: 'churn', versions: [{ ...version, version: 1, run: 'X' }, version], aliases: { champion: { alias: 'champion', model: 'churn', version: 2, since: '', moveId: '' } } } }, moves: [], warnings: [] } as unknown as RegistryState;
    const choice = scaffoldRunChoices(runs, 'churn.ipynb', registry, null);
    expect(choice.runs[0]).toMatchObject({ run: { id: runs[0]!.id }, why: 'champion churn v2' });
    expect(choice.runs).toHaveLength(3);
  });
});
