/** `nb2prod registry …`: the local model registry (see docs/registry.md). */
import path from 'node:path';
import { UserError } from '../core/errors';
import { printable } from '../core/printable';
import { resolveActor } from '../core/registry/actor';
import { renderModelCard } from '../core/registry/card';
import type { Check, RegistryProblem } from '../core/registry/events';
import { aliasAt, getModel, getVersion, type AliasMove, type ModelVersion, type RegistryState } from '../core/registry/fold';
import { loadRegistryConfig } from '../core/registry/gates';
import { type DeployTarget, type FileStatus, Registry } from '../core/registry/registry';
import { type CliIo, type Command, type ParsedArgs, requireStore, STORE_HELP, STORE_OPTION } from './command';

const SUBCOMMANDS = ['register', 'promote', 'approve', 'rollback', 'list', 'show', 'history', 'card', 'deploy'] as const;
type Sub = (typeof SUBCOMMANDS)[number];

const USAGE = `nb2prod registry register MODEL RUN [--file PATH] [--note TEXT] [--no-copy] [--by WHO]
       nb2prod registry promote MODEL VERSION --to ALIAS [--reason R] [--override WHY] [--deploy SERVICE_DIR] [--by WHO]
       nb2prod registry approve MODEL VERSION --role developer|validator|auditor [--note N] [--by WHO]
       nb2prod registry rollback ALIAS [--model M] [--reason R] [--restore-file] [--deploy SERVICE_DIR] [--by WHO]
       nb2prod registry list [MODEL]
       nb2prod registry show MODEL [VERSION]
       nb2prod registry history [ALIAS] [--model M] [--at ISO-TIME]
       nb2prod registry card MODEL [VERSION] [--output FILE | --stdout]
       nb2prod registry deploy SERVICE_DIR [--alias challenger] [--role champion|challenger] [--model M] [--mode shadow|canary] [--percent N] [--key K] [--clear]
       (every subcommand takes --json)`;

type Values = ParsedArgs['values'];

function str(values: Values, key: string): string | undefined {
  const v = values[key];
  return typeof v === 'string' ? v : undefined;
}

function positional(positionals: string[], index: number, what: string, sub: Sub): string {
  const value = positionals[index];
  if (value === undefined) throw new UserError('usage', `registry ${sub}: missing ${what}`);
  return value;
}


function reportProblems(io: CliIo, problems: readonly RegistryProblem[], state: RegistryState | null, json: boolean): void {
  if (json) return;
  for (const p of problems) io.stderr(`nb2prod registry: warning: registry.jsonl line ${p.line}: ${p.message}\n`);
  for (const w of state?.warnings ?? []) io.stderr(`nb2prod registry: warning: event ${w.event}: ${w.message}\n`);
}

function warn(io: CliIo, warnings: readonly string[]): void {
  for (const w of warnings) io.stderr(`nb2prod registry: warning: ${printable(w)}\n`);
}

function printChecks(checks: readonly Check[]): string {
  if (!checks.length) return '  (no gate or approval applies to this alias)\n';
  const width = Math.max(...checks.map((c) => c.name.length));
  return checks.map((c) => `  ${c.status.toUpperCase().padEnd(4)}  ${c.name.padEnd(width)}  ${c.detail}\n`).join('');
}

function describeMove(m: AliasMove): string {
  const what = m.kind === 'rollback' ? `rolled back to v${m.version}` : `-> v${m.version}`;
  const from = m.from === null ? '' : ` (was v${m.from})`;
  const override = m.override ? ` [OVERRIDE of ${m.override.failed.join(', ')}: ${printable(m.override.reason)}]` : '';
  return `${m.at}  ${m.model} ${m.alias} ${what}${from}  by ${printable(m.by)}${m.reason ? `: ${printable(m.reason)}` : ''}${override}`;
}

const FILE_STATUS_TEXT: Record<Exclude<FileStatus, 'unchanged'>, string> = {
  missing: 'is missing',
  changed: 'no longer matches the registered sha256',
  outside: 'leads outside the workspace: not checked',
};

function versionLine(v: ModelVersion): string {
  const tags = v.aliases.length ? ` [${v.aliases.join(', ')}]` : '';
  return `  v${v.version}${tags}  ${v.registeredAt}  by ${printable(v.registeredBy)}  run ${v.run}  ${printable(v.file.path)}`;
}

/** `--deploy SERVICE_DIR` (with --mode/--percent/--key for a challenger), or null. */
function deployTarget(values: Values, cwd: string): DeployTarget | null {
  const dir = str(values, 'deploy');
  if (dir === undefined) return null;
  const mode = str(values, 'mode');
  if (mode !== undefined && mode !== 'shadow' && mode !== 'canary') throw new UserError('usage', '--mode must be shadow or canary');
  const percentText = str(values, 'percent');
  const percent = percentText === undefined ? undefined : Number(percentText);
  if (percent !== undefined && !(percent >= 0 && percent <= 100)) throw new UserError('usage', '--percent must be a number from 0 to 100');
  const key = str(values, 'key');
  return { serviceDir: path.resolve(cwd, dir), ...(mode ? { mode } : {}), ...(percent !== undefined ? { percent } : {}), ...(key ? { key } : {}) };
}

/** What to say after a version was deployed to a service: where, and how to make it serve it. */
export function deployedText(cwd: string, model: string, version: number, deployed: { service: string; role: 'champion' | 'challenger'; file: string; clearedChallenger: boolean }, challenger?: { mode?: string; percent?: number; key?: string }): string {
  const relative = path.relative(cwd, deployed.service);
  const service = relative || `${path.basename(deployed.service)} (here)`;
  const where = `${path.relative(cwd, deployed.file)} and ${path.relative(cwd, path.join(deployed.service, 'service', 'deployment.json'))}`;
  const role = deployed.role === 'champion'
    ? `as its champion`
    : `beside the champion in ${challenger?.mode ?? 'shadow'}${challenger?.mode === 'canary' ? ` (${challenger.percent ?? 10}% of requests, by ${challenger.key ?? 'client_request_id'})` : ' (scored and logged, never returned)'}`;
  const cleared = deployed.clearedChallenger ? ` The challenger there was this version: removed.` : '';
  const check = deployed.role === 'champion' ? `GET /ready then names v${version}` : `nb2prod monitor ${relative || '.'} compares the two`;
  return `Deployed ${model} v${version} to ${service} ${role}: ${where}.${cleared} Restart the service to serve it (make serve again, or rebuild and restart its container: make docker-build docker-run); ${check}.\n`;
}

async function run(sub: Sub, values: Values, positionals: string[], registry: Registry, io: CliIo): Promise<number> {
  const json = values.json === true;
  const out = (data: unknown, text: string) => io.stdout(json ? `${JSON.stringify(data, null, 2)}\n` : text);
  const by = () => resolveActor(str(values, 'by'), io.cwd, io.env, io.identity ? { system: io.identity } : {});
  switch (sub) {
    case 'register': {
      const model = positional(positionals, 0, 'MODEL (the model name)', sub);
      const runRef = positional(positionals, 1, 'RUN (the run the model came from: id, prefix or "latest")', sub);
      const file = str(values, 'file');
      const { version, warnings } = await registry.register({
        model,
        run: runRef,
        ...(file !== undefined ? { file: path.resolve(io.cwd, file) } : {}),
        by: await by(),
        note: str(values, 'note') ?? null,
        copy: values['no-copy'] !== true,
      });
      if (!json) warn(io, warnings);
      out({ version, warnings }, `Registered ${version.model} v${version.version} from run ${version.run}: ${printable(version.file.path)} (sha256 ${version.file.sha256.slice(0, 12)}…)${version.file.stored ? ', copy kept in the store' : ''}.\n`);
      return 0;
    }
    case 'promote': {
      const model = positional(positionals, 0, 'MODEL', sub);
      const versionRef = positional(positionals, 1, 'VERSION (a number, "latest" or an alias)', sub);
      const alias = str(values, 'to');
      if (!alias) throw new UserError('usage', 'registry promote: say which alias with --to ALIAS (e.g. --to champion)');
      const deploy = deployTarget(values, io.cwd);
      const result = await registry.promote({ model, version: versionRef, alias, by: await by(), reason: str(values, 'reason') ?? null, override: str(values, 'override') ?? null, config: loadRegistryConfig(io.cwd), deploy });
      if (!json) warn(io, result.warnings);
      let text = `Promoting ${model} v${result.version} to ${alias}${result.previous !== null ? ` (held by v${result.previous})` : ''}:\n${printChecks(result.checks)}`;
      if (!result.promoted) text += `Refused: ${result.failed.length} check${result.failed.length > 1 ? 's' : ''} failed (${result.failed.join(', ')}). Fix them, or override with --override "why" (recorded).\n`;
      else if (result.overridden) text += `Promoted with an OVERRIDE of ${result.failed.join(', ')} (recorded): ${model} ${alias} is v${result.version}.\n`;
      else text += `Promoted: ${model} ${alias} is v${result.version}.\n`;
      if (result.deployed) text += deployedText(io.cwd, model, result.version, result.deployed, result.deployed.entry);
      else if (deploy && !result.promoted) text += `Nothing deployed to ${path.relative(io.cwd, deploy.serviceDir) || '.'}: it keeps serving what it served.\n`;
      out(result, text);
      return result.promoted ? 0 : 1;
    }
    case 'approve': {
      const model = positional(positionals, 0, 'MODEL', sub);
      const versionRef = positional(positionals, 1, 'VERSION', sub);
      const role = str(values, 'role');
      if (!role) throw new UserError('usage', 'registry approve: say in which role with --role developer|validator|auditor');
      const { version, warnings } = await registry.approve({ model, version: versionRef, role, by: await by(), note: str(values, 'note') ?? null });
      if (!json) warn(io, warnings);
      out({ version, warnings }, `Approved ${version.model} v${version.version} as ${role}. Approvals: ${version.approvals.map((a) => `${a.role} ${printable(a.by)}`).join('; ')}.\n`);
      return 0;
    }
    case 'rollback': {
      const alias = positional(positionals, 0, 'ALIAS', sub);
      const model = str(values, 'model');
      const deploy = deployTarget(values, io.cwd);
      const result = await registry.rollback({ alias, ...(model !== undefined ? { model } : {}), by: await by(), reason: str(values, 'reason') ?? null, restoreFile: values['restore-file'] === true, deploy });
      const status = await registry.fileStatus(result.version);
      let text = `Rolled back ${result.move.model} ${alias}: v${result.move.from} -> v${result.version.version}.\n`;
      if (result.deployed) text += deployedText(io.cwd, result.version.model, result.version.version, result.deployed, result.deployed.entry);
      if (result.restored) text += `Restored ${result.version.file.path} from the store's copy.\n`;
      else if (status === 'outside') text += `Note: ${result.version.file.path} ${FILE_STATUS_TEXT.outside}; it cannot be restored there.\n`;
      else if (status !== 'unchanged') {
        const object = registry.objectPath(result.version);
        text += `Note: ${result.version.file.path} ${status === 'missing' ? 'is missing' : 'no longer holds v' + result.version.version}; ${object ? `restore it with --restore-file (copy at ${object})` : 'no copy was kept in the store'}.\n`;
      }
      out({ ...result, fileStatus: status }, text);
      return 0;
    }
    case 'list': {
      const { state, problems } = await registry.read();
      reportProblems(io, problems, state, json);
      const name = positionals[0];
      const models = name !== undefined ? [getModel(state, name)] : Object.values(state.models).sort((a, b) => a.name.localeCompare(b.name));
      const text = models.length
        ? models.map((m) => `${m.name}: ${m.versions.length} version${m.versions.length === 1 ? '' : 's'}${Object.keys(m.aliases).length ? `; ${Object.values(m.aliases).map((a) => `${a.alias} = v${a.version}`).join(', ')}` : ''}\n${m.versions.map(versionLine).join('\n')}\n`).join('')
        : 'The registry is empty (register a model with: nb2prod registry register MODEL RUN).\n';
      out({ models, problems }, text);
      return 0;
    }
    case 'show': {
      const { state, problems } = await registry.read();
      reportProblems(io, problems, state, json);
      const v = getVersion(state, positional(positionals, 0, 'MODEL', sub), positionals[1] ?? 'latest');
      const fileStatus = await registry.fileStatus(v);
      const moves = state.moves.filter((m) => m.model === v.model && (m.version === v.version || m.from === v.version));
      const lines = [
        `${v.model} v${v.version}${v.aliases.length ? ` [${v.aliases.join(', ')}]` : ''}  (id ${v.id})`,
        `Registered ${v.registeredAt} by ${printable(v.registeredBy)}${v.note ? `: ${printable(v.note)}` : ''}`,
        `Source run ${v.run}${v.group ? `, group "${printable(v.group)}" (${v.runs.length} runs)` : ''}`,
        `Model file ${printable(v.file.path)}  sha256 ${v.file.sha256}  ${v.file.bytes} bytes${v.file.stored ? `  (copy: ${registry.objectPath(v)})` : ''}`,
        ...(fileStatus === 'unchanged' ? [] : [`WARNING: the file at ${v.file.path} ${FILE_STATUS_TEXT[fileStatus]}.`]),
        'Data:',
        ...(v.data.length ? v.data.map((d) => `  ${printable(d.path)}  sha256 ${d.sha256.slice(0, 16)}…  ${d.bytes} bytes`) : ['  (no inputs recorded)']),
        'Metrics:',
        ...(Object.keys(v.metrics).length ? Object.entries(v.metrics).sort(([a], [b]) => a.localeCompare(b)).map(([k, x]) => `  ${k} = ${x}`) : ['  (none)']),
        'Approvals:',
        ...(v.approvals.length ? v.approvals.map((a) => `  ${a.role}  ${printable(a.by)}  ${a.at}${a.note ? `  ${printable(a.note)}` : ''}`) : ['  (none)']),
        'Alias moves:',
        ...(moves.length ? moves.map((m) => `  ${describeMove(m)}`) : ['  (never held an alias)']),
      ];
      if (fileStatus !== 'unchanged' && !json) io.stderr(`nb2prod registry: warning: ${v.file.path} ${FILE_STATUS_TEXT[fileStatus]}.\n`);
      out({ version: v, fileStatus, moves, problems }, `${lines.join('\n')}\n`);
      return 0;
    }
    case 'history': {
      const { state, problems } = await registry.read();
      reportProblems(io, problems, state, json);
      const alias = positionals[0];
      const model = str(values, 'model');
      if (model !== undefined) getModel(state, model);
      const atText = str(values, 'at');
      if (atText !== undefined) {
        if (alias === undefined) throw new UserError('usage', 'registry history --at: name the ALIAS (e.g. history champion --at 2025-01-31T12:00:00Z)');
        const at = new Date(atText);
        if (Number.isNaN(at.getTime())) throw new UserError('usage', `--at must be an ISO time (e.g. 2025-01-31T12:00:00Z), not "${atText}"`);
        const models = model !== undefined ? [model] : Object.keys(state.models).filter((name) => state.moves.some((m) => m.model === name && m.alias === alias)).sort();
        if (!models.length) throw new UserError('alias-not-found', `No model has ever had an alias "${alias}".`);
        const answers = models.map((name) => {
          const move = aliasAt(state, name, alias, at);
          return { model: name, alias, at: at.toISOString(), version: move?.version ?? null, since: move?.at ?? null, move };
        });
        out({ answers, problems }, answers.map((a) => (a.version === null ? `${a.model} ${alias} at ${a.at}: no version (the alias did not exist yet)\n` : `${a.model} ${alias} at ${a.at}: v${a.version} (since ${a.since})\n`)).join(''));
        return 0;
      }
      const moves = state.moves.filter((m) => (alias === undefined || m.alias === alias) && (model === undefined || m.model === model));
      out({ moves, problems }, moves.length ? `${moves.map(describeMove).join('\n')}\n` : 'No alias moves recorded.\n');
      return 0;
    }
    case 'deploy': {
      const serviceDir = path.resolve(io.cwd, positional(positionals, 0, 'SERVICE_DIR (the generated project)', sub));
      const role = str(values, 'role');
      if (role !== undefined && role !== 'champion' && role !== 'challenger') throw new UserError('usage', '--role must be champion or challenger');
      const target = deployTarget({ ...values, deploy: serviceDir }, io.cwd)!;
      const model = str(values, 'model');
      const alias = str(values, 'alias');
      const result = await registry.deploy({
        ...target,
        ...(role ? { role } : {}),
        ...(alias !== undefined ? { alias } : {}),
        ...(model !== undefined ? { model } : {}),
        by: await by(),
        clear: values.clear === true,
      });
      const where = path.relative(io.cwd, path.join(serviceDir, 'service', 'deployment.json'));
      const entry = result.deployment[result.role];
      const text = result.version === null
        ? result.role === 'champion'
          ? `Removed the deployed champion from ${where}: the service serves the model its service/config.json names from its next start (restart it).\n`
          : `Removed the challenger from ${where}: the service serves its champion alone from its next start.\n`
        : deployedText(io.cwd, result.version.model, result.version.version, { service: serviceDir, role: result.role, file: result.file!, clearedChallenger: result.clearedChallenger }, entry ?? undefined);
      out(result, text);
      return 0;
    }
    case 'card': {
      const { state, problems } = await registry.read();
      reportProblems(io, problems, state, json);
      const modelName = positional(positionals, 0, 'MODEL', sub);
      const model = getModel(state, modelName);
      const v = getVersion(state, modelName, positionals[1] ?? (model.aliases.champion ? 'champion' : 'latest'));
      if (values.stdout === true) {
        const warnings: string[] = [];
        const runs = await registry.runsOf(v, warnings);
        if (!json) warn(io, warnings);
        const generated = renderModelCard({ model, version: v, moves: state.moves, runs, fileStatus: await registry.fileStatus(v), generatedAt: new Date() });
        out({ markdown: generated }, generated);
        return 0;
      }
      const output = path.resolve(io.cwd, str(values, 'output') ?? path.join('model-cards', `${v.model}-v${v.version}.md`));
      const { kept, warnings } = await registry.writeModelCard(v.model, v.version, output);
      if (!json) warn(io, warnings);
      out({ file: output, kept }, `${kept ? 'Updated' : 'Wrote'} the model card of ${v.model} v${v.version}: ${path.relative(io.cwd, output) || output}${kept ? ' (your intended use and known limitations kept)' : ''}.\n`);
      return 0;
    }
  }
}

export const registryCommands: Record<string, Command> = {
  registry: {
    summary: 'the local model registry: versions, aliases with gates and approvals, rollback, model cards',
    usage: USAGE,
    details: `Models are registered from tracked runs; versions are numbered per model. Aliases
(champion, challenger or your own) move between versions; every move is recorded with who,
when and why in the store's append-only registry.jsonl, so "which version was champion on
date X" can always be answered (history ALIAS --at TIME).

Subcommands:
  register MODEL RUN    register the run's model file (its one "model" artifact, or --file)
                        as the next version, with the run's data versions and metrics
  promote MODEL VERSION --to ALIAS
                        move the alias after the promotion gate and required approvals of the
                        project configuration ([registry] in nb2prod.toml) pass; refuses (exit 1)
                        with the failed checks, unless --override "why" (recorded as such);
                        with --deploy SERVICE_DIR, once promoted, deploy it there as the alias's
                        role (champion or challenger): promote or keep in one command
  approve MODEL VERSION --role ROLE
                        record a sign-off as developer, validator or auditor
  rollback ALIAS        move the alias back to the version promoted before its current one;
                        with --deploy SERVICE_DIR, also deploy it there (restart the service)
  list [MODEL]          models, versions and aliases
  show MODEL [VERSION]  one version (default: the latest) with data, metrics, approvals
  history [ALIAS]       alias moves; with --at TIME, which version held ALIAS at that time
  card MODEL [VERSION]  write the Markdown model card (default model-cards/MODEL-vN.md);
                        your "Intended use" and "Known limitations" sections are kept
  deploy SERVICE_DIR    put the version holding --alias (default challenger) in a generated
                        service (service/deployment.json) as its --role: champion (what it
                        serves), or challenger beside it, --mode shadow (scored and logged, never
                        returned) or canary (--percent of requests, by a stable hash of --key:
                        client_request_id, request_id or an input field); --clear removes the
                        role's deployment. The version must take the service's input contract.

Options:
  --by WHO             who acts (default: git config user.email, else the login name)
  --file PATH          register: the model file (default: the run's model artifact)
  --note TEXT          register, approve: a note
  --no-copy            register: do not keep a copy of the model file in the store
  --to ALIAS           promote: the alias to move
  --reason TEXT        promote, rollback: why (recorded)
  --override WHY       promote: promote although checks failed (recorded with them)
  --role ROLE          approve: developer, validator or auditor
  --model M            rollback, history: the model, when the alias name is not enough
  --restore-file       rollback: put the version's file (kept in the store) back at its path
  --deploy SERVICE_DIR promote, rollback: deploy the version to that generated service
  --role ROLE          deploy: champion or challenger (default: champion for --alias champion)
  --at ISO-TIME        history: which version held the alias at that time
  --output FILE        card: where to write (default model-cards/MODEL-vN.md)
  --stdout             card: print the card instead of writing it
  --json               machine-readable output
${STORE_HELP}

Exit codes: 0 done, 1 a promotion refused by its checks, 2 a usage error or a problem to fix.`,
    options: {
      ...STORE_OPTION,
      json: { type: 'boolean' },
      by: { type: 'string' },
      file: { type: 'string' },
      note: { type: 'string' },
      'no-copy': { type: 'boolean' },
      to: { type: 'string' },
      reason: { type: 'string' },
      override: { type: 'string' },
      role: { type: 'string' },
      model: { type: 'string' },
      'restore-file': { type: 'boolean' },
      at: { type: 'string' },
      output: { type: 'string' },
      stdout: { type: 'boolean' },
      alias: { type: 'string' },
      mode: { type: 'string' },
      percent: { type: 'string' },
      key: { type: 'string' },
      clear: { type: 'boolean' },
      deploy: { type: 'string' },
    },
    async run({ values, positionals }, store, io) {
      const [sub, ...rest] = positionals.map(String);
      if (sub === undefined) throw new UserError('usage', `registry: name a subcommand (${SUBCOMMANDS.join(', ')})`);
      if (!(SUBCOMMANDS as readonly string[]).includes(sub)) throw new UserError('usage', `registry: unknown subcommand "${sub}" (expected ${SUBCOMMANDS.join(', ')})`);
      await requireStore(store);
      return run(sub as Sub, values, rest, new Registry(store), io);
    },
  },
};
