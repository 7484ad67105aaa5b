/**
 * The Monitor panel: a generated service's audit log and feedback read back in the editor, with
 * the same core as `nb2prod monitor` (core/monitor: the one pass, the alert rules, the history)
 * and the same view as its JSON report, drawn by webviews/monitor. The extension only adapts:
 * it finds the service folder (the Explorer's folder, a quick pick of the generated services in
 * the workspace, or the Model Registry's model), reads with a cancellable progress notification,
 * asks who and why for an acknowledgement or a resolution (written through the core the CLI's
 * `monitor ack|resolve` uses), records alerts as `--check` does (never running `--on-alert`:
 * the panel executes nothing, so it works in an untrusted workspace), rolls the registry's alias
 * back through the Model Registry view's own action, and refreshes when the audit files change.
 * Hosted by the WebviewHost (CSP shell, messages validated both ways, restore, theme broadcast).
 */
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { UserError } from '../core/errors';
import { alertHistoryPath, annotateAlert, evaluateAlerts, foldAlerts, readAlertEvents, recordEvaluation } from '../core/monitor/alerts';
import { loadMonitorConfig, type MonitorConfig, parseDuration } from '../core/monitor/config';
import type { MonitorResult } from '../core/monitor/engine';
import { monitorService } from '../core/monitor/monitor';
import { monitorPanelView } from '../core/monitor/panelView';
import { loadService, type ServiceInfo, streamFiles } from '../core/monitor/service';
import { resolveActor } from '../core/registry/actor';
import { rollbackDeployTargets, rollbackMessage, serviceIdentity, type ServiceIdentity } from '../core/registry/deploy';
import { rollbackTarget } from '../core/registry/fold';
import { containedPath } from '../core/safePath';
import { type MonitorMessage, type MonitorState, type MonitorToPage, type MonitorView, monitorMessageSchema, monitorStateSchema, monitorToPageSchema } from '../protocol/monitor';
import { MONITOR_PANEL_VIEW_TYPE } from './commandIds';
import { reportError } from './errors';
import type { RegistryTreeProvider } from './registryView';
import type { HostedPanel, PanelKind, WebviewHost } from './webviewHost';

export const MONITOR_PANEL: PanelKind<MonitorMessage, MonitorToPage, MonitorState> = {
  viewType: MONITOR_PANEL_VIEW_TYPE,
  script: 'monitor',
  styles: ['runPage.css', 'compare.css', 'monitor.css'],
  fromPage: monitorMessageSchema,
  toPage: monitorToPageSchema,
  state: monitorStateSchema,
  name: 'Monitor panel',
};

/** Above this much audit log the read gets a progress notification with Cancel (below, the status bar). */
const NOTIFY_BYTES = 32 * 1024 * 1024;
/** Audit files change with every batch the service writes: refresh at most this often (after the first change). */
const REFRESH_DEBOUNCE_MS = 1500;

/** A generated service in the workspace, as the quick pick and the Registry view see it (core/registry/deploy.ts). */
export type FoundService = ServiceIdentity;

/** Every folder in the workspace holding a service nb2prod scaffold generated (service/config.json of its schema). */
export async function findServices(token?: vscode.CancellationToken): Promise<FoundService[]> {
  const configs = await vscode.workspace.findFiles('**/service/config.json', '**/{node_modules,.git,.nb2prod,.venv,venv}/**', 200, token);
  const out: FoundService[] = [];
  for (const uri of configs) {
    const root = path.dirname(path.dirname(uri.fsPath));
    const found = await serviceIdentity(root);
    if (found) out.push(found);
  }
  return out.sort((a, b) => a.root.localeCompare(b.root));
}

export interface MonitorRollback {
  /**
   * Rolls the alias back after a confirmation, deploying the version it goes back to into
   * `deployTo` (a service folder) when given; undefined when the user declined.
   */
  rollbackAlias(model: string, alias: string, deployTo?: string): Promise<{ version: number; previous: number; deployed: string | null } | undefined>;
}

export class MonitorPanels implements vscode.Disposable {
  private readonly subscriptions: vscode.Disposable[] = [];
  private readonly open = new Map<string, HostedPanel<MonitorMessage, MonitorToPage, MonitorState>>();

  constructor(
    private readonly host: WebviewHost,
    private readonly registry: RegistryTreeProvider,
    private readonly rollback: MonitorRollback,
    private readonly workerScript: string,
    private readonly log: vscode.LogOutputChannel,
  ) {
    // A restored panel's folder comes from its saved state (data): kept inside a workspace folder or refused.
    this.subscriptions.push(
      host.registerSerializer(MONITOR_PANEL, async (panel, state) => {
        const roots = (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath);
        if (!roots.length) throw new UserError('unsafe-path', `Refused to restore the Monitor panel of "${state.serviceDir}": no workspace folder is open to keep it in.`);
        const folder = await containedPath(state.serviceDir, { base: roots[0]!, roots, what: 'the service folder', from: 'the Monitor panel\u2019s saved state' });
        await this.show(folder, panel);
      }),
    );
  }

  /**
   * Opens the panel of a service: a folder (the service's root, its service/ folder, or a folder
   * holding services), a Registry view node (the services serving that model), or nothing (a
   * quick pick of the services in the workspace).
   */
  async openFor(target?: unknown): Promise<void> {
    let candidates: FoundService[];
    let what = 'the workspace';
    if (target instanceof vscode.Uri) {
      const folder = target.fsPath;
      const direct = (await serviceIdentity(folder)) ?? (path.basename(folder) === 'service' ? await serviceIdentity(path.dirname(folder)) : null);
      if (direct) return this.show(direct.root);
      candidates = (await findServices()).filter((s) => s.root === folder || s.root.startsWith(folder + path.sep));
      what = path.basename(folder);
    } else if (isRegistryNode(target)) {
      const model = target.kind === 'model' ? target.model.name : target.version.model;
      const version = target.kind === 'version' ? String(target.version.version) : null;
      const all = await findServices();
      candidates = all.filter((s) => s.model === model && (version === null || s.version === version || s.challenger === version));
      what = version === null ? `the services of ${model}` : `the services running ${model} v${version}`;
    } else if (typeof target === 'string' && target) {
      return this.show(target);
    } else {
      candidates = await findServices();
    }
    if (!candidates.length) {
      throw new UserError('not-a-service', `No generated service in ${what}: a service is the folder nb2prod: Generate Production Service wrote (it holds service/config.json).`);
    }
    if (candidates.length === 1) return this.show(candidates[0]!.root);
    const base = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    const picked = await vscode.window.showQuickPick(
      candidates.map((s) => ({ label: s.name, description: base ? path.relative(base, s.root) || '.' : s.root, detail: `${s.model}${s.version ? ` v${s.version}` : ''}${s.challenger ? ` · challenger v${s.challenger}` : ''}`, s })),
      { title: 'Monitor which generated service?', matchOnDescription: true },
    );
    if (picked) await this.show(picked.s.root);
  }

  /** Opens (or reveals) the Monitor panel of the service at `serviceDir`. */
  async show(serviceDir: string, restored?: vscode.WebviewPanel): Promise<void> {
    const root = path.resolve(serviceDir);
    const existing = this.open.get(root);
    if (existing && !existing.isDisposed && !restored) {
      existing.reveal();
      return;
    }
    const page = this.host.open(MONITOR_PANEL, { title: `Monitor: ${path.basename(root)}`, bodyAttributes: 'class="run-page monitor-page"', ...(restored ? { restored } : {}) });
    this.open.set(root, page);
    page.own({ dispose: () => this.open.get(root) === page && this.open.delete(root) });
    const state: MonitorState = { serviceDir: root };
    let view: MonitorView | undefined;
    let service: ServiceInfo | undefined;
    let config: MonitorConfig | undefined;
    let result: MonitorResult | undefined;
    let reading: Promise<void> | undefined;
    let again = false;
    let watcher: vscode.Disposable | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    page.own({ dispose: () => clearTimeout(timer) });

    const watch = (stateDir: string): void => {
      if (watcher) return;
      // the audit, feedback and alert files: every JSON Lines file under the state folder
      const fsWatcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(stateDir), '**/*.jsonl'));
      // a running service appends a batch every fraction of a second: the first change starts the
      // clock and later ones ride along, so the panel refreshes at most every 1.5 s, never starved
      const later = () => {
        if (timer) return;
        timer = setTimeout(() => {
          timer = undefined;
          void refresh(false);
        }, REFRESH_DEBOUNCE_MS);
      };
      fsWatcher.onDidChange(later);
      fsWatcher.onDidCreate(later);
      fsWatcher.onDidDelete(later);
      watcher = fsWatcher;
      page.own(fsWatcher);
    };

    const read = async (explicit: boolean): Promise<void> => {
      service = await loadService(root);
      config = loadMonitorConfig(root);
      watch(service.stateDir);
      page.title = `Monitor: ${service.name}`;
      const files = streamFiles(service.auditLog);
      let total = 0;
      for (const file of files) total += (await fs.stat(file.path).catch(() => null))?.size ?? 0;
      page.post({ type: 'loading', what: `Reading the audit log of ${service.name}${total ? ` (${(total / 1e6).toFixed(1)} MB)` : ''}…`, state });
      const windowMs = parseDuration(config.window ?? '1d');
      const loaded = service;
      const loadedConfig = config;
      const location = total >= NOTIFY_BYTES || explicit ? vscode.ProgressLocation.Notification : vscode.ProgressLocation.Window;
      const outcome = await vscode.window.withProgress({ location, title: `nb2prod: Reading the audit log of ${loaded.name}`, cancellable: location === vscode.ProgressLocation.Notification }, async (progress, token) => {
        const controller = new AbortController();
        token.onCancellationRequested(() => controller.abort());
        let reported = 0;
        try {
          return await monitorService(loaded, {
            windowMs,
            since: null,
            config: loadedConfig,
            workerScript: this.workerScript,
            signal: controller.signal,
            onProgress: (done, all) => {
              const percent = all ? Math.floor((done / all) * 100) : 0;
              if (percent > reported) {
                progress.report({ message: `${percent}%`, increment: percent - reported });
                reported = percent;
              }
            },
          });
        } catch (error) {
          if (controller.signal.aborted) return null;
          throw error;
        }
      });
      if (outcome === null) {
        page.post({ type: 'error', message: 'Reading the audit log was cancelled. Refresh to read it again.', state });
        return;
      }
      result = outcome;
      view = await this.view(loaded, loadedConfig, outcome);
      page.post({ type: 'view', view, state });
    };

    /** Reads again; a change while reading reads once more after it. */
    const refresh = async (explicit: boolean): Promise<void> => {
      if (reading) {
        again = true;
        return reading;
      }
      reading = (async () => {
        try {
          do {
            again = false;
            await read(explicit);
          } while (again && !page.isDisposed);
        } catch (error) {
          page.post({ type: 'error', message: error instanceof Error ? error.message : String(error), state });
          if (!(error instanceof UserError)) reportError(error, this.log, 'Reading the audit log');
        } finally {
          reading = undefined;
        }
      })();
      return reading;
    };

    /** The alert history changed (a person, or a check): the report is the same, the alerts are read again. */
    const rebuild = async (): Promise<void> => {
      if (!service || !config || !result) return refresh(false);
      view = await this.view(service, config, result);
      page.post({ type: 'view', view, state });
    };

    const act = async (work: () => Promise<void>): Promise<void> => {
      page.post({ type: 'busy', busy: true });
      try {
        await work();
      } finally {
        page.post({ type: 'busy', busy: false });
      }
    };

    page.onReady(() => (view ? page.post({ type: 'view', view, state }) : refresh(true)));
    page.onMessage(async (message) => {
      switch (message.type) {
        case 'refresh':
          await refresh(true);
          break;
        case 'recordAlerts':
          await act(async () => {
            if (!service || !result || !config) return;
            const by = await this.actor(root);
            const recorded = await recordEvaluation(alertHistoryPath(service.stateDir), evaluateAlerts(result, config.alerts), by);
            void vscode.window.showInformationMessage(
              `${recorded.opened.length} alert${recorded.opened.length === 1 ? '' : 's'} opened, ${recorded.resolved.length} resolved (back within threshold); ${recorded.open.length} open. No --on-alert command is run from the editor.`,
            );
            await rebuild();
          });
          break;
        case 'acknowledge':
        case 'resolve':
          await act(async () => {
            if (!service) return;
            const verb = message.type === 'acknowledge' ? 'Acknowledge' : 'Resolve';
            const history = foldAlerts((await readAlertEvents(alertHistoryPath(service.stateDir))).events);
            const alert = history.find((a) => a.id === message.alertId);
            if (!alert) throw new UserError('alert-not-found', `Alert ${message.alertId} is not in ${alertHistoryPath(service.stateDir)} any more.`);
            const reason = await vscode.window.showInputBox({
              title: `${verb} alert: ${alert.rule} ${alert.subject}`,
              prompt: message.type === 'acknowledge' ? 'Why, or what is being done (recorded with who and when; the alert stays open)' : 'Why is it resolved (recorded with who and when)',
              ignoreFocusOut: true,
              validateInput: (v) => (v.trim() ? undefined : 'Say why: it is recorded in the alert history.'),
            });
            if (!reason?.trim()) return;
            const by = await this.actor(root);
            const updated = await annotateAlert(alertHistoryPath(service.stateDir), message.type, alert.id, by, reason.trim());
            this.log.info(`Alert ${updated.id} (${updated.rule} ${updated.subject}) ${message.type === 'acknowledge' ? 'acknowledged' : 'resolved'} by ${by}: ${reason.trim()}`);
            await rebuild();
          });
          break;
        case 'rollback':
          await act(async () => {
            const target = view?.rollback;
            if (!target) throw new UserError('rollback-impossible', 'The registry has no alias of this service\u2019s model with an earlier version to go back to.');
            // the service this panel shows gets the version back when its code loads the alias's role
            const identity = await serviceIdentity(root);
            const deployTo = identity && rollbackDeployTargets(target.model, target.alias, [identity]).length ? root : undefined;
            const done = await this.rollback.rollbackAlias(target.model, target.alias, deployTo);
            if (!done) return;
            const shown = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(root)) ? vscode.workspace.asRelativePath(root) : root;
            void vscode.window.showInformationMessage(rollbackMessage({ model: target.model, alias: target.alias, from: done.previous, to: done.version, service: done.deployed ? shown : null, served: target.served }));
            await rebuild();
          });
          break;
        default: {
          const unreachable: never = message;
          throw new Error(`Unhandled message ${JSON.stringify(unreachable)}`);
        }
      }
    });
  }

  private async view(service: ServiceInfo, config: MonitorConfig, result: MonitorResult): Promise<MonitorView> {
    const historyFile = alertHistoryPath(service.stateDir);
    const { events, problems } = await readAlertEvents(historyFile);
    const base = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(service.root))?.uri.fsPath;
    const shown = (p: string) => (base ? path.relative(base, p) || '.' : p);
    return monitorPanelView({
      result,
      evaluation: evaluateAlerts(result, config.alerts),
      history: foldAlerts(events),
      historyProblems: problems.map((p) => `${shown(historyFile)} ${p}`),
      config,
      folder: shown(service.root),
      source: shown(service.root),
      stateFolder: shown(service.stateDir),
      rollback: await this.rollbackTarget(service),
    });
  }

  /** The registry alias serving this service's model that can go back a version: the one holding the served version, champion first. */
  private async rollbackTarget(service: ServiceInfo): Promise<MonitorView['rollback']> {
    const registry = this.registry.registry();
    if (!registry || !existsSync(registry.file)) return null;
    try {
      const { state } = await registry.read();
      const model = state.models[service.model.name] ?? state.models[service.name];
      if (!model) return null;
      const served = service.model.version === null ? null : String(service.model.version);
      const aliases = Object.values(model.aliases)
        .filter((a) => rollbackTarget(a) !== null)
        .sort((a, b) => Number(String(b.version) === served) - Number(String(a.version) === served) || Number(b.alias === 'champion') - Number(a.alias === 'champion'));
      const alias = aliases[0];
      if (!alias) return null;
      return { model: model.name, alias: alias.alias, from: alias.version, to: rollbackTarget(alias)!, served };
    } catch (error) {
      this.log.warn(`Monitor panel: the registry could not be read: ${(error as Error).message}`);
      return null;
    }
  }

  /** Who acts, as the CLI resolves it: git's user.email (only in a trusted workspace: it runs git), else the login. */
  private async actor(cwd: string): Promise<string> {
    return (await resolveActor(undefined, cwd, {}, { git: vscode.workspace.isTrusted })).by;
  }

  dispose(): void {
    for (const s of this.subscriptions.splice(0)) s.dispose();
  }
}

function isRegistryNode(value: unknown): value is { kind: 'model'; model: { name: string } } | { kind: 'version'; version: { model: string; version: number } } {
  if (typeof value !== 'object' || value === null) return false;
  const node = value as { kind?: unknown; model?: unknown; version?: unknown };
  return (node.kind === 'model' && typeof node.model === 'object') || (node.kind === 'version' && typeof node.version === 'object');
}
