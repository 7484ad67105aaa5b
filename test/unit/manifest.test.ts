import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMANDS, RUN_PANEL_VIEW_TYPE, VIEWS } from '../../src/extension/commandIds';

const manifest = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as {
  contributes: {
    commands: Array<{ command: string; title: string; icon?: string }>;
    views: Record<string, Array<{ id: string }>>;
    menus: Record<string, Array<{ command: string; when?: string; group?: string }>>;
    configuration: { properties: Record<string, { type: string; default: unknown; scope?: string }> };
  };
  activationEvents: string[];
  capabilities: { untrustedWorkspaces: { supported: boolean | 'limited' } };
  engines: { vscode: string };
  devDependencies: Record<string, string>;
};

describe('package.json', () => {
  it('contributes exactly the commands the extension registers', () => {
    expect(manifest.contributes.commands.map((c) => c.command).sort()).toEqual(Object.values(COMMANDS).sort());
  });

  it('only references contributed commands in menus', () => {
    const known = new Set(Object.values(COMMANDS) as string[]);
    for (const entries of Object.values(manifest.contributes.menus)) for (const entry of entries) expect(known).toContain(entry.command);
  });

  it('contributes the views the extension creates and restores its panels', () => {
    const views = Object.values(manifest.contributes.views).flat().map((v) => v.id);
    expect(views).toEqual(expect.arrayContaining(Object.values(VIEWS)));
    expect(manifest.activationEvents).toContain(`onWebviewPanel:${RUN_PANEL_VIEW_TYPE}`);
  });

  it('offers Track Run where a notebook or script is: notebook toolbar, Python editor title, explorer', () => {
    const menu = (name: string) => manifest.contributes.menus[name]?.find((e) => e.command === COMMANDS.trackRun);
    expect(menu('notebook/toolbar')).toMatchObject({ when: expect.stringContaining('notebookType == jupyter-notebook'), group: expect.stringMatching(/^navigation/) });
    expect(menu('editor/title')).toMatchObject({ when: expect.stringContaining('resourceLangId == python'), group: 'navigation' });
    expect(menu('explorer/context')?.when).toMatch(/\.ipynb/);
    expect(menu('explorer/context')?.when).toMatch(/\.py\b/);
    // Toolbar buttons need an icon, or VS Code shows the bare title.
    expect(manifest.contributes.commands.find((c) => c.command === COMMANDS.trackRun)).toMatchObject({ title: 'Track Run', icon: expect.stringMatching(/^\$\(/) });
  });

  it('offers Replay Run on a single run in the Runs view', () => {
    const entry = manifest.contributes.menus['view/item/context']?.find((e) => e.command === COMMANDS.replayRun);
    expect(entry?.when).toContain('view == nb2prod.runs');
    expect(entry?.when).toContain('!listMultiSelection');
  });

  it('declares the interpreter setting per resource, empty by default', () => {
    expect(manifest.contributes.configuration.properties['nb2prod.pythonPath']).toMatchObject({ type: 'string', default: '', scope: 'resource' });
  });

  it('activates when a Jupyter notebook opens, to observe its executions', () => {
    expect(manifest.activationEvents).toContain('onNotebook:jupyter-notebook');
  });

  it('stays usable (for viewing) in untrusted workspaces', () => {
    expect(manifest.capabilities.untrustedWorkspaces.supported).toBe('limited');
  });

  it('pins @types/vscode to the engine it declares (vsce refuses a newer one)', () => {
    expect(manifest.engines.vscode).toBe(`^${manifest.devDependencies['@types/vscode']}`);
  });
});
