/**
 * The Drift panel saves the files it compares in its webview state, and a restored panel reads
 * them again. That state is data (a page could post anything, a crafted workspace could hold
 * anything): before reading, each file path in it is kept inside the workspace or the store
 * (`containedPath`); one that is not is dropped, with the one-line reason, and the panel asks
 * for that file again. Files the user picks in a dialog are not restricted.
 */
import { isUserError } from '../errors';
import { containedPath } from '../safePath';

export interface DriftFiles {
  reference?: { kind: 'file'; path: string } | { kind: 'run'; runId: string; input?: string };
  current?: string;
}

export async function keepDriftFilesInside<T extends DriftFiles>(state: T, workspace: string | undefined, storeRoot: string | undefined): Promise<{ state: T; refused: string[] }> {
  const refused: string[] = [];
  const next = { ...state };
  const check = async (file: string, what: string): Promise<boolean> => {
    if (!workspace) {
      refused.push(`Refused ${what} "${file}" saved by the Drift panel: no workspace folder is open to keep it in.`);
      return false;
    }
    try {
      await containedPath(file, { base: workspace, roots: storeRoot ? [workspace, storeRoot] : [workspace], what, from: 'the Drift panel’s saved state' });
      return true;
    } catch (error) {
      if (!isUserError(error)) throw error;
      refused.push(error.message);
      return false;
    }
  };
  if (next.reference?.kind === 'file' && !(await check(next.reference.path, 'the reference data'))) delete next.reference;
  if (next.current !== undefined && !(await check(next.current, 'the current data'))) delete next.current;
  return { state: next, refused };
}
