/**
 * The store's own `.gitignore`, so that a team can commit `.nb2prod/` without thinking about it:
 * what is precious (the run records, the objects they point to, executed notebooks, the registry)
 * is kept; what nb2prod rebuilds or only needs while a command runs (the index, caches, locks,
 * in-flight markers, temporary files) is not. It lists what to keep rather than what to skip, so
 * a cache added later is ignored too. Written when missing (edit it rather than delete it).
 */
import path from 'node:path';
import { exists, writeFileExclusive } from './atomicFile';

export const STORE_GITIGNORE = `# Written by nb2prod (see "The store" in its docs/tracking.md). Edit it rather than delete it: it is written again when missing.
# Committed: the run records, the objects they point to (code snapshots, the model files runs
# wrote, the registry's copies: large models may belong in Git LFS), executed notebooks, the registry.
# Not committed: the index, caches, locks, in-flight markers and temporary files.
/*
!/.gitignore
!/runs/
!/objects/
!/artifacts/
!/registry.jsonl
.*.tmp
`;

/** Writes `<store>/.gitignore` unless there is one. */
export async function ensureStoreGitignore(storeRoot: string): Promise<void> {
  const file = path.join(storeRoot, '.gitignore');
  if (await exists(file)) return;
  await writeFileExclusive(file, STORE_GITIGNORE);
}
