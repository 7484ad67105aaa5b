/**
 * The registry's events, schema `nb2prod.registry/1`: one JSON object per line of the store's
 * append-only `registry.jsonl`. The state (models, versions, aliases, approvals) is never
 * stored; it is folded from the events (see fold.ts), so the file is the whole history.
 *
 * As for envelopes, the zod schemas are the single definition; objects are `loose` so an older
 * reader keeps fields written by a newer writer. Fields may be added, none removed or retyped.
 */
import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';
import { runIdSchema } from '../envelope';

z.config(en());

export const REGISTRY_SCHEMA = 'nb2prod.registry/1';
export const REGISTRY_FILE = 'registry.jsonl';

/** The three lines of defence. */
export const APPROVAL_ROLES = ['developer', 'validator', 'auditor'] as const;
export type ApprovalRole = (typeof APPROVAL_ROLES)[number];

const sha256 = z.string().check(z.regex(/^[0-9a-f]{64}$/, 'expected a lowercase hex sha256'));
const isoTime = z.iso.datetime({ offset: true });
/** Model and alias names: what a person types, and safe in file names. */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
const name = z.string().check(z.regex(NAME_PATTERN, 'expected letters, digits, ".", "_" or "-" (at most 100, not starting with a symbol)'));
const version = z.int().check(z.positive());

const common = {
  schema: z.literal(REGISTRY_SCHEMA),
  /** A ULID: unique across writers; the register event's id identifies the version for good. */
  id: runIdSchema,
  at: isoTime,
  /** Who did it: `--by`, else `git config user.email`, else the login name. */
  by: z.string().check(z.minLength(1)),
  /**
   * The identities beside `by` that the person did not type: the OS account and host that ran
   * nb2prod, and git's user.email there (absent in events written before it was recorded, or
   * through the API with a name only). Separation of duties compares them.
   */
  actor: z.optional(z.looseObject({ osUser: z.nullable(z.string()), host: z.nullable(z.string()), gitEmail: z.nullable(z.string()) })),
};

export const registerEventSchema = z.looseObject({
  ...common,
  type: z.literal('register'),
  model: name,
  /**
   * The version number the writer expected (max + 1 when it wrote). Informative only: the
   * number a version has is assigned when folding, by the order of the lines (see fold.ts).
   */
  proposedVersion: version,
  /** The run the model came from. */
  run: runIdSchema,
  /** The model file: path relative to the workspace (forward slashes), its hash and size. */
  file: z.looseObject({
    path: z.string().check(z.minLength(1)),
    sha256,
    bytes: z.int().check(z.nonnegative()),
    /** True when a copy is kept in the store's `objects/<sha256>` (so a rollback can restore it). */
    stored: z.boolean(),
  }),
  /** The data versions: the source run's inputs. */
  data: z.array(z.looseObject({ path: z.string(), sha256, bytes: z.int().check(z.nonnegative()) })),
  /** The source run's metrics (last values). */
  metrics: z.record(z.string(), z.number()),
  /** The source run's group and the ids of the group's runs (repeated runs), oldest first. */
  group: z.nullable(z.string()),
  runs: z.array(runIdSchema),
  note: z.nullable(z.string()),
});

export const checkSchema = z.looseObject({
  name: z.string(),
  /** `skip`: not applicable (e.g. no current holder to improve on). */
  status: z.enum(['pass', 'fail', 'skip']),
  detail: z.string(),
});

export const aliasEventSchema = z.looseObject({
  ...common,
  type: z.literal('alias'),
  /** `promote` (any explicit move, gated) or `rollback` (back to the version held before). */
  kind: z.enum(['promote', 'rollback']),
  alias: name,
  model: name,
  version,
  /** Id of the version's register event. */
  versionId: runIdSchema,
  /** The version the writer saw holding the alias (null: none). The fold trusts the line order. */
  previous: z.nullable(version),
  reason: z.nullable(z.string()),
  /** The checks evaluated (gate and approvals), empty when nothing was required. */
  checks: z.array(checkSchema),
  /** Set when failed checks were overridden: why, and which checks failed. */
  override: z.nullable(z.looseObject({ reason: z.string().check(z.minLength(1)), failed: z.array(z.string()) })),
  /**
   * The move also deployed the version to a generated service (`--deploy SERVICE_DIR`): the
   * service folder (relative to the workspace), the role it serves in, the file and its sha256.
   */
  deployed: z.optional(z.looseObject({ service: z.string(), role: z.enum(['champion', 'challenger']), path: z.string(), sha256 })),
});

export const approveEventSchema = z.looseObject({
  ...common,
  type: z.literal('approve'),
  model: name,
  version,
  versionId: runIdSchema,
  role: z.enum(APPROVAL_ROLES),
  note: z.nullable(z.string()),
});

export const registryEventSchema = z.discriminatedUnion('type', [registerEventSchema, aliasEventSchema, approveEventSchema]);

export type RegisterEvent = z.infer<typeof registerEventSchema>;
export type AliasEvent = z.infer<typeof aliasEventSchema>;
export type ApproveEvent = z.infer<typeof approveEventSchema>;
export type RegistryEvent = z.infer<typeof registryEventSchema>;
export type Check = z.infer<typeof checkSchema>;

/** A line of the file that could not be used: 1-based line number and why. */
export interface RegistryProblem {
  line: number;
  message: string;
}

/** Validates one parsed line; the message names the first offending field. */
export function parseRegistryEvent(value: unknown): { ok: true; event: RegistryEvent } | { ok: false; message: string } {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const record = value as Record<string, unknown>;
    if (record.schema !== REGISTRY_SCHEMA) return { ok: false, message: `schema is ${JSON.stringify(record.schema)}, expected "${REGISTRY_SCHEMA}"` };
    if (!['register', 'alias', 'approve'].includes(String(record.type))) {
      return { ok: false, message: `unknown event type ${JSON.stringify(record.type)} (written by a newer nb2prod?)` };
    }
  }
  const result = registryEventSchema.safeParse(value);
  if (result.success) return { ok: true, event: result.data };
  const issue = result.error.issues[0]!;
  return { ok: false, message: `${issue.path.length ? issue.path.map(String).join('.') : '(root)'}: ${issue.message}` };
}
