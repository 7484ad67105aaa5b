/**
 * Reading Jupyter notebooks: the parts of nbformat 4 (https://nbformat.readthedocs.io/en/latest/format_description.html)
 * that nb2prod needs, validated so a corrupt file gets a clear error instead of a crash.
 * Unknown fields are kept; only the shape we rely on is checked.
 */
import * as z from 'zod/mini';
import { UserError } from '../errors';
import { MAX_JSON_DEPTH, jsonSyntaxMessage, nestsDeeperThan, withoutBom } from '../jsonText';
import { sha256Hex } from '../hash';

/** nbformat stores multi-line text either as one string or as a list of lines. */
const multilineText = z.union([z.string(), z.array(z.string())]);

const cellSchema = z.looseObject({
  cell_type: z.string(),
  source: multilineText,
  id: z.optional(z.string()),
  metadata: z.optional(z.looseObject({ tags: z.optional(z.array(z.string())) })),
  execution_count: z.optional(z.nullable(z.number())),
  outputs: z.optional(z.array(z.unknown())),
});

const notebookSchema = z.looseObject({
  nbformat: z.number(),
  nbformat_minor: z.optional(z.number()),
  metadata: z.optional(z.looseObject({})),
  cells: z.array(cellSchema),
});

export type NotebookJson = z.infer<typeof notebookSchema>;

export interface NotebookCell {
  /** Position among all cells, 0-based. */
  index: number;
  kind: 'code' | 'markdown' | 'raw';
  id: string | null;
  source: string;
  tags: string[];
  executionCount: number | null;
}

export interface ParsedNotebook {
  json: NotebookJson;
  cells: NotebookCell[];
}

export function joinSource(source: string | string[]): string {
  return Array.isArray(source) ? source.join('') : source;
}

/** Parses notebook text; throws a UserError naming the file and what is wrong with it. */
export function parseNotebook(text: string, file: string): ParsedNotebook {
  let value: unknown;
  try {
    value = JSON.parse(withoutBom(text));
  } catch (error) {
    throw new UserError('invalid-notebook', `${file} is not a valid notebook: it is not JSON (${jsonSyntaxMessage(error)}).`);
  }
  if (nestsDeeperThan(value)) {
    throw new UserError('invalid-notebook', `${file} is not a valid notebook: its JSON nests more than ${MAX_JSON_DEPTH} levels deep (Jupyter cannot read it either).`);
  }
  // Older formats have another shape (nbformat 3 keeps cells in worksheets): say so first.
  const version = (value as { nbformat?: unknown } | null)?.nbformat;
  if (typeof version === 'number' && version !== 4) {
    throw new UserError('invalid-notebook', `${file} is nbformat ${version}; nb2prod reads nbformat 4 (convert it with \`jupyter nbconvert --to notebook --nbformat 4\`, or open and save it in Jupyter).`);
  }
  const result = notebookSchema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new UserError('invalid-notebook', `${file} is not a valid notebook: ${issue.path.join('.') || '(root)'}: ${issue.message}.`);
  }
  const cells = result.data.cells.map((cell, index): NotebookCell => ({
    index,
    kind: cell.cell_type === 'code' ? 'code' : cell.cell_type === 'markdown' ? 'markdown' : 'raw',
    id: cell.id ?? null,
    source: joinSource(cell.source),
    tags: cell.metadata?.tags ?? [],
    executionCount: cell.execution_count ?? null,
  }));
  return { json: result.data, cells };
}

/** The notebook with outputs and execution counts removed: the code as it would run. */
export function stripOutputs(notebook: NotebookJson): NotebookJson {
  return {
    ...notebook,
    cells: notebook.cells.map((cell) => (cell.cell_type === 'code' ? { ...cell, outputs: [], execution_count: null } : cell)),
  };
}

/**
 * sha256 of what runs: the code cells' sources in order, each prefixed by its length so that
 * moving text between cells changes the hash. Outputs and markdown never count.
 */
export function codeHash(cells: NotebookCell[]): string {
  return sha256Hex(
    cells
      .filter((c) => c.kind === 'code')
      .map((c) => `${Buffer.byteLength(c.source)}:${c.source}`)
      .join('\n'),
  );
}
