import { describe, expect, it } from 'vitest';
import type { ColumnProfile } from '../../../src/core/envelope';
import { contractColumns, inputSchema, outputSchema, pydanticModule, trainingSchema } from '../../../src/core/scaffold/contract';
import { pythonLiteral } from '../../../src/core/scaffold/generate';

const PROFILE: ColumnProfile[] = [
  { name: 'age', type: 'numeric', count: 10, nulls: 0, min: 18, max: 90.5, mean: 40, std: 10, bins: { edges: [18, 50, 90.5], counts: [5, 5] } },
  { name: 'income', type: 'numeric', count: 8, nulls: 2, min: 0, max: 250000 },
  { name: 'plan', type: 'categorical', count: 10, nulls: 0, top: [{ value: 'basic', count: 6 }, { value: 'pro', count: 4 }] },
  { name: 'city', type: 'categorical', count: 30, nulls: 0, top: [{ value: 'Paris', count: 20 }] },
  { name: 'monthly fee', type: 'numeric', count: 10, nulls: 0, min: 1, max: 2 },
  { name: 'member', type: 'boolean', count: 10, nulls: 0, top: [{ value: 'True', count: 7 }, { value: 'False', count: 3 }] },
  { name: 'signup', type: 'datetime', count: 10, nulls: 0 },
  { name: 'seats', type: 'numeric', count: 10, nulls: 0, min: 1, max: 40, integer: true },
  { name: 'visits', type: 'numeric', count: 9, nulls: 1, min: 0, max: 12, integer: true },
  { name: 'class', type: 'categorical', count: 10, nulls: 0, top: [{ value: 'a', count: 10 }] },
  { name: '_id', type: 'text', count: 10, nulls: 0, top: [{ value: 'x1', count: 1 }] },
  { name: 'model_type', type: 'categorical', count: 7, nulls: 3, top: [{ value: 'k', count: 7 }] },
];

describe('contract from a profile', () => {
  const columns = contractColumns(PROFILE);

  it('types, observed ranges, categories only when complete, nullability', () => {
    expect(columns.map((c) => [c.name, c.kind, c.nullable, c.minimum, c.maximum, c.categories])).toEqual([
      ['age', 'number', false, 18, 90.5, null],
      ['income', 'number', true, 0, 250000, null],
      ['plan', 'string', false, null, null, ['basic', 'pro']],
      // 30 values seen, only 20 of them listed: no enum.
      ['city', 'string', false, null, null, null],
      ['monthly fee', 'number', false, 1, 2, null],
      ['member', 'boolean', false, null, null, null],
      ['signup', 'datetime', false, null, null, null],
      // integer dtypes in training: JSON Schema integers
      ['seats', 'integer', false, 1, 40, null],
      ['visits', 'integer', true, 0, 12, null],
      ['class', 'string', false, null, null, ['a']],
      ['_id', 'string', false, null, null, null],
      ['model_type', 'string', true, null, null, ['k']],
    ]);
    expect(columns.find((c) => c.name === 'monthly fee')!.field).toBe('monthly_fee');
    // keywords, private (_x) and pydantic 2's model_ names get another field name and an alias
    expect(columns.slice(-3).map((c) => c.field)).toEqual(['class_', 'id', 'col_model_type']);
  });

  it('JSON Schema 2020-12 for an input record, a training row and a response', () => {
    const input = inputSchema('m', columns) as { $schema: string; required: string[]; additionalProperties: boolean; properties: Record<string, object> };
    expect(input.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(input.additionalProperties).toBe(false);
    expect(input.required).toEqual(PROFILE.map((p) => p.name));
    // a request field has no range: a record outside what training saw is answered, with a warning
    expect(input.properties.income).toEqual({ type: ['number', 'null'], description: 'numeric; training range 0 to 250000 (a value outside is answered, with a warning)' });
    expect(input.properties.plan).toMatchObject({ type: 'string', enum: ['basic', 'pro'] });
    expect(input.properties.signup).toMatchObject({ type: 'string', format: 'date-time' });
    expect(input.properties.seats).toMatchObject({ type: 'integer' });
    expect(input.properties.seats).not.toHaveProperty('minimum');
    expect(input.properties.visits).toMatchObject({ type: ['integer', 'null'] });
    const target = contractColumns([{ name: 'churned', type: 'numeric', count: 10, nulls: 0, min: 0, max: 1 }])[0]!;
    const training = trainingSchema('m', columns, target) as { required: string[]; additionalProperties: boolean; properties: Record<string, object> };
    // a training row keeps the range (the pipeline's validation reports rows beyond it)
    expect(training.properties.seats).toMatchObject({ type: 'integer', minimum: 1, maximum: 40 });
    expect(training.required.at(-1)).toBe('churned');
    expect(training.additionalProperties).toBe(true);
    const output = outputSchema('m', 'classification', target) as { required: string[]; properties: Record<string, { type: unknown }> };
    // every field of an answer is always there
    expect(output.required).toEqual(['prediction', 'probability', 'needs_review', 'fallback', 'rule', 'warnings', 'model', 'request_id', 'client_request_id']);
    expect(output.properties.probability!.type).toEqual(['number', 'null']);
    expect(output.properties.prediction!.type).toEqual(['number', 'integer']);
    expect(output.properties.client_request_id!.type).toEqual(['string', 'null']);
    const labels = contractColumns([{ name: 'y', type: 'numeric', count: 10, nulls: 0, min: 0, max: 1, integer: true }])[0]!;
    expect((outputSchema('m', 'classification', labels) as { properties: Record<string, { type: unknown }> }).properties.prediction!.type).toBe('integer');
    expect((outputSchema('m', 'regression', labels) as { properties: Record<string, { type: unknown }> }).properties.prediction!.type).toBe('number');
  });

  it('a pydantic model with the same constraints, aliases for names that are not identifiers', () => {
    const target = contractColumns([{ name: 'plan', type: 'categorical', count: 10, nulls: 0, top: [{ value: 'a', count: 10 }] }])[0]!;
    const module = pydanticModule(columns, 'run R, data.csv', 'classification', target);
    expect(module).toContain('    age: float = Field(..., allow_inf_nan=False, description="numeric; training range 18 to 90.5 (a value outside is answered, with a warning)")');
    expect(module).toContain('    income: Optional[float] = Field(..., allow_inf_nan=False');
    expect(module).toContain('    plan: Literal["basic", "pro"] = Field(...');
    expect(module).toContain('    city: str = Field(...');
    expect(module).toContain('    monthly_fee: float = Field(..., allow_inf_nan=False, alias="monthly fee"');
    expect(module).toContain('    member: bool = Field(...');
    // Dates stay text, as training read them from the file.
    expect(module).toContain('    signup: str = Field(..., description="date and time (ISO 8601)", **field_schema(format="date-time"))');
    // integers: int bounds, no allow_inf_nan (an int has no NaN)
    expect(module).toContain('    seats: int = Field(..., description="integer; training range 1 to 40 (a value outside is answered, with a warning)")');
    expect(module).toContain('    visits: Optional[int] = Field(..., description=');
    expect(module).toContain('    class_: Literal["a"] = Field(..., alias="class"');
    expect(module).toContain('    id: str = Field(..., alias="_id"');
    expect(module).toContain('FIELD_ALIASES = {"monthly_fee": "monthly fee", "class_": "class", "id": "_id", "col_model_type": "model_type"}');
    expect(module).toContain('from typing import Literal, Optional');
    expect(module).toContain('class Record(StrictModel):');
    // the prediction model renders the output contract
    expect(module).toContain('class Prediction(ApiModel):');
    expect(module).toContain('    prediction: str = Field(..., description="predicted class of plan")');
    expect(module).toContain('    probability: Optional[float] = Field(..., ge=0, le=1, description=');
    expect(module).toContain('    warnings: list[str] = Field(...');
    expect(module).toContain('from service.compat import ApiModel, StrictModel, field_schema');
  });

  it('the prediction type follows the task and the target', () => {
    const number = contractColumns([{ name: 'y', type: 'numeric', count: 10, nulls: 0, min: 0, max: 1 }])[0]!;
    const integer = contractColumns([{ name: 'y', type: 'numeric', count: 10, nulls: 0, min: 0, max: 1, integer: true }])[0]!;
    const flag = contractColumns([{ name: 'y', type: 'boolean', count: 10, nulls: 0 }])[0]!;
    const rendered = (task: 'classification' | 'regression', target: typeof number) => /\n {4}prediction: (.*) = Field/.exec(pydanticModule([], 'o', task, target))![1];
    expect(rendered('classification', number)).toBe('Union[StrictInt, float]');
    expect(pydanticModule([], 'o', 'classification', number)).toContain('from pydantic import Field, StrictInt');
    expect(rendered('classification', integer)).toBe('int');
    expect(rendered('classification', flag)).toBe('bool');
    expect(rendered('regression', integer)).toBe('float');
  });
});

describe('pythonLiteral', () => {
  it.each([
    [null, 'None'],
    [true, 'True'],
    [3, '3'],
    [0.25, '0.25'],
    ['a"b', '"a\\"b"'],
    [[1, 'x'], '[1, "x"]'],
    [{ k: false }, '{"k": False}'],
  ])('%j → %s', (value, expected) => {
    expect(pythonLiteral(value)).toBe(expected);
  });
});
