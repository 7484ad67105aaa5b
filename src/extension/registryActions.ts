/**
 * Registry commands in the editor — register, promote, approve, rollback — over the same core
 * as `nb2prod registry`. Promote evaluates the gate and approvals first and shows every check
 * before asking; a failing gate can only be overridden with a reason, which is recorded.
 */
import * as vscode from 'vscode';
import { UserError } from '../core/errors';
import { type Actor, resolveActor } from '../core/registry/actor';
import { APPROVAL_ROLES, type Check } from '../core/registry/events';
import type { ModelVersion } from '../core/registry/fold';
import { loadRegistryConfig } from '../core/registry/gates';
import { rollbackDeployTargets, rollbackMessage } from '../core/registry/deploy';
import type { Registry } from '../core/registry/registry';
import { findServices } from './monitorPanel';
import type { RegistryNode, RegistryTreeProvider } from './registryView';
import type { RunsNode } from './runsView';
import type { WorkspaceStore } from './workspaceStore';
import { pickRuns, runIdOf } from './runPicker';

export class RegistryActions {
  constructor(
    private readonly tree: RegistryTreeProvider,
    private readonly store: WorkspaceStore,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  /** Register a model version from a run (the clicked run, or one picked). */
  async register(target?: RunsNode | string): Promise<void> {
    const registry = this.registry();
    const runId = runIdOf(target) ?? (await pickRuns(this.store, 1, 'Register a model from which run?'))?.[0];
    if (!runId) return;
    const run = await this.store.get().getRun(runId);
    const { state } = await registry.read();
    const known = Object.keys(state.models);
    const model = await vscode.window.showInputBox({
      title: `Register a model version from "${run.name}"`,
      prompt: known.length ? `Model name (existing: ${known.join(', ')})` : 'Model name (letters, digits, ".", "_" or "-")',
      value: known[0] ?? 'model',
      validateInput: (value) => (/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(value) ? undefined : 'Letters, digits, ".", "_" or "-", starting with a letter or digit.'),
    });
    if (!model) return;
    const models = run.artifacts.filter((a) => a.kind === 'model');
    let file: string | undefined;
    if (models.length !== 1) {
      const picked = await vscode.window.showOpenDialog({ title: 'The model file of this version', canSelectMany: false, defaultUri: vscode.Uri.file(registry.workspace) });
      if (!picked?.[0]) return;
      file = picked[0].fsPath;
    }
    const by = await this.actor(registry);
    let registered;
    try {
      registered = await registry.register({ model, run: run.id, ...(file ? { file } : {}), by });
    } catch (error) {
      // The run's model file was overwritten and no copy of it was kept: registering the file at
      // that path would put another model under this run's metrics. Only an explicit choice may.
      if (!(error instanceof UserError && error.code === 'model-file-changed')) throw error;
      const choice = await vscode.window.showErrorMessage(error.message, 'Register a File I Choose…');
      if (!choice) return;
      const picked = await vscode.window.showOpenDialog({ title: 'The model file to register (its bytes as they are now)', canSelectMany: false, defaultUri: vscode.Uri.file(registry.workspace) });
      if (!picked?.[0]) return;
      registered = await registry.register({ model, run: run.id, file: picked[0].fsPath, by });
    }
    const { version, warnings } = registered;
    for (const warning of warnings) this.log.warn(warning);
    this.tree.refresh();
    void vscode.window.showInformationMessage(`Registered ${version.model} v${version.version} from run ${run.name}.`);
  }

  /** Promote a version to an alias, showing the gate's checks before it is recorded. */
  async promote(node?: RegistryNode): Promise<void> {
    const registry = this.registry();
    const version = await this.versionOf(registry, node, 'Promote which version?');
    if (!version) return;
    const alias = await vscode.window.showQuickPick(['champion', 'challenger', 'Another alias…'], { title: `Promote ${version.model} v${version.version} to` });
    if (!alias) return;
    const name = alias === 'Another alias…' ? await vscode.window.showInputBox({ title: 'Alias name', validateInput: (v) => (/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(v) ? undefined : 'Letters, digits, ".", "_" or "-".') }) : alias;
    if (!name) return;
    const config = loadRegistryConfig(registry.workspace);
    const by = await this.actor(registry);
    const dry = await registry.promote({ model: version.model, version: version.version, alias: name, by, config, dryRun: true });
    const summary = dry.checks.length ? dry.checks.map(describeCheck).join('\n') : 'No gate or approval applies to this alias.';
    let override: string | undefined;
    if (dry.failed.length) {
      const choice = await vscode.window.showWarningMessage(
        `The gate refuses v${version.version} as ${name}: ${dry.failed.join(', ')}.`,
        { modal: true, detail: summary },
        'Override…',
      );
      if (choice !== 'Override…') return;
      override = await vscode.window.showInputBox({ title: 'Why override the failed checks? (recorded in the registry)', validateInput: (v) => (v.trim().length >= 5 ? undefined : 'Say why, in a few words.') });
      if (!override) return;
    } else {
      const previous = dry.previous === null ? 'no version holds it yet' : `now v${dry.previous}`;
      const choice = await vscode.window.showInformationMessage(`Promote ${version.model} v${version.version} to ${name} (${previous})?`, { modal: true, detail: summary }, 'Promote');
      if (choice !== 'Promote') return;
    }
    const reason = await vscode.window.showInputBox({ title: 'Reason (optional, recorded in the history)' });
    const result = await registry.promote({ model: version.model, version: version.version, alias: name, by, config, reason: reason || null, override: override ?? null });
    this.tree.refresh();
    void vscode.window.showInformationMessage(`${version.model} ${name} → v${result.version}${result.overridden ? ' (override recorded)' : ''}.`);
  }

  async approve(node?: RegistryNode): Promise<void> {
    const registry = this.registry();
    const version = await this.versionOf(registry, node, 'Approve which version?');
    if (!version) return;
    const role = await vscode.window.showQuickPick(
      APPROVAL_ROLES.map((r) => ({ label: r, description: { developer: 'first line: built it', validator: 'second line: checked it independently', auditor: 'third line: audited the process' }[r] })),
      { title: `Approve ${version.model} v${version.version} as` },
    );
    if (!role) return;
    const note = await vscode.window.showInputBox({ title: 'Note (optional): what you checked' });
    await registry.approve({ model: version.model, version: version.version, role: role.label, by: await this.actor(registry), note: note || null });
    this.tree.refresh();
    void vscode.window.showInformationMessage(`Approved ${version.model} v${version.version} as ${role.label}.`);
  }

  /**
   * Roll Back Alias in the view: pick the alias, then — when a generated service in the workspace
   * serves that model — whether to deploy the version it goes back to there (the real rollback:
   * the service serves it from its next start) or to move the alias only.
   */
  async rollback(node?: RegistryNode): Promise<void> {
    const registry = this.registry();
    const { state } = await registry.read();
    const aliases = Object.values(state.models).flatMap((m) => Object.values(m.aliases).filter((a) => a.stack.length > 1 && (node?.kind !== 'model' || node.model.name === m.name)));
    if (!aliases.length) throw new UserError('rollback-impossible', 'No alias has an earlier version to roll back to.');
    const picked = await vscode.window.showQuickPick(
      aliases.map((a) => ({ label: `${a.model} ${a.alias}`, description: `v${a.version} → v${a.stack[a.stack.length - 2]}`, a })),
      { title: 'Roll back which alias?' },
    );
    if (!picked) return;
    const to = picked.a.stack[picked.a.stack.length - 2]!;
    const targets = rollbackDeployTargets(picked.a.model, picked.a.alias, await findServices());
    let deployTo: string | undefined;
    if (targets.length) {
      const choice = await vscode.window.showQuickPick(
        [
          ...targets.map((s) => ({ label: `Roll back and deploy v${to} to ${vscode.workspace.asRelativePath(s.root)}`, description: `serves v${picked.a.alias === 'challenger' ? s.challenger ?? '–' : s.version ?? '?'} now`, root: s.root as string | undefined })),
          { label: 'Roll back the alias only', description: 'no service changes', root: undefined },
        ],
        { title: `Roll back ${picked.a.model} ${picked.a.alias} to v${to}: deploy it?` },
      );
      if (!choice) return;
      deployTo = choice.root;
    }
    const done = await this.rollbackWithReason(registry, picked.a.model, picked.a.alias, deployTo);
    if (!done) return;
    // no workspace service runs this model: the alias moved, and that is all there is to say
    if (!targets.length) return void vscode.window.showInformationMessage(`${picked.a.model} ${picked.a.alias} rolled back to v${done.version}.`);
    const served = picked.a.alias === 'challenger' ? targets[0]!.challenger : targets[0]!.version;
    void vscode.window.showInformationMessage(rollbackMessage({ model: picked.a.model, alias: picked.a.alias, from: done.previous, to: done.version, service: done.deployed ? vscode.workspace.asRelativePath(done.deployed) : null, served }));
  }

  /**
   * Rolls `alias` of `model` back after a modal confirmation naming both versions (the Monitor
   * panel's Roll Back; the view's quick pick is its own confirmation), deploying the version to
   * `deployTo` (a generated service folder) when given. The caller says what next.
   */
  async rollbackAlias(model: string, alias: string, deployTo?: string): Promise<{ version: number; previous: number; deployed: string | null } | undefined> {
    const registry = this.registry();
    const { state } = await registry.read();
    const held = state.models[model]?.aliases[alias];
    const target = held && held.stack.length > 1 ? held.stack[held.stack.length - 2]! : null;
    if (!held || target === null) throw new UserError('rollback-impossible', `${model} "${alias}" has no earlier version to roll back to.`);
    const where = deployTo ? vscode.workspace.asRelativePath(deployTo) : null;
    const button = where ? 'Roll Back and Deploy' : 'Roll Back';
    const choice = await vscode.window.showWarningMessage(
      where ? `Roll back ${model} ${alias} from v${held.version} to v${target} and deploy v${target} to ${where}?` : `Roll back ${model} ${alias} from v${held.version} to v${target}?`,
      {
        modal: true,
        detail: where
          ? `The registry records the move with who, when and why. v${target}'s file is copied from the registry (re-hashed) into ${where}/model/${alias}/ and named in service/deployment.json; the running service keeps its model until it is restarted.`
          : 'The registry records the move with who, when and why. The running service keeps its model until it is restarted.',
      },
      button,
    );
    if (choice !== button) return undefined;
    return this.rollbackWithReason(registry, model, alias, deployTo);
  }

  private async rollbackWithReason(registry: Registry, model: string, alias: string, deployTo?: string): Promise<{ version: number; previous: number; deployed: string | null } | undefined> {
    const reason = await vscode.window.showInputBox({ title: 'Why roll back? (recorded in the history)' });
    if (reason === undefined) return undefined;
    const { version, move, deployed } = await registry.rollback({ alias, model, by: await this.actor(registry), reason: reason || null, deploy: deployTo ? { serviceDir: deployTo } : null });
    this.tree.refresh();
    return { version: version.version, previous: move.from ?? version.version, deployed: deployed?.service ?? null };
  }

  private registry(): Registry {
    const registry = this.tree.registry();
    if (!registry) throw new UserError('no-workspace', 'Open the project folder to use its model registry.');
    return registry;
  }

  private async versionOf(registry: Registry, node: RegistryNode | undefined, title: string): Promise<ModelVersion | undefined> {
    if (node?.kind === 'version') return node.version;
    const { state } = await registry.read();
    const versions = Object.values(state.models).flatMap((m) => [...m.versions].reverse());
    if (!versions.length) throw new UserError('model-not-found', 'No model is registered yet: register one from a run first.');
    const picked = await vscode.window.showQuickPick(versions.map((v) => ({ label: `${v.model} v${v.version}`, description: v.aliases.join(', '), v })), { title });
    return picked?.v;
  }

  /**
   * Who acts: git's user.email in a trusted workspace (running git), else the login name; with
   * the OS account and host recorded beside it (separation of duties compares them).
   */
  private actor(registry: Registry): Promise<Actor> {
    return resolveActor(undefined, registry.workspace, {}, { git: vscode.workspace.isTrusted });
  }
}

function describeCheck(check: Check): string {
  const mark = check.status === 'pass' ? '✓' : check.status === 'fail' ? '✗' : '–';
  return `${mark} ${check.name}: ${check.detail}`;
}
