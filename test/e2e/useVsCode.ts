/**
 * Vitest glue for the harness: one code-server + Chromium per describe block (started in
 * beforeAll, killed in afterAll), per-test artifact folders, and failure artifacts saved before
 * the session is torn down. Kept apart from harness.ts so the harness also works outside vitest.
 */
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { slug, VsCodeSession, type LaunchOptions } from './harness';

/** Registers the hooks and returns an accessor for the session. */
export function useVsCode(options: LaunchOptions): () => VsCodeSession {
  let session: VsCodeSession | undefined;
  let launchError: Error | undefined;
  beforeAll(async () => {
    try {
      session = await VsCodeSession.launch(options);
    } catch (err) {
      // Rethrown by every test below: a failing beforeAll would only mark them "skipped", and a
      // missing code-server, Chromium or VSIX must show as failed tests naming what to run.
      launchError = err instanceof Error ? err : new Error(String(err));
    }
  });
  afterAll(async () => {
    await session?.close();
  });
  beforeEach(async ({ task, onTestFailed }) => {
    if (launchError) throw launchError;
    const current = session!;
    await current.useTest(`${slug(options.suite)}-${slug(task.name)}`);
    onTestFailed(async () => {
      const dir = await current.saveFailureArtifacts();
      console.error(`e2e failure artifacts (screenshot, code-server and VS Code logs): ${dir}`);
    });
  });
  return () => {
    if (!session) throw launchError ?? new Error('the VS Code session is not started (use it inside tests or hooks)');
    return session;
  };
}
