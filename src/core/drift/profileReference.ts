/**
 * A run's captured input profile used as the drift reference: no raw values, only decile bins
 * for numeric columns and the 20 most frequent values for the others (see "profile" in
 * src/core/capture/python/nb2prod/_capture.py). PSI and chi-square are exact on those bins
 * (the top values plus one "(other)" bucket); KS and Wasserstein are approximate: see
 * ksStatisticBinned / wasserstein1Binned in statistics.ts. Unseen categories cannot be told
 * when the profile kept only its top 20.
 */
import type { ColumnProfile, RunEnvelope } from '../envelope';
import { UserError } from '../errors';
import type { Dataset } from '../data/dataset';

export interface TableProfile {
  rows: number;
  columns: ColumnProfile[];
  sampled?: boolean;
  sampleRows?: number;
}

export interface ProfileReference {
  kind: 'profile';
  /** Shown in reports, e.g. "run 01J… input data/train.csv". */
  source: string;
  profile: TableProfile;
}

export function profileReference(profile: TableProfile, source: string): ProfileReference {
  return { kind: 'profile', source, profile };
}

export function isProfileReference(reference: Dataset | ProfileReference): reference is ProfileReference {
  return (reference as ProfileReference).kind === 'profile';
}

/**
 * The profile of one of a run's inputs: the one at `path` (as recorded, or its end), else the
 * only profiled input.
 */
export function profileReferenceFromRun(run: RunEnvelope, path?: string): ProfileReference {
  const profiled = run.inputs.filter((input) => input.profile);
  const matches =
    path === undefined ? profiled : profiled.filter((input) => input.path === path || input.path.endsWith(`/${path.replace(/^\.\//, '')}`));
  if (matches.length === 0) {
    const what = path === undefined ? 'any input' : `an input "${path}"`;
    const known = profiled.length ? ` Profiled inputs: ${profiled.map((i) => i.path).join(', ')}.` : '';
    throw new UserError('no-profile', `Run ${run.id} has no data profile for ${what}: it is recorded when the notebook reads a table with pandas.${known}`);
  }
  if (matches.length > 1) {
    throw new UserError('no-profile', `Run ${run.id} profiled several inputs (${matches.map((i) => i.path).join(', ')}): say which one to use as the reference.`);
  }
  const input = matches[0]!;
  return profileReference(input.profile as TableProfile, `run ${run.id} input ${input.path}`);
}
