/**
 * The data contract of a generated service, from the training data profile the tracker captured
 * (types, observed ranges, categories, nullability): JSON Schema 2020-12 for one input record,
 * for a training row (the input plus the target) and for a prediction response, and the
 * pydantic models of a record and of a prediction (service/schemas.py). One description,
 * several renderings, so they cannot disagree; the generated project's tests/test_openapi.py
 * checks that the service's /openapi.json says what contracts/*.schema.json say.
 */
import type { ColumnProfile } from '../envelope';
import { identifier } from './plan';

export interface ContractColumn {
  name: string;
  /** The Python attribute name in the pydantic model (the column name when it is an identifier). */
  field: string;
  /** `integer`: the training column had an integer dtype (JSON Schema's integer: 2 or 2.0, not 2.5). */
  kind: 'number' | 'integer' | 'string' | 'boolean' | 'datetime';
  nullable: boolean;
  minimum: number | null;
  maximum: number | null;
  /** Every value training saw, when the profile lists them all. */
  categories: string[] | null;
  description: string;
  /** Not required in a request (an id passed through); absent means required. */
  optional?: boolean;
}

/** Column contracts from profiles, in the profile's order; the target is left out of the input. */
export function contractColumns(columns: readonly ColumnProfile[]): ContractColumn[] {
  const used = new Set<string>();
  return columns.map((column) => {
    let field = usableField(column.name) ? column.name : identifier(column.name);
    if (!usableField(field)) field = field.startsWith('model_') ? `col_${field}` : `${field}_`;
    while (used.has(field)) field = `${field}_`;
    used.add(field);
    const nullable = column.nulls > 0;
    const base = { name: column.name, field, nullable, minimum: null, maximum: null, categories: null };
    switch (column.type) {
      case 'numeric': {
        const min = finite(column.min);
        const max = finite(column.max);
        const kind = column.integer ? 'integer' : 'number';
        const what = column.integer ? 'integer' : 'numeric';
        return { ...base, kind, minimum: min, maximum: max, description: min !== null && max !== null ? `${what}; training range ${min} to ${max} (a value outside is answered, with a warning)` : what };
      }
      case 'boolean':
        return { ...base, kind: 'boolean', description: 'boolean' };
      case 'datetime':
        return { ...base, kind: 'datetime', description: 'date and time (ISO 8601)' };
      default: {
        // An enum only when the profile's top values are all the values there were.
        const top = column.top ?? [];
        const seen = top.reduce((n, t) => n + t.count, 0);
        const complete = top.length > 0 && seen === column.count;
        return {
          ...base,
          kind: 'string',
          categories: complete ? top.map((t) => t.value) : null,
          description: complete ? `one of the ${top.length} values training saw` : column.type === 'text' ? 'text' : `categorical (more than ${top.length} values in training)`,
        };
      }
    }
  });
}

/** Names a pydantic model cannot use as fields (pydantic 2 also reserves the model_ prefix). */
const PYDANTIC_RESERVED = new Set(['dict', 'json', 'copy', 'parse_obj', 'schema', 'fields', 'construct', 'validate', 'model_config', 'model_fields', 'Config', 'self']);
const PYTHON_KEYWORDS = new Set(['False', 'None', 'True', 'and', 'as', 'assert', 'async', 'await', 'break', 'class', 'continue', 'def', 'del', 'elif', 'else', 'except', 'finally', 'for', 'from', 'global', 'if', 'import', 'in', 'is', 'lambda', 'nonlocal', 'not', 'or', 'pass', 'raise', 'return', 'try', 'while', 'with', 'yield']);

/** A column name usable as a pydantic field as it is: an identifier that is no keyword, no reserved
 * name, and does not start with _ (pydantic takes those for private attributes). */
function usableField(name: string): boolean {
  return /^[A-Za-z][A-Za-z0-9_]*$/.test(name) && !PYDANTIC_RESERVED.has(name) && !PYTHON_KEYWORDS.has(name) && !name.startsWith('model_');
}

function finite(value: number | undefined): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/**
 * One column as JSON Schema. `ranges`: the training range as minimum/maximum (a training row);
 * a request field leaves them out, because a real record outside the range training saw (a
 * younger passenger, a larger house) is still one the model answers: the service answers it with
 * a warning naming the field (service/predictor.py) and its drift monitor sees it.
 */
function propertySchema(column: ContractColumn, ranges = true): Record<string, unknown> {
  const type = column.kind === 'datetime' ? 'string' : column.kind;
  const schema: Record<string, unknown> = { type: column.nullable ? [type, 'null'] : type };
  if (ranges && column.minimum !== null) schema.minimum = column.minimum;
  if (ranges && column.maximum !== null) schema.maximum = column.maximum;
  if (column.categories) schema.enum = column.nullable ? [...column.categories, null] : column.categories;
  if (column.kind === 'datetime') schema.format = 'date-time';
  schema.description = column.description;
  return schema;
}

const SCHEMA_DIALECT = 'https://json-schema.org/draft/2020-12/schema';

export function inputSchema(name: string, columns: readonly ContractColumn[]): object {
  return {
    $schema: SCHEMA_DIALECT,
    $id: `nb2prod:${name}/input`,
    title: `${name} input record`,
    description: 'One record sent to /predict. Generated by nb2prod from the training data profile.',
    type: 'object',
    additionalProperties: false,
    required: columns.filter((c) => !c.optional).map((c) => c.name),
    properties: Object.fromEntries(columns.map((c) => [c.name, propertySchema(c, false)])),
  };
}

export function trainingSchema(name: string, columns: readonly ContractColumn[], target: ContractColumn): object {
  return {
    $schema: SCHEMA_DIALECT,
    $id: `nb2prod:${name}/training`,
    title: `${name} training row`,
    description: 'One row of the training data: the input record and the target. Rows that break it are quarantined by the pipeline.',
    type: 'object',
    additionalProperties: true,
    required: [...columns.map((c) => c.name), target.name],
    properties: Object.fromEntries([...columns, target].map((c) => [c.name, propertySchema(c)])),
  };
}

/** The fields of one prediction (a /predict answer, an item of /predict/batch's), as JSON Schema. */
function predictionProperties(task: 'classification' | 'regression', target: ContractColumn): Record<string, Record<string, unknown>> {
  return {
    prediction: { ...predictionType(task, target), description: task === 'regression' ? `predicted ${target.name}` : `predicted class of ${target.name}` },
    probability: { type: ['number', 'null'], minimum: 0, maximum: 1, description: "the model's probability of the predicted class; null for regressors and models without probabilities" },
    needs_review: { type: 'boolean', description: 'below the confidence threshold or sent to review by a rule: queued for a person' },
    fallback: { type: 'boolean', description: 'the kill switch was on: the deterministic fallback answered, not the model' },
    rule: { type: ['string', 'null'], description: 'the rule override that set the prediction, if any' },
    warnings: { type: 'array', items: { type: 'string' }, description: 'what the service noticed about this record or did to its prediction' },
  };
}

function predictionType(task: 'classification' | 'regression', target: ContractColumn): { type: string | string[] } {
  if (task === 'regression') return { type: 'number' };
  if (target.kind === 'integer') return { type: 'integer' };
  if (target.kind === 'number') return { type: ['number', 'integer'] };
  return { type: target.kind === 'boolean' ? 'boolean' : 'string' };
}

/** The response of /predict: a prediction with what the service did to it, the model and the request's ids. */
export function outputSchema(name: string, task: 'classification' | 'regression', target: ContractColumn, id: ContractColumn | null = null): object {
  const properties = {
    ...predictionProperties(task, target),
    model: {
      type: 'object',
      required: ['name', 'version', 'sha256'],
      properties: { name: { type: 'string' }, version: { type: ['integer', 'string', 'null'] }, sha256: { type: 'string' } },
      description: 'the model that answered: its name, registry version (null when not registered) and sha256',
    },
    request_id: { type: 'string', description: "the service's id of this request, new for every request" },
    client_request_id: { type: ['string', 'null'], description: "the client's X-Request-ID, when it sent one the service could keep (else null)" },
    ...(id ? { [id.name]: idProperty(id) } : {}),
  };
  return {
    $schema: SCHEMA_DIALECT,
    $id: `nb2prod:${name}/output`,
    title: `${name} prediction`,
    type: 'object',
    // the id is passed through when the request carried it: there, but not required
    required: Object.keys(properties).filter((key) => key !== id?.name),
    properties,
  };
}

/** The output's copy of the request's identifier: its type, or null when the request had none. */
function idProperty(id: ContractColumn): Record<string, unknown> {
  return { ...propertySchema({ ...id, nullable: true }, false), description: 'the identifier the request carried, passed through (null when it had none)' };
}

/** service/schemas.py: the pydantic models of one record and of one prediction (pydantic 1.10 and 2.x). */
export function pydanticModule(
  columns: readonly ContractColumn[],
  origin: string,
  task: 'classification' | 'regression',
  target: ContractColumn,
  id: ContractColumn | null = null,
): string {
  const lines: string[] = [];
  lines.push(`"""The request and prediction models, generated by nb2prod from the training data profile`);
  lines.push(`(${origin}).`);
  lines.push('');
  lines.push('The same contract as contracts/input.schema.json and output.schema.json. Ranges and');
  lines.push('categories are what training saw: widen them here and in contracts/*.schema.json together');
  lines.push('if production data legitimately goes beyond. StrictModel (service/compat.py) takes JSON\'s');
  lines.push('types only: "36" is no number, 1 no boolean, 1.5 no integer."""');
  const prediction = predictionPython(task, target);
  const typing = [
    columns.some((c) => c.categories) ? 'Literal' : '',
    'Optional',
    prediction.startsWith('Union[') ? 'Union' : '',
  ].filter(Boolean);
  lines.push(`from typing import ${typing.join(', ')}`, '');
  const pydanticNames = ['Field', ...(prediction.includes('StrictInt') ? ['StrictInt'] : [])];
  lines.push(`from pydantic import ${pydanticNames.join(', ')}`, '');
  const compat = ['ApiModel', 'StrictModel', ...(columns.some((c) => c.kind === 'datetime') ? ['field_schema'] : [])];
  lines.push(`from service.compat import ${compat.join(', ')}`, '', '');
  lines.push('class Record(StrictModel):');
  lines.push('    """One input record: the columns of the training data the model reads, by name."""', '');
  for (const column of columns) {
    let type: string;
    if (column.categories) type = `Literal[${column.categories.map(pythonString).join(', ')}]`;
    else if (column.kind === 'number') type = 'float';
    else if (column.kind === 'integer') type = 'int';
    else if (column.kind === 'boolean') type = 'bool';
    // Kept as text: training read the column as the file's strings, so serving must too.
    else type = 'str';
    if (column.nullable) type = `Optional[${type}]`;
    const args = [column.optional ? 'None' : '...'];
    if (column.kind === 'number') args.push('allow_inf_nan=False');
    if (column.field !== column.name) args.push(`alias=${pythonString(column.name)}`);
    args.push(`description=${pythonString(column.description)}`);
    if (column.kind === 'datetime') args.push('**field_schema(format="date-time")');
    lines.push(`    ${column.field}: ${type} = Field(${args.join(', ')})`);
  }
  lines.push('', '');
  lines.push('class Prediction(ApiModel):');
  lines.push(`    """One prediction (${task}, target ${target.name}): what the model answered and what the service did to it."""`, '');
  const properties = predictionProperties(task, target);
  const pythonTypes: Record<string, string> = {
    prediction,
    probability: 'Optional[float]',
    needs_review: 'bool',
    fallback: 'bool',
    rule: 'Optional[str]',
    warnings: 'list[str]',
  };
  for (const [name, schema] of Object.entries(properties)) {
    const args = ['...'];
    if (typeof schema.minimum === 'number') args.push(`ge=${schema.minimum}`);
    if (typeof schema.maximum === 'number') args.push(`le=${schema.maximum}`);
    args.push(`description=${pythonString(String(schema.description))}`);
    lines.push(`    ${name}: ${pythonTypes[name]} = Field(${args.join(', ')})`);
  }
  if (id) {
    const args = ['None', ...(id.field !== id.name ? [`alias=${pythonString(id.name)}`] : []), `description=${pythonString(String(idProperty(id).description))}`];
    lines.push(`    ${id.field}: Optional[${id.kind === 'integer' ? 'int' : 'str'}] = Field(${args.join(', ')})`);
  }
  lines.push('', '');
  const aliases = columns.filter((c) => c.field !== c.name);
  lines.push('# Python field name -> column name, for columns whose name is not a Python identifier.');
  lines.push(`FIELD_ALIASES = {${aliases.map((c) => `${pythonString(c.field)}: ${pythonString(c.name)}`).join(', ')}}`);
  return lines.join('\n') + '\n';
}

/** The Python type of a prediction; a numeric class label stays an int when it is one. */
function predictionPython(task: 'classification' | 'regression', target: ContractColumn): string {
  if (task === 'regression') return 'float';
  switch (target.kind) {
    case 'integer':
      return 'int';
    case 'number':
      return 'Union[StrictInt, float]';
    case 'boolean':
      return 'bool';
    default:
      return 'str';
  }
}

/** A Python string literal (JSON's escapes are valid Python). */
export function pythonString(value: string): string {
  return JSON.stringify(value);
}

export function pythonNumber(value: number): string {
  if (Number.isInteger(value)) return `${value}.0`.replace(/e\+?(\d+)\.0$/, 'e$1');
  return String(value);
}
