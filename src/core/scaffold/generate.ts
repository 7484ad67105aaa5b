/**
 * The files of a generated project: the notebook-specific ones rendered here from the plan, the
 * run and the contract; the static runtime (service, pipeline, tests, packaging) copied from
 * `templates/`, which reads the generated JSON at run time and holds no notebook-specific name.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ColumnProfile, RunEnvelope } from '../envelope';
import { cachedAnalyze } from '../lint/model';
import { cellNumber } from '../notebook/cellLabel';
import { type ContractColumn, contractColumns, inputSchema, outputSchema, pydanticModule, pythonNumber, pythonString, trainingSchema } from './contract';
import type { ScaffoldPlan, StepPlan } from './plan';

export interface GeneratedFile {
  /** Relative to the project root, forward slashes. */
  path: string;
  content: string | Buffer;
  /** `template` files are the same for every project; `generated` ones are this notebook's. */
  origin: 'generated' | 'template' | 'model';
}

export interface ModelRecord {
  name: string;
  version: number | null;
  sha256: string;
  registered: boolean;
}

export interface GenerateInput {
  plan: ScaffoldPlan;
  run: RunEnvelope;
  /** The notebook, relative to the workspace (forward slashes). */
  notebook: string;
  /** The project root (the --out folder), relative to the workspace (forward slashes). */
  outDir: string;
  /** The training table's profile (from the run). */
  profile: { source: string; sha256: string; rows: number; columns: ColumnProfile[] };
  /**
   * The served model: the run's fitted steps and model file composed into one object
   * (common/bundle.py); with no steps, the model file itself. `sha256` is the composed file's.
   */
  model: ModelRecord & {
    file: Buffer;
    fileName: string;
    /** The run's model file the composition contains. */
    runModel: { path: string; sha256: string };
    /** The run's fitted steps it contains, in order (their objects' sha256 in the store). */
    components: Array<{ name: string; type: string; sha256: string }>;
    classes: unknown[] | null;
    task: 'classification' | 'regression' | null;
  };
  /** A real row of the training data (every column), for the README's example request. */
  example: Record<string, unknown> | null;
  /** PSI thresholds for live drift. */
  drift: { monitor: number; retrain: number };
  /** Versions of the service's own dependencies in the interpreter (fastapi, uvicorn, ...). */
  serviceVersions: Record<string, string>;
  templatesDir: string;
  nb2prodVersion: string;
}

export const SCAFFOLD_MANIFEST = 'nb2prod-scaffold.json';

/** The service's own dependencies, with a floor for when the interpreter does not have them. */
const SERVICE_PACKAGES: Array<[string, string]> = [
  ['fastapi', '>=0.92'],
  ['uvicorn', '>=0.17'],
  ['pydantic', '>=1.10,<3'],
  ['httpx', '>=0.23'],
  ['pytest', '>=7'],
];

export async function generateProject(input: GenerateInput): Promise<GeneratedFile[]> {
  const { plan, run } = input;
  if (!plan.model || !plan.features || !plan.data || !plan.target) throw new Error('generateProject needs a plan without problems');
  const name = input.model.name;
  const target = input.profile.columns.find((c) => c.name === plan.target);
  if (!target) throw new Error(`the profile of ${input.profile.source} has no column ${plan.target}`);
  // Request fields: the columns the feature code reads (the target, ids and other columns it
  // drops are not asked for); an id-like column may come along, passed through to the answer.
  const requested = requestColumns(plan, input.profile.columns);
  const idColumn = idColumnOf(input.profile.columns, requested, plan.target!, input.profile.rows);
  const columns = [...contractColumns(input.profile.columns.filter((c) => requested.has(c.name)))];
  if (idColumn) columns.unshift(idContractColumn(idColumn, columns));
  const trainingColumns = contractColumns(input.profile.columns.filter((c) => c.name !== plan.target));
  const targetColumn = contractColumns([target])[0]!;
  const task = plan.task ?? input.model.task ?? guessTask(target);
  const notebookDir = path.posix.dirname(input.notebook);
  const workdir = path.posix.relative(input.outDir, notebookDir) || '.';
  const params = { ...Object.fromEntries(Object.entries(plan.parameters).map(([k, v]) => [k, { source: v }])) } as Record<string, { source: string; value?: unknown }>;
  for (const [key, value] of Object.entries(run.params)) {
    const declared = params[key];
    if (!declared) continue;
    // Keep the notebook's spelling (1.0, not 1) when the run used the notebook's value.
    params[key] = { source: pythonSourceToJson(declared.source) === value ? declared.source : pythonLiteral(value), value };
  }
  const origin = `run ${run.id}, ${input.profile.source}`;
  const files: GeneratedFile[] = [];
  const add = (file: string, content: string | Buffer, kind: GeneratedFile['origin'] = 'generated') => files.push({ path: file, content, origin: kind });
  const json = (value: unknown) => JSON.stringify(value, null, 2) + '\n';

  add('common/features.py', featuresModule(plan, params, input.notebook));
  add('pipeline/steps.py', stepsModule(plan, params, input.notebook, run.id));
  add('service/schemas.py', pydanticModule(columns, origin, task, targetColumn, idColumn ? columns[0]! : null));
  add('contracts/input.schema.json', json(inputSchema(name, columns)));
  add('contracts/training.schema.json', json(trainingSchema(name, trainingColumns, targetColumn)));
  add('contracts/output.schema.json', json(outputSchema(name, task, targetColumn, idColumn ? columns[0]! : null)));
  add('contracts/profile.json', json({ source: input.profile.source, sha256: input.profile.sha256, rows: input.profile.rows, target: plan.target, columns: input.profile.columns }));
  const modelPath = `model/${input.model.fileName}`;
  add(modelPath, input.model.file, 'model');
  const fallback = fallbackOf(task, target);
  add(
    'service/config.json',
    json({
      schema: 'nb2prod.service-config/1',
      name,
      notebook: path.posix.basename(input.notebook),
      run: run.id,
      model: {
        path: modelPath,
        sha256: input.model.sha256,
        name,
        version: input.model.version,
        registered: input.model.registered,
        format: plan.model.saver,
        // What the served file is made of: the run's fitted steps, in order, then its model file.
        components: input.model.components,
        run_model: input.model.runModel,
      },
      task,
      target: plan.target,
      frame_columns: input.profile.columns.map((c) => c.name),
      input_columns: columns.filter((c) => !c.optional).map((c) => c.name),
      id_column: idColumn?.name ?? null,
      // Read by the feature code: the service refuses to start without them.
      environment: plan.environment.features.required,
      confidence_threshold: task === 'classification' ? 0.6 : null,
      rules: [],
      fallback,
      kill_switch: { env: 'NB2PROD_KILL_SWITCH', file: 'var/KILL_SWITCH' },
      audit_log: 'var/audit/predictions.jsonl',
      review_queue: 'var/review/queue.jsonl',
      limits: { max_body_bytes: 1_048_576, max_batch: 1000 },
      drift: { window: 1000, min_rows: 100, monitor: input.drift.monitor, retrain: input.drift.retrain },
      run_metrics: Object.fromEntries(Object.entries(run.metrics).map(([k, m]) => [k, m.value])),
    }),
  );
  add(
    'service/nb2prod-service.json',
    // deployments: the roles service/deployment.json may fill that this service's code loads (registry deploy checks it).
    json({ schema: 'nb2prod.service/1', auditLog: true, auditLogPath: 'var/audit/predictions-YYYY-MM-DD.jsonl (or PostgreSQL with AUDIT_DSN)', killSwitch: true, fallback: fallback.description, deployments: ['champion', 'challenger'] }),
  );
  add(
    'pipeline/config.json',
    json({
      schema: 'nb2prod.pipeline-config/1',
      name,
      notebook: path.posix.relative(input.outDir, input.notebook),
      workdir,
      // Parameters whose value is an expression keep their default in steps.py.
      params: Object.fromEntries(Object.entries(params).flatMap(([k, v]) => { const value = v.value ?? pythonSourceToJson(v.source); return value === undefined ? [] : [[k, value]]; })),
      validation: [{ step: plan.data.step, frame: plan.data.frame, schema: 'contracts/training.schema.json' }],
      features: { step: plan.features.step, frame: plan.features.frame, matrix: plan.features.matrix },
      // The served composition in the pipeline's namespace: the fitted steps, in order, then the model.
      serving: { model: plan.model.variable, attribute: plan.model.attribute, chain: plan.chain.map((c) => c.name), frame: plan.features.frame, target: plan.target },
      evaluation: plan.evaluation,
      environment: plan.environment.pipeline,
      // Randomness the notebook's run drew without a seed: retraining then gives another model.
      unseeded: [...new Set(run.unseeded.map((u) => u.call))],
      model_output: plan.model.path,
      max_quarantine_share: 0.05,
    }),
  );
  add('requirements.txt', requirements(run, input.serviceVersions));
  add('.gitignore', '# Runtime state: audit log, review queue, kill switch, quarantine, reports.\nvar/\n__pycache__/\n.pytest_cache/\n');
  add('README.md', readme(input, columns, task, fallback.description, workdir, idColumn?.name ?? null));

  for (const file of await listFiles(input.templatesDir)) {
    // The bundled copy names dot files dot-* (see esbuild.mjs).
    const target = file.split('/').map((part) => (part.startsWith('dot-') ? `.${part.slice(4)}` : part)).join('/');
    add(target, await readFile(path.join(input.templatesDir, file)), 'template');
  }
  return files.sort((a, b) => a.path.localeCompare(b.path));
}

/** The raw columns the feature code reads, decided against the training table's columns. */
export function requestColumns(plan: ScaffoldPlan, profile: readonly ColumnProfile[]): Set<string> {
  const names = profile.map((c) => c.name);
  const spec = plan.features!.columns;
  const read = 'only' in spec ? names.filter((n) => spec.only.includes(n)) : names.filter((n) => !spec.allBut.includes(n));
  return new Set(read.filter((n) => n !== plan.target));
}

const ID_NAME = /(^id$|_id$|[a-z0-9]Id$|ID$|^id_|^uuid$|_uuid$|^key$)/;

/**
 * An identifier the service accepts and passes through (to the answer and the audit log) without
 * the model seeing it: a column the feature code does not read, named like an id, with a value
 * on every row, and unique as far as the profile tells (every text value seen once; integers
 * spanning at least as many values as there are rows).
 */
export function idColumnOf(profile: readonly ColumnProfile[], requested: ReadonlySet<string>, target: string, rows: number): ColumnProfile | null {
  return (
    profile.find((c) => {
      if (requested.has(c.name) || c.name === target || !ID_NAME.test(c.name) || c.nulls > 0) return false;
      if (c.type === 'numeric') return Number.isInteger(c.min) && Number.isInteger(c.max) && (c.max ?? 0) - (c.min ?? 0) + 1 >= rows;
      return (c.top?.[0]?.count ?? 2) === 1;
    }) ?? null
  );
}

function idContractColumn(column: ColumnProfile, taken: readonly ContractColumn[]): ContractColumn {
  const [contract] = contractColumns([column]);
  let field = contract!.field;
  while (taken.some((c) => c.field === field)) field = `${field}_`;
  return {
    ...contract!,
    field,
    optional: true,
    nullable: true,
    ...(column.type === 'numeric' ? { kind: 'integer' as const } : {}),
    minimum: null,
    maximum: null,
    categories: null,
    description: `optional identifier of the record, not read by the model: returned in the answer and written to the audit log`,
  };
}

function guessTask(target: ColumnProfile): 'classification' | 'regression' {
  if (target.type !== 'numeric') return 'classification';
  // A numeric target with few distinct values (0/1) is a class label.
  const edges = target.bins?.edges ?? [];
  return new Set(edges).size <= 2 && Number.isInteger(target.min) && Number.isInteger(target.max) ? 'classification' : 'regression';
}

/** The deterministic answer while the kill switch is on. */
function fallbackOf(task: 'classification' | 'regression', target: ColumnProfile): { prediction: unknown; probability: number | null; description: string } {
  if (task === 'regression') {
    const mean = target.mean ?? 0;
    return { prediction: mean, probability: null, description: `the mean of ${target.name} in the training data (${round(mean)})` };
  }
  const top = target.top?.[0];
  if (top) {
    const share = top.count / Math.max(1, target.count);
    const value = target.type === 'boolean' ? top.value === 'True' || top.value === 'true' : top.value;
    return { prediction: value, probability: round(share), description: `the majority class of the training data (${top.value}, ${(share * 100).toFixed(1)}% of rows)` };
  }
  // A 0/1 numeric label: its mean is the share of 1s.
  if (target.min === 0 && target.max === 1 && typeof target.mean === 'number') {
    const ones = target.mean;
    const prediction = ones >= 0.5 ? 1 : 0;
    const share = Math.max(ones, 1 - ones);
    return { prediction, probability: round(share), description: `the majority class of the training data (${prediction}, ${(share * 100).toFixed(1)}% of rows)` };
  }
  const lowest = target.min ?? 0;
  return { prediction: lowest, probability: null, description: `the lowest class of ${target.name} in the training data (${lowest}); set fallback in service/config.json to the class that is safe to answer` };
}

function round(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}

// ---- Python modules ------------------------------------------------------------------------

function indent(body: string): string {
  return body
    .split('\n')
    .map((line) => (line.trim() ? `    ${line}` : ''))
    .join('\n');
}

/** Import statements whose names the code reads, as lines (a multi-line `try:` set apart by blank lines). */
function importsFor(plan: ScaffoldPlan, code: string): string[] {
  const reads = new Set(cachedAnalyze(code).uses.map((u) => u.name));
  const statements = plan.imports.filter((statement) => cachedAnalyze(statement).imports.some((i) => reads.has(i.bound)));
  const lines: string[] = [];
  for (const statement of statements) {
    const block = statement.includes('\n');
    if (block && lines.length && lines.at(-1) !== '') lines.push('');
    lines.push(statement.trimEnd());
    if (block) lines.push('');
  }
  while (lines.at(-1) === '') lines.pop();
  return lines;
}

function keywordParams(names: readonly string[], params: Record<string, { source: string }>): string {
  return names.map((n) => `${n}=${params[n]?.source ?? 'None'}`).join(', ');
}

function featuresModule(plan: ScaffoldPlan, params: Record<string, { source: string }>, notebook: string): string {
  const features = plan.features!;
  const cells = features.cells.map(cellNumber).join(', ');
  const signature = [features.frame, ...(features.params.length ? ['*', keywordParams(features.params, params)] : [])].join(', ');
  const imports = importsFor(plan, features.body);
  return [
    '"""Feature code shared by the training pipeline and the prediction service.',
    '',
    `Generated by nb2prod from ${path.posix.basename(notebook)} (cell${features.cells.length > 1 ? 's' : ''} ${cells}). Both sides call build_features, so`,
    'training and serving compute features the same way: edit it here, not in a copy.',
    '',
    `The argument is a DataFrame with the training table's columns, as read. When serving, the`,
    `columns a request does not carry (the target, ${plan.target}, and the others the code drops) are`,
    'there too, filled with None, so code that drops them works unchanged. Rows are never dropped',
    'here: filters and splits are training only, in pipeline/steps.py.',
    '"""',
    ...imports,
    '',
    '',
    `def build_features(${signature}):`,
    indent(features.body),
    '',
  ].join('\n');
}

function stepsModule(plan: ScaffoldPlan, params: Record<string, { source: string }>, notebook: string, runId: string): string {
  const allCode = plan.steps.map((s) => s.body).join('\n');
  const lines = [
    `"""The ${path.posix.basename(notebook)} notebook as pipeline steps, generated by nb2prod (run ${runId}).`,
    '',
    'Each step is a section of the notebook (a `## ` heading or a `step:` cell tag). Its positional',
    'parameters are the names it reads from earlier sections, its return values the names later',
    "sections read from it. The notebook's parameters are keyword-only arguments with the run's",
    'values as defaults; override them with `python -m pipeline --param name=value`.',
    '"""',
    ...importsFor(plan, allCode),
    '',
    'from common.features import build_features',
    ...(/\b(serving_bundle|model_output)\(/.test(allCode) ? [`from common.bundle import ${['model_output', 'serving_bundle'].filter((n) => allCode.includes(`${n}(`)).join(', ')}`] : []),
    'from pipeline.framework import step',
  ];
  for (const s of plan.steps) lines.push('', '', stepFunction(s, params));
  lines.push('', '', `STEPS = [${plan.steps.map((s) => s.name).join(', ')}]`, '');
  // Only import build_features when a step calls it.
  if (!allCode.includes('build_features(')) return lines.filter((l) => l !== 'from common.features import build_features').join('\n');
  return lines.join('\n');
}

function stepFunction(s: StepPlan, params: Record<string, { source: string }>): string {
  const signature = [...s.inputs, ...(s.params.length ? ['*', keywordParams(s.params, params)] : [])].join(', ');
  const decorator = `@step(outputs=[${s.outputs.map(pythonString).join(', ')}]${s.retries ? `, retries=${s.retries}` : ''})`;
  const cells = s.cells.map(cellNumber).join(', ');
  const body = [`"""${s.title.replace(/"""/g, "'''")} (notebook cell${s.cells.length > 1 ? 's' : ''} ${cells})."""`, s.body];
  if (s.outputs.length) body.push(`return ${s.outputs.join(', ')}`);
  return [decorator, `def ${s.name}(${signature}):`, indent(body.join('\n'))].join('\n');
}

// ---- packaging and docs -----------------------------------------------------------------------

function requirements(run: RunEnvelope, serviceVersions: Record<string, string>): string {
  const lines = [`# Generated by nb2prod. The notebook's libraries, pinned to the versions of run ${run.id}:`];
  const packages = Object.entries(run.environment.packages).sort(([a], [b]) => a.localeCompare(b));
  const notebookNames = new Set(packages.map(([n]) => n.toLowerCase()));
  for (const [name, version] of packages) lines.push(`${name}==${version}`);
  lines.push('', '# The service and its tests, pinned to the interpreter that generated the project:');
  for (const [name, floor] of SERVICE_PACKAGES) {
    if (notebookNames.has(name)) continue;
    const version = serviceVersions[name];
    lines.push(version ? `${name}==${version}` : `${name}${floor}`);
  }
  return lines.join('\n') + '\n';
}

/**
 * A value for a field of the README's example when no real row could be read: the commonest
 * category, the middle of the training range (an integer for integer columns).
 */
function exampleValue(column: ContractColumn, profile: ColumnProfile | undefined): unknown {
  if (column.categories) return profile?.top?.[0]?.value ?? column.categories[0];
  if (column.kind === 'number' || column.kind === 'integer') {
    const edges = profile?.bins?.edges ?? [];
    const middle = edges.length ? edges[Math.floor(edges.length / 2)]! : (profile?.mean ?? column.minimum ?? 0);
    // An integer field takes integers only (the request model is strict).
    return column.kind === 'integer' ? Math.round(middle) : Math.round(middle * 100) / 100;
  }
  if (column.kind === 'boolean') return profile?.top?.[0]?.value === 'True';
  if (column.kind === 'datetime') return '2024-01-01T00:00:00Z';
  return profile?.top?.[0]?.value ?? 'text';
}

/** The README's example request: a real row of the training data (the request fields), else values from the profile. */
export function exampleRequest(columns: readonly ContractColumn[], row: Record<string, unknown> | null, profile: readonly ColumnProfile[]): Record<string, unknown> {
  return Object.fromEntries(
    columns
      .filter((c) => !c.optional || (row && row[c.name] !== undefined && row[c.name] !== null))
      .map((c) => [c.name, row && c.name in row && (row[c.name] !== null || c.nullable) ? row[c.name] : exampleValue(c, profile.find((p) => p.name === c.name))]),
  );
}

function readme(input: GenerateInput, columns: ContractColumn[], task: string, fallback: string, workdir: string, idColumn: string | null): string {
  const { plan, run } = input;
  const name = input.model.name;
  const example = exampleRequest(columns, input.example, input.profile.columns);
  const composition = input.model.components.length
    ? `It is the notebook's fitted ${input.model.components.map((c) => `\`${c.name}\``).join(', ')} followed by its model, as one scikit-learn Pipeline composed from the run's own fitted objects (\`service/config.json\` lists their sha256 under \`model.components\`), so the service serves exactly what the notebook trained and never fits anything.`
    : `It is the notebook's model file, byte for byte.`;
  const version = input.model.registered ? `version ${input.model.version} of \`${name}\` in the nb2prod registry` : 'not registered in the nb2prod registry (the hash is the run’s)';
  const steps = plan.steps.map((s) => `| \`${s.name}\` | ${s.title} | ${s.inputs.map((i) => `\`${i}\``).join(', ') || '—'} | ${s.outputs.map((o) => `\`${o}\``).join(', ') || '—'} |`);
  const notes = plan.notes.map((n) => `- ${n.message}`);
  return `# ${name}: prediction service and training pipeline

Generated by nb2prod ${input.nb2prodVersion} from \`${input.notebook}\` and its tracked run \`${run.id}\`
(${task}, target \`${plan.target}\`, trained on \`${input.profile.source}\`, ${input.profile.rows} rows).
The model file \`model/${input.model.fileName}\` has sha256 \`${input.model.sha256}\`: ${version}.
${composition}

## Run it

\`\`\`sh
python3 -m pip install -r requirements.txt   # or use the interpreter the notebook ran with
make test                                      # the project's own tests
make serve                                     # uvicorn service.app:app on http://127.0.0.1:8000
curl -s http://127.0.0.1:8000/predict -H 'content-type: application/json' \\
  -d '${JSON.stringify(example)}'
\`\`\`

| endpoint | what it does |
|---|---|
| \`POST /predict\` | one record → prediction, probability, \`needs_review\`, \`fallback\`, \`rule\`, model version, request ids |
| \`POST /predict/batch\` | \`{"records": [...]}\` (at most 1000) → one prediction per record |
| \`POST /feedback\` | \`{"request_id": ..., "label": ...}\` (or \`"outcome"\`, \`"source"\` explicit or implicit, \`"known_at"\`): what became known later; \`/feedback/batch\` takes \`{"items": [...]}\` |
| \`GET /health\` | the process is up |
| \`GET /ready\` | the model is loaded and its sha256 checked; the audit sink's state |
| \`GET /metrics\` | Prometheus text: requests, latency histogram, errors, fallbacks, reviews, input drift (PSI) |
| \`GET /version\` | model name, version and hash, run, notebook |
| \`GET /docs\` | the API, with the request and response schemas of \`contracts/\` (\`/openapi.json\`) |

A request holds the columns the notebook's feature code reads (${columns.filter((c) => !c.optional).length}: ${columns.filter((c) => !c.optional).map((c) => `\`${c.name}\``).join(', ')}); the target and the columns the notebook drops are not asked for.${idColumn ? ` \`${idColumn}\` may come along: the model does not see it, the answer and the audit log carry it back.` : ''}
The example above is a real row of the training data. Invalid input gets a 422 that names the field
(\`contracts/input.schema.json\` is the contract, \`service/schemas.py\` the same contract as pydantic
models). Types are JSON's, strictly: a number field refuses \`"36"\` and \`true\`, an integer field
\`1.5\` and \`"2"\`, a text field \`5\`, a boolean field anything but \`true\`/\`false\`; null only where
training had nulls. Bodies over 1 MiB get a 413.${plan.environment.features.required.length ? `\n\nThe feature code reads ${plan.environment.features.required.map((v) => `\`${v}\``).join(', ')} from the environment: the service refuses to start without ${plan.environment.features.required.length > 1 ? 'them' : 'it'}.` : ''}

Every request gets its own id (\`request_id\` in the answer, the \`X-Request-ID\` header), even when
a client resends its \`X-Request-ID\`: the client's id is kept beside it (\`client_request_id\`,
\`X-Client-Request-ID\`, the audit log) when it is up to 128 characters of letters, digits and
\`. _ : / + = -\`, and dropped otherwise.

## Operate it

- **Kill switch**: set \`NB2PROD_KILL_SWITCH=1\` or create \`var/KILL_SWITCH\` (\`NB2PROD_KILL_SWITCH_FILE\` names
  another file). Every request then gets the deterministic fallback, with \`"fallback": true\`, without a
  restart: ${fallback}. Remove it to switch the model back on.
- **Audit log**: every prediction is a line of \`var/audit/predictions-YYYY-MM-DD.jsonl\` (one file per UTC
  day: time, request id and the client's, the input and its hash, the output and every class's probability,
  model version, latency, fallback, kill switch); failed predictions too. Files are only ever appended to,
  written in batches by a thread of their own (never on the request path); SIGTERM writes what is queued,
  and after a \`kill -9\` the next start says how many entries were lost. \`audit\` in service/config.json:
  \`retention_days\` (0 keeps every file), \`batch_size\`, \`flush_interval_ms\`, \`buffer_max\` (entries held
  while the sink fails; beyond, new ones are dropped and counted), \`inputs\` (false keeps inputs out).
- **PostgreSQL**: \`AUDIT_DSN=postgresql://user:password@host/db\` writes the audit log and the feedback to
  the tables \`nb2prod_audit\` and \`nb2prod_audit_feedback\` instead (created at start, append-only; several
  replicas share them). It needs a driver the requirements leave out: \`pip install "psycopg[binary]"\`
  (or Debian's python3-psycopg2). An unreachable database does not stop the answers: entries wait in
  memory and \`/ready\` and \`/metrics\` (\`nb2prod_audit_sink_up\`) say so.
- **Feedback**: labels that arrive later (\`POST /feedback\`, or \`nb2prod monitor labels . FILE\` for a CSV or
  JSON Lines file) go to \`var/feedback/labels-YYYY-MM-DD.jsonl\`; \`nb2prod monitor .\` joins them to the
  predictions by request id and reports accuracy as labels arrive, drift, latency and alerts.
- **Human review**: predictions whose probability is under \`confidence_threshold\` (service/config.json)
  or sent there by a rule are flagged \`needs_review\` and appended, with their input, to \`var/review/queue.jsonl\`.
- **Rules**: \`rules\` in service/config.json override the model, first match wins, e.g.
  \`{"name": "...", "when": [{"field": "...", "op": "<", "value": 1}], "then": {"needs_review": true}, "reason": "..."}\`
  (ops: \`== != < <= > >= in not_in is_null not_null\`; the service checks them at start).
- **Drift**: the last 1000 inputs are compared with the training profile (\`contracts/profile.json\`);
  \`nb2prod_input_drift_psi\` per column, monitor above ${input.drift.monitor}, retrain above ${input.drift.retrain}.
  Metrics and the drift window are per process: scrape every worker.
- **Model integrity**: at start the service refuses a model file whose sha256 is not the one above
  (\`NB2PROD_MODEL_PATH\` serves another copy of the file; it is checked the same way).
- **Deploy another version, roll back**: \`make rollback REASON="why"\` moves the registry's \`champion\` of
  \`${name}\` back to the version before it and deploys that version here (\`nb2prod registry rollback champion
  --deploy .\`); \`make deploy\` deploys the version the registry's champion is now (\`nb2prod registry promote
  ${name} N --to champion --deploy .\` promotes and deploys in one command). Each copies the version's file from
  the registry, re-hashed, into \`model/champion/\` and names it in \`service/deployment.json\`; the service
  serves it **from its next start**, sha256 checked, so **restart the service**: stop \`make serve\` and run it
  again (with Docker: \`make docker-build docker-run\`, the image holds the files). \`GET /ready\` then names
  the version, and every answer and audit line carries it. \`NB2PROD_DEPLOYMENT=off\` serves the model above
  instead; \`nb2prod registry deploy . --alias champion --clear\` goes back to it for good. A version trained on
  another shape of data (other columns) is refused: it needs its own service.
- State goes to \`var/\` (\`NB2PROD_STATE_DIR\` moves it; mount a volume there in production).
- **Settings**: \`service/config.json\` and the environment variables above, read once at start into the
  typed models of \`service/settings.py\`; the service refuses to start on a rule or fallback it could not
  apply. The code: \`service/app.py\` (the app and its lifespan), \`service/routes.py\` (the endpoints),
  \`service/compat.py\` (what differs between pydantic 1 and 2, FastAPI 0.92 and later).

## Retrain it

${plan.environment.pipeline.required.length || plan.environment.pipeline.optional.length ? `The pipeline reads ${[...plan.environment.pipeline.required.map((v) => `\`${v}\``), ...plan.environment.pipeline.optional.map((v) => `\`${v}\` (optional)`)].join(', ')} from the environment, as the notebook does${plan.environment.pipeline.required.length ? '; it stops at start, naming what is missing' : ''}.\n\n` : ''}\`make train\` runs the pipeline (\`python -m pipeline\`) tracked by nb2prod; \`make register\` registers
the new model and checks the promotion gate of the workspace's nb2prod.toml. The pipeline runs in
\`${workdir}\` (the notebook's folder, or \`NB2PROD_WORKDIR\`), where the notebook's relative paths point,
so the training data must be there. Rows of the training data that break
\`contracts/training.schema.json\` are quarantined to \`var/quarantine/\` with the reason; more than 5%
bad rows stops the run. Its held-out metrics are logged on the run as \`holdout_<metric>\` and
compared with the notebook's run in \`var/reports/metrics.json\`.

| step | notebook section | takes | returns |
|---|---|---|---|
${steps.join('\n')}

Feature code lives in \`common/features.py\` and is used by both the pipeline and the service, so
training and serving compute the same features. Row filters (dropna, filters, the split) run in
training only: the service answers every record. The pipeline saves the fitted steps and the
model together (\`common/bundle.py\`) where the notebook saved its model. \`tests/golden/sample.json\`
holds what the served model predicts for held-out rows of the training data, checked against
the notebook's own code path; \`tests/test_golden.py\` holds the service to it. Regenerate it
with \`make golden\` after retraining.

## Deploy it

\`make docker-build\` builds an image that runs as a non-root user with a health check;
\`.github/workflows/ci.yml\` runs the tests and builds the image on every push.
${notes.length ? `\n## What the generator left out or changed\n\n${notes.join('\n')}\n` : ''}`;
}

// ---- helpers --------------------------------------------------------------------------------------

/** Files under `dir`, relative, forward slashes (`__pycache__` skipped). */
async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(path.join(dir, prefix), { withFileTypes: true })) {
    if (entry.name === '__pycache__' || entry.name === '.pytest_cache' || entry.name === 'var' || entry.name.endsWith('.pyc')) continue;
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...(await listFiles(dir, rel)));
    else if (entry.isFile()) out.push(rel);
  }
  return out;
}

/** A JSON value as a Python literal. */
export function pythonLiteral(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'number') return Number.isFinite(value) ? (Number.isInteger(value) ? String(value) : pythonNumber(value)) : `float(${pythonString(String(value))})`;
  if (typeof value === 'string') return pythonString(value);
  if (Array.isArray(value)) return `[${value.map(pythonLiteral).join(', ')}]`;
  return `{${Object.entries(value as Record<string, unknown>)
    .map(([k, v]) => `${pythonString(k)}: ${pythonLiteral(v)}`)
    .join(', ')}}`;
}

/** The JSON value of a simple Python literal from the parameters cell (numbers, strings, booleans, None). */
function pythonSourceToJson(source: string): unknown {
  const text = source.trim();
  if (text === 'True') return true;
  if (text === 'False') return false;
  if (text === 'None') return null;
  if (/^-?\d+(\.\d*)?([eE][-+]?\d+)?$/.test(text)) return Number(text);
  const quoted = /^(['"])(.*)\1$/s.exec(text);
  if (quoted && !quoted[2]!.includes('\\')) return quoted[2];
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
