/**
 * What a run keeps of what it fitted, on the TypeScript side: the `fitted` / `fitted_skipped`
 * events folded into the envelope's lists, and the `[track]` configuration's bounds.
 */
import { describe, expect, it } from 'vitest';
import { foldEvents, parseEventLines } from '../../../src/core/capture/events';
import { DEFAULT_TRACK_CONFIG, fittedEnvironment, parseTrackConfig } from '../../../src/core/capture/trackConfig';
import { envelopeSchema } from '../../../src/core/envelope';

const SHA = 'a'.repeat(64);

describe('fitted events', () => {
  it('fold into fitted and fittedSkipped, in order, with the class as type', () => {
    const text = [
      JSON.stringify({ type: 'fitted', name: 'scaler', class: 'sklearn.preprocessing.StandardScaler', sha256: SHA, bytes: 900, format: 'joblib', location: null, pid: 1, t: 1 }),
      JSON.stringify({ type: 'fitted', name: null, class: 'sklearn.preprocessing.StandardScaler', sha256: SHA, bytes: 900, format: 'joblib', location: 'cell 2, line 1', pid: 1, t: 1 }),
      JSON.stringify({ type: 'fitted_skipped', name: 'forest', class: 'sklearn.ensemble.RandomForestClassifier', reason: 'larger than the limit of 100 MB per object', location: null, pid: 1, t: 1 }),
      JSON.stringify({ type: 'fitted', name: 'bad', class: 'x', sha256: 'not-a-hash', bytes: 1, format: 'joblib' }),
    ].join('\n');
    const parsed = parseEventLines(text);
    expect(parsed.skipped).toBe(1);
    const run = foldEvents(parsed.events);
    expect(run.fitted).toEqual([
      { name: 'scaler', type: 'sklearn.preprocessing.StandardScaler', sha256: SHA, bytes: 900, format: 'joblib' },
      { name: null, type: 'sklearn.preprocessing.StandardScaler', sha256: SHA, bytes: 900, format: 'joblib', location: 'cell 2, line 1' },
    ]);
    expect(run.fittedSkipped).toEqual([{ name: 'forest', type: 'sklearn.ensemble.RandomForestClassifier', reason: 'larger than the limit of 100 MB per object' }]);
    // the envelope accepts what the fold produces
    expect(envelopeSchema.shape.fitted.safeParse(run.fitted).success).toBe(true);
    expect(envelopeSchema.shape.fittedSkipped.safeParse(run.fittedSkipped).success).toBe(true);
  });
});

describe('[track] configuration', () => {
  const config = (track: unknown) => ({ file: '/p/nb2prod.toml', baseDir: '/p', sections: track === undefined ? {} : { track } });

  it('defaults to keeping fitted objects up to 100 MB each and 250 MB per run', () => {
    expect(parseTrackConfig(config(undefined))).toEqual(DEFAULT_TRACK_CONFIG);
    expect(fittedEnvironment(DEFAULT_TRACK_CONFIG, '/s/objects')).toEqual({ NB2PROD_OBJECTS: '/s/objects', NB2PROD_FITTED_LIMITS: `${100 * 1048576},${250 * 1048576}` });
  });

  it('reads keep_fitted and the limits in megabytes', () => {
    expect(parseTrackConfig(config({ keep_fitted: true, fitted_object_limit_mb: 0.5, fitted_run_limit_mb: 2, model_file_limit_mb: 0 }))).toEqual({
      keepFitted: true,
      fittedObjectLimitBytes: 524288,
      fittedRunLimitBytes: 2097152,
      modelFileLimitBytes: 0,
      captureContent: false,
    });
    expect(parseTrackConfig(config({ capture_content: true })).captureContent).toBe(true);
    expect(() => parseTrackConfig(config({ fitted_object_limit_mb: 0 }))).toThrow(/fitted_object_limit_mb must be a positive number of megabytes/);
    const off = parseTrackConfig(config({ keep_fitted: false }));
    expect(fittedEnvironment(off, '/s/objects')).toEqual({});
  });

  it('refuses what it cannot use, naming the key', () => {
    expect(() => parseTrackConfig(config({ keep_fitted: 'yes' }))).toThrow('keep_fitted must be true or false');
    expect(() => parseTrackConfig(config({ capture_content: 1 }))).toThrow('capture_content must be true or false');
    expect(() => parseTrackConfig(config({ fitted_object_limit_mb: -1 }))).toThrow('fitted_object_limit_mb must be a positive number of megabytes');
    expect(() => parseTrackConfig(config({ fitted_limit: 3 }))).toThrow('unknown key fitted_limit');
    expect(() => parseTrackConfig(config(3))).toThrow('must be a table');
  });
});
