/**
 * A fast yes/maybe check compiled from a zod/mini schema, for values that come from JSON.parse.
 *
 * Validating a run envelope with zod costs about three times its JSON.parse (zod builds a copy
 * and an issue list as it goes), which is most of the cost of indexing 10,000 runs. The compiled
 * check walks the value once and allocates nothing. It is one-sided: `true` means zod would
 * accept the value unchanged; `false` means "ask zod", which then gives the verdict and the
 * message. So zod stays the only definition of the schema, and a construct or an input the check
 * does not understand (a refinement, a transform, a `__proto__` key, a string whose length is in
 * doubt, a value nested deeper than `MAX_DEPTH`) only costs speed, never a wrong answer.
 * Compiling throws on a schema construct it does not know; `compileCheck` callers fall back to zod.
 */
import type * as z from 'zod/mini';

export type Check = (value: unknown, depth: number) => boolean;

/** Deeper values are left to zod (which is recursive too, and reports a stack overflow as such). */
export const MAX_DEPTH = 200;

interface Def {
  type: string;
  checks?: Array<{ _zod: { def: CheckDef } }>;
  check?: string;
  format?: string;
  pattern?: RegExp;
  shape?: Record<string, z.ZodMiniType>;
  catchall?: z.ZodMiniType;
  innerType?: z.ZodMiniType;
  element?: z.ZodMiniType;
  keyType?: z.ZodMiniType;
  valueType?: z.ZodMiniType;
  options?: z.ZodMiniType[];
  getter?: () => z.ZodMiniType;
  values?: unknown[];
  entries?: Record<string, unknown>;
  mode?: string;
}

interface CheckDef {
  check: string;
  format?: string;
  pattern?: RegExp;
  minimum?: number;
  value?: unknown;
  inclusive?: boolean;
}

function defOf(schema: z.ZodMiniType): Def {
  return (schema as unknown as { _zod: { def: Def } })._zod.def;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Plain JSON objects only; `__proto__` keys are stripped by zod, so their objects are left to it. */
function isJsonObject(value: unknown): value is Record<string, unknown> {
  return isObject(value) && Object.getPrototypeOf(value) === Object.prototype && !Object.hasOwn(value, '__proto__');
}

function patternTest(pattern: RegExp): (value: string) => boolean {
  return (value) => {
    pattern.lastIndex = 0;
    return pattern.test(value);
  };
}

function stringCheck(check: CheckDef): (value: string) => boolean {
  if ((check.check === 'string_format' || check.check === 'regex') && check.pattern) return patternTest(check.pattern);
  if (check.check === 'min_length' && typeof check.minimum === 'number') {
    const minimum = check.minimum;
    // zod counts code points when the UTF-16 length is between the minimum and twice it.
    return (value) => value.length >= minimum * 2 || (value.length >= minimum && [...value].length >= minimum);
  }
  throw new Error(`schemaCheck: unsupported string check ${check.check}`);
}

function numberCheck(check: CheckDef): (value: number) => boolean {
  if (check.check === 'greater_than' && typeof check.value === 'number') {
    const bound = check.value;
    return check.inclusive ? (value) => value >= bound : (value) => value > bound;
  }
  if (check.check === 'number_format' && check.format === 'safeint') return Number.isSafeInteger;
  if (check.check === 'number_format' && check.format === 'float64') return () => true;
  throw new Error(`schemaCheck: unsupported number check ${check.check}/${check.format}`);
}

/** Compiles `schema`; throws when it uses a construct this module does not know. */
export function compileCheck(schema: z.ZodMiniType): (value: unknown) => boolean {
  const compiled = new Map<z.ZodMiniType, Check>();
  const compile = (s: z.ZodMiniType): Check => {
    const known = compiled.get(s);
    if (known) return known;
    // Recursive (lazy) schemas refer to themselves: compile into a forwarding slot first.
    let target: Check = () => false;
    const forward: Check = (value, depth) => target(value, depth);
    compiled.set(s, forward);
    target = build(s);
    compiled.set(s, target);
    return target;
  };
  const build = (s: z.ZodMiniType): Check => {
    const def = defOf(s);
    const ownChecks = def.checks ?? [];
    switch (def.type) {
      case 'unknown':
        return () => true;
      case 'string': {
        const tests = ownChecks.map((c) => stringCheck(c._zod.def));
        if (def.check === 'string_format' && def.pattern) tests.unshift(patternTest(def.pattern));
        else if (def.check !== undefined) throw new Error(`schemaCheck: unsupported string format ${def.format}`);
        return (value) => typeof value === 'string' && tests.every((t) => t(value));
      }
      case 'number': {
        const tests = ownChecks.map((c) => numberCheck(c._zod.def));
        if (def.check === 'number_format') tests.unshift(numberCheck({ check: 'number_format', format: def.format ?? 'float64' }));
        else if (def.check !== undefined) throw new Error(`schemaCheck: unsupported number format ${def.format}`);
        return (value) => typeof value === 'number' && Number.isFinite(value) && tests.every((t) => t(value));
      }
      case 'boolean':
        if (ownChecks.length) break;
        return (value) => typeof value === 'boolean';
      case 'null':
        return (value) => value === null;
      case 'literal': {
        const values = new Set(def.values ?? []);
        return (value) => values.has(value);
      }
      case 'enum': {
        const values = new Set(Object.values(def.entries ?? {}));
        return (value) => values.has(value);
      }
      case 'nullable': {
        const inner = compile(def.innerType!);
        return (value, depth) => value === null || inner(value, depth);
      }
      case 'optional': {
        const inner = compile(def.innerType!);
        return (value, depth) => value === undefined || inner(value, depth);
      }
      case 'lazy':
        return compile(def.getter!());
      case 'union': {
        const options = (def.options ?? []).map(compile);
        return (value, depth) => options.some((o) => o(value, depth));
      }
      case 'array': {
        if (ownChecks.length) break;
        const element = compile(def.element!);
        return (value, depth) => {
          if (!Array.isArray(value) || depth > MAX_DEPTH) return false;
          for (const item of value) if (!element(item, depth + 1)) return false;
          return true;
        };
      }
      case 'record': {
        const key = defOf(def.keyType!);
        if (ownChecks.length || key.type !== 'string' || key.checks?.length || key.check !== undefined || def.mode === 'loose') break;
        const valueCheck = compile(def.valueType!);
        return (value, depth) => {
          if (!isJsonObject(value) || depth > MAX_DEPTH) return false;
          for (const k in value) if (!valueCheck(value[k], depth + 1)) return false;
          return true;
        };
      }
      case 'object': {
        if (ownChecks.length) break;
        const catchall = def.catchall ? defOf(def.catchall).type : undefined;
        // Loose (unknown), strip (none) and strict (never) objects; other catch-alls are left to zod.
        if (catchall !== undefined && catchall !== 'unknown' && catchall !== 'never') break;
        const keys = Object.keys(def.shape ?? {});
        const known = new Set(keys);
        const fields = keys.map((k) => [k, compile(def.shape![k]!)] as const);
        return (value, depth) => {
          if (!isJsonObject(value) || depth > MAX_DEPTH) return false;
          for (const [k, check] of fields) if (!check(value[k], depth + 1)) return false;
          if (catchall === 'never') for (const k in value) if (!known.has(k)) return false;
          return true;
        };
      }
    }
    throw new Error(`schemaCheck: unsupported schema type ${def.type}`);
  };
  const root = compile(schema);
  return (value) => root(value, 0);
}
