/**
 * The Registry view: the models of the workspace's registry (`.nb2prod/registry.jsonl`), their
 * versions newest first with the aliases they hold, approvals and key metrics, and lines of the
 * file that could not be read. Refreshed when the registry file changes. Read-only: changes go
 * through the CLI (`nb2prod registry ...`) or the Open Model Card command.
 */
import * as vscode from 'vscode';
import type { ModelState, ModelVersion } from '../core/registry/fold';
import { Registry, type RegistrySnapshot } from '../core/registry/registry';
import { formatAge, formatNumber } from '../core/render/format';
import { reportError } from './errors';
import type { WorkspaceStore } from './workspaceStore';

export type RegistryNode =
  | { kind: 'model'; model: ModelState }
  | { kind: 'version'; version: ModelVersion }
  | { kind: 'problem'; line: number; message: string };

export class RegistryTreeProvider implements vscode.TreeDataProvider<RegistryNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<RegistryNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private snapshot: RegistrySnapshot | undefined;
  private watcher: vscode.FileSystemWatcher | undefined;
  /** Model name → the versions generated services in the workspace run (champion or challenger). */
  private served = new Map<string, Set<string>>();
  /** Finds the generated services (set by the composition root: the Monitor panel's finder). */
  servedBy: (() => Promise<Array<{ model: string; version: string | null; challenger: string | null }>>) | undefined;

  constructor(
    private readonly store: WorkspaceStore,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  refresh(): void {
    this.changed.fire(undefined);
  }

  /** The registry of the workspace's store (null without a workspace). */
  registry(): Registry | null {
    const folder = this.store.workspaceFolder();
    if (!folder || !this.store.root()) return null;
    return new Registry(this.store.get(), folder);
  }

  getTreeItem(node: RegistryNode): vscode.TreeItem {
    switch (node.kind) {
      case 'model': {
        const item = new vscode.TreeItem(node.model.name, vscode.TreeItemCollapsibleState.Expanded);
        const aliases = Object.values(node.model.aliases).map((a) => `${a.alias} → v${a.version}`);
        item.description = `${node.model.versions.length} version${node.model.versions.length === 1 ? '' : 's'}${aliases.length ? ` · ${aliases.join(', ')}` : ''}`;
        item.iconPath = new vscode.ThemeIcon('package');
        // `.served`: a generated service in the workspace runs this model (Open Monitor is offered)
        item.contextValue = this.served.has(node.model.name) ? 'model.served' : 'model';
        item.id = `model:${node.model.name}`;
        return item;
      }
      case 'version': {
        const v = node.version;
        const item = new vscode.TreeItem(`v${v.version}`, vscode.TreeItemCollapsibleState.None);
        const metrics = Object.entries(v.metrics)
          .slice(0, 2)
          .map(([name, value]) => `${name} ${formatNumber(value)}`);
        item.description = [v.aliases.join(', '), ...metrics, `${formatAge(v.registeredAt)} by ${v.registeredBy}`].filter(Boolean).join(' · ');
        const tooltip = new vscode.MarkdownString(undefined, true);
        tooltip.appendMarkdown(`**${escape(v.model)} v${v.version}** — registered ${escape(v.registeredAt)} by ${escape(v.registeredBy)} from run \`${escape(v.run)}\`\n\n`);
        tooltip.appendMarkdown(`Aliases: ${v.aliases.length ? escape(v.aliases.join(', ')) : 'none'}\n\n`);
        tooltip.appendMarkdown(`Approvals: ${v.approvals.length ? v.approvals.map((a) => `${escape(a.role)} by ${escape(a.by)}`).join(', ') : 'none'}\n\n`);
        tooltip.appendMarkdown(Object.entries(v.metrics).map(([name, value]) => `${escape(name)} = ${formatNumber(value)}`).join(' · '));
        item.tooltip = tooltip;
        item.iconPath = new vscode.ThemeIcon(v.aliases.length ? 'star-full' : 'circle-outline');
        item.contextValue = this.served.get(v.model)?.has(String(v.version)) ? 'modelVersion.served' : 'modelVersion';
        item.id = `version:${v.id}`;
        item.accessibilityInformation = { label: `${v.model} version ${v.version}${v.aliases.length ? `, ${v.aliases.join(', ')}` : ''}` };
        return item;
      }
      case 'problem': {
        const item = new vscode.TreeItem(`registry.jsonl line ${node.line} skipped`, vscode.TreeItemCollapsibleState.None);
        item.description = node.message;
        item.tooltip = node.message;
        item.iconPath = new vscode.ThemeIcon('warning', new vscode.ThemeColor('problemsWarningIcon.foreground'));
        return item;
      }
    }
  }

  async getChildren(node?: RegistryNode): Promise<RegistryNode[]> {
    if (node?.kind === 'model') return [...node.model.versions].reverse().map((version) => ({ kind: 'version', version }));
    if (node) return [];
    const registry = this.registry();
    if (!registry) return [];
    this.watch(registry.file);
    try {
      this.snapshot = await registry.read();
      this.served = await this.findServed();
    } catch (error) {
      reportError(error, this.log, 'Reading the model registry');
      return [];
    }
    const models: RegistryNode[] = Object.values(this.snapshot.state.models).map((model) => ({ kind: 'model', model }));
    const problems: RegistryNode[] = this.snapshot.problems.map((p) => ({ kind: 'problem', line: p.line, message: p.message }));
    return [...problems, ...models];
  }

  private async findServed(): Promise<Map<string, Set<string>>> {
    const served = new Map<string, Set<string>>();
    try {
      for (const s of (await this.servedBy?.()) ?? []) {
        const versions = served.get(s.model) ?? new Set<string>();
        for (const v of [s.version, s.challenger]) if (v !== null) versions.add(v);
        served.set(s.model, versions);
      }
    } catch (error) {
      this.log.debug(`Registry view: generated services not found: ${(error as Error).message}`);
    }
    return served;
  }

  private watch(file: string): void {
    if (this.watcher) return;
    this.watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(file.slice(0, file.lastIndexOf('/'))), 'registry.jsonl'));
    const refresh = (): void => this.refresh();
    this.watcher.onDidChange(refresh);
    this.watcher.onDidCreate(refresh);
    this.watcher.onDidDelete(refresh);
  }

  dispose(): void {
    this.watcher?.dispose();
    this.changed.dispose();
  }
}

function escape(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');
}
