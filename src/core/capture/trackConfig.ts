/**
 * `[track]` of the project's nb2prod.toml (or `[tool.nb2prod.track]` of pyproject.toml): what a
 * tracked run keeps besides its record: the fitted estimators its globals hold at the end
 * (src/core/capture/python/nb2prod/_fitted.py), which the scaffold composes into the served model,
 * and the model files it wrote (./modelFiles.ts), which the registry registers.
 *
 *   [track]
 *   keep_fitted = true              # false: keep none
 *   fitted_object_limit_mb = 100    # an object larger than this is skipped (and listed as such)
 *   fitted_run_limit_mb = 250       # objects past this total are skipped
 *   model_file_limit_mb = 1024      # a model file larger than this is not copied; 0 keeps none
 *   capture_content = false         # true: keep the messages and answers of LLM calls (else hashes and lengths)
 */
import { invalidConfig, isTable, loadProjectConfig, type ProjectConfig, sectionName } from '../project/config';

export interface TrackConfig {
  keepFitted: boolean;
  fittedObjectLimitBytes: number;
  fittedRunLimitBytes: number;
  /** A model file the run wrote is copied into objects/ up to this size; 0 keeps none. */
  modelFileLimitBytes: number;
  /** Keep the contents of LLM calls' messages and answers (`--capture-content` does too); else hashes and lengths. */
  captureContent: boolean;
}

const MB = 1024 * 1024;
export const DEFAULT_TRACK_CONFIG: TrackConfig = { keepFitted: true, fittedObjectLimitBytes: 100 * MB, fittedRunLimitBytes: 250 * MB, modelFileLimitBytes: 1024 * MB, captureContent: false };

export function parseTrackConfig(config: ProjectConfig): TrackConfig {
  const section = config.sections.track;
  if (section === undefined) return DEFAULT_TRACK_CONFIG;
  const origin = `${config.file ?? 'nb2prod.toml'} ${sectionName(config, 'track')}`;
  if (!isTable(section)) throw invalidConfig(origin, 'must be a table');
  const result = { ...DEFAULT_TRACK_CONFIG };
  if (section.keep_fitted !== undefined) {
    if (typeof section.keep_fitted !== 'boolean') throw invalidConfig(origin, 'keep_fitted must be true or false');
    result.keepFitted = section.keep_fitted;
  }
  if (section.capture_content !== undefined) {
    if (typeof section.capture_content !== 'boolean') throw invalidConfig(origin, 'capture_content must be true or false');
    result.captureContent = section.capture_content;
  }
  const megabytes = (key: string, zero = false): number | undefined => {
    const value = section[key];
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (value === 0 && !zero))
      throw invalidConfig(origin, `${key} must be a ${zero ? 'number of megabytes ≥ 0 (0 keeps none)' : 'positive number of megabytes'}`);
    return Math.round(value * MB);
  };
  result.fittedObjectLimitBytes = megabytes('fitted_object_limit_mb') ?? result.fittedObjectLimitBytes;
  result.fittedRunLimitBytes = megabytes('fitted_run_limit_mb') ?? result.fittedRunLimitBytes;
  result.modelFileLimitBytes = megabytes('model_file_limit_mb', true) ?? result.modelFileLimitBytes;
  const known = new Set(['keep_fitted', 'fitted_object_limit_mb', 'fitted_run_limit_mb', 'model_file_limit_mb', 'capture_content']);
  const unknown = Object.keys(section).filter((k) => !known.has(k));
  if (unknown.length) throw invalidConfig(origin, `unknown key${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (known: ${[...known].join(', ')})`);
  return result;
}

/** The `[track]` configuration governing a source in `sourceDir`. */
export function trackConfigFor(sourceDir: string, workspaceRoot: string): TrackConfig {
  return parseTrackConfig(loadProjectConfig(sourceDir, workspaceRoot));
}

/** The environment the Python side reads it from (nb2prod/_fitted.py). */
export function fittedEnvironment(config: TrackConfig, objectsDir: string): Record<string, string> {
  if (!config.keepFitted) return {};
  return { NB2PROD_OBJECTS: objectsDir, NB2PROD_FITTED_LIMITS: `${config.fittedObjectLimitBytes},${config.fittedRunLimitBytes}` };
}
