import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMANDS, RUN_PANEL_VIEW_TYPE, VIEWS } from '../../src/extension/commandIds';

const manifest = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as {
  contributes: { commands: Array<{ command: string }>; views: Record<string, Array<{ id: string }>>; menus: Record<string, Array<{ command: string }>> };
  activationEvents: string[];
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

  it('pins @types/vscode to the engine it declares (vsce refuses a newer one)', () => {
    expect(manifest.engines.vscode).toBe(`^${manifest.devDependencies['@types/vscode']}`);
  });
});
