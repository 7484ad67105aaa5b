/**
 * The Model Registry view in a real VS Code: the registered versions are listed; Promote Model
 * Version on one shows the gate's checks in a dialog before anything is recorded, and after
 * confirming, the view shows the version as champion and the registry file has the move.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Registry } from '../../src/core/registry/registry';
import { RunStore } from '../../src/core/store/runStore';
import { makeEnvelope } from '../fixtures/envelopes';
import { waitFor } from './harness';
import { useVsCode } from './useVsCode';

const VIEW = 'Model Registry';

describe('Model Registry view', () => {
  const vscode = useVsCode({ suite: 'registry' });
  let root = '';

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'nb2prod-e2e-registry-'));
    await writeFile(path.join(root, 'nb2prod.toml'), '[registry.gates]\nmetric = "accuracy"\nminimum = 0.7\n');
    await mkdir(path.join(root, 'models'));
    const store = new RunStore(path.join(root, '.nb2prod'));
    const registry = new Registry(store, root);
    for (let i = 0; i < 2; i++) {
      await writeFile(path.join(root, 'models', `churn-${i}.joblib`), `model ${i}`);
      const run = makeEnvelope({ name: `train ${i}`, metrics: { accuracy: 0.8 + i / 100 }, startedAt: new Date(Date.now() - (2 - i) * 60_000) });
      await store.writeRun(run);
      await registry.register({ model: 'churn', run: run.id, file: `models/churn-${i}.joblib`, by: 'alice' });
    }
    store.close();
  });
  afterAll(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('lists versions and promotes one after showing the gate', async () => {
    const vs = vscode();
    await vs.ensureFolder(root);
    await vs.openViewContainer('nb2prod');
    const rows = await vs.waitForTreeRows(VIEW, ['churn', 'v2', 'v1']);
    expect(rows.map((r) => r.label)).toEqual(expect.arrayContaining(['churn', 'v2', 'v1']));
    await vs.screenshot('01-registry-view');

    await vs.treeRow(VIEW, 'v2').click({ button: 'right' });
    const item = vs.page.locator('.context-view .monaco-menu .action-item a.action-menu-item', { hasText: 'Promote Model Version' });
    await item.waitFor({ state: 'visible', timeout: 10_000 });
    await item.click();
    if (!(await item.waitFor({ state: 'hidden', timeout: 1_500 }).then(() => true, () => false))) await item.click();
    const aliases = await vs.quickInputTitled('Promote churn v2 to');
    await aliases.locator('.monaco-list-row', { hasText: 'champion' }).first().click();

    // The gate's checks are shown before anything is recorded.
    const dialog = vs.page.locator('.monaco-dialog-box');
    await dialog.waitFor({ state: 'visible', timeout: 10_000 });
    const text = await dialog.innerText();
    expect(text).toMatch(/Promote churn v2 to champion/);
    expect(text).toMatch(/accuracy/);
    expect(text).toMatch(/✓/);
    await vs.screenshot('02-gate-before-confirming');
    expect(await readFile(path.join(root, '.nb2prod', 'registry.jsonl'), 'utf8')).not.toMatch(/"type":"alias"/);
    await dialog.getByRole('button', { name: 'Promote' }).click();
    await vs.answerInputBox('Reason (optional, recorded in the history)', 'better accuracy on the holdout');

    await waitFor('v2 shown as champion', async () => (await vs.treeRows(VIEW)).find((r) => r.label === 'v2' && /champion/.test(r.description ?? r.ariaLabel ?? '')), 15_000);
    const log = await readFile(path.join(root, '.nb2prod', 'registry.jsonl'), 'utf8');
    expect(log).toMatch(/"type":"alias".*"alias":"champion".*"reason":"better accuracy on the holdout"/);
    await vs.screenshot('03-promoted');
  });

  it('approves a version with a role, then rolls the champion back from the model', async () => {
    const vs = vscode();
    // v1 becomes champion through the CLI-equivalent core, so there is something to roll back to.
    const store = new RunStore(path.join(root, '.nb2prod'));
    const registry = new Registry(store, root);
    await registry.promote({ model: 'churn', version: 1, alias: 'champion', by: 'alice', config: { gates: null, approvals: { requiredRoles: [], aliases: null } } });
    await registry.promote({ model: 'churn', version: 2, alias: 'champion', by: 'alice', config: { gates: null, approvals: { requiredRoles: [], aliases: null } } });
    store.close();
    await vs.openViewContainer('nb2prod');

    // Approve v2 as validator.
    await vs.treeRow(VIEW, 'v2').click({ button: 'right' });
    const approve = vs.page.locator('.context-view .monaco-menu .action-item a.action-menu-item', { hasText: 'Approve Model Version' });
    await approve.waitFor({ state: 'visible', timeout: 10_000 });
    await approve.click();
    if (!(await approve.waitFor({ state: 'hidden', timeout: 1_500 }).then(() => true, () => false))) await approve.click();
    const roles = await vs.quickInputTitled('Approve churn v2 as');
    await roles.locator('.monaco-list-row', { hasText: 'validator' }).first().click();
    await vs.answerInputBox('Note (optional): what you checked', 'checked the holdout metrics');
    await waitFor('the approval in the registry file', async () => /"type":"approve".*"role":"validator".*"note":"checked the holdout metrics"/.test(await readFile(path.join(root, '.nb2prod', 'registry.jsonl'), 'utf8')), 15_000);

    // Roll back the champion from the model row.
    await vs.treeRow(VIEW, 'churn').click({ button: 'right' });
    const rollback = vs.page.locator('.context-view .monaco-menu .action-item a.action-menu-item', { hasText: 'Roll Back Alias' });
    await rollback.waitFor({ state: 'visible', timeout: 10_000 });
    await rollback.click();
    if (!(await rollback.waitFor({ state: 'hidden', timeout: 1_500 }).then(() => true, () => false))) await rollback.click();
    const alias = (await vs.quickInputTitled('Roll back which alias?')).locator('.monaco-list-row', { hasText: 'churn champion' }).first();
    expect(await alias.innerText()).toMatch(/v2 → v1/);
    await alias.click();
    await vs.answerInputBox('Why roll back? (recorded in the history)', 'drill');
    await waitFor('v1 shown as champion again', async () => (await vs.treeRows(VIEW)).find((r) => r.label === 'v1' && /champion/.test(`${r.description} ${r.ariaLabel}`)), 15_000);
    expect(await readFile(path.join(root, '.nb2prod', 'registry.jsonl'), 'utf8')).toMatch(/"kind":"rollback".*"reason":"drill"/);
    await vs.screenshot('04-rolled-back');
  });
});
