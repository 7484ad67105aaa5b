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
    ]);
    expect(columns.find((c) => c.name === 'monthly fee')!.field).toBe('monthly_fee');
  });

  it('JSON Schema 2020-12 for an input record, a training row and a response', () => {
    const input = inputSchema('m', columns) as { $schema: string; required: string[]; additionalProperties: boolean; properties: Record<string, object> };
    expect(input.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(input.additionalProperties).toBe(false);
    expect(input.required).toEqual(PROFILE.map((p) => p.name));
    expect(input.properties.income).toMatchObject({ type: ['number', 'null'], minimum: 0, maximum: 250000 });
    expect(input.properties.plan).toMatchObject({ type: 'string', enum: ['basic', 'pro'] });
    expect(input.properties.signup).toMatchObject({ type: 'string', format: 'date-time' });
    const target = contractColumns([{ name: 'churned', type: 'numeric', count: 10, nulls: 0, min: 0, max: 1 }])[0]!;
    const training = trainingSchema('m', columns, target) as { required: string[]; additionalProperties: boolean };
    expect(training.required.at(-1)).toBe('churned');
    expect(training.additionalProperties).toBe(true);
    const output = outputSchema('m', 'classification', target) as { required: string[]; properties: Record<string, { type: unknown }> };
    expect(output.required).toEqual(['prediction', 'probability', 'needs_review', 'fallback', 'rule']);
    expect(output.properties.probability!.type).toEqual(['number', 'null']);
  });

  it('a pydantic model with the same constraints, aliases for names that are not identifiers', () => {
    const module = pydanticModule(columns, 'run R, data.csv');
    expect(module).toContain('    age: float = Field(..., ge=18.0, le=90.5, allow_inf_nan=False, description="numeric; training range 18 to 90.5")');
    expect(module).toContain('    income: Optional[float] = Field(..., ge=0.0, le=250000.0, allow_inf_nan=False');
    expect(module).toContain('    plan: Literal["basic", "pro"] = Field(...');
    expect(module).toContain('    city: str = Field(...');
    expect(module).toContain('    monthly_fee: float = Field(..., ge=1.0, le=2.0, allow_inf_nan=False, alias="monthly fee"');
    expect(module).toContain('    member: bool = Field(...');
    // Dates stay text, as training read them from the file.
    expect(module).toContain('    signup: str = Field(..., description="date and time (ISO 8601)")');
    expect(module).toContain('FIELD_ALIASES = {"monthly_fee": "monthly fee"}');
    expect(module).toContain('from typing import Literal, Optional');
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
