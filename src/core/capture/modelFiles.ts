/**
 * The model files a run wrote are kept: when the run ends their bytes are copied into the
 * store's content-addressed `objects/<sha256>`, so that registering the run later takes the
 * run's own model even after a second run has overwritten the file at the same path (the
 * registry refuses a file whose hash is not the run's when no copy was kept).
 *
 * Which outputs are model files:
 * - by extension: .joblib .pkl .pickle .onnx .pt .pth .h5 .keras .cbm .ubj .safetensors .pmml;
 * - by content, whatever the name: what joblib.dump / pickle.dump wrote (a pickle, also
 *   zlib- or gzip-compressed as joblib's `compress=` writes it), torch.save's zip archive
 *   (`…/data.pkl` inside), and the model savers' own formats — XGBoost's JSON `save_model`
 *   (`{"learner": …}`), LightGBM's text `save_model` (`tree\nversion=v…`) and its JSON dump,
 *   CatBoost's JSON export, a Keras model's JSON. A `.json` file is a model only by content.
 * Files larger than the limit (`[track] model_file_limit_mb`, default 1024; 0 keeps
 * none) are not copied; the envelope then says so and the registry falls back to the file.
 *
 * The copy is hashed as it lands: a file rewritten after the run hashed it is not kept under
 * the run's hash.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { inflateSync, gunzipSync, constants as zlib } from 'node:zlib';
import type { RunStore } from '../store/runStore';
import { hashFile } from './fileHash';
import { trackConfigFor } from './trackConfig';

export const MODEL_EXTENSIONS = new Set(['.joblib', '.pkl', '.pickle', '.onnx', '.pt', '.pth', '.h5', '.keras', '.cbm', '.ubj', '.safetensors', '.pmml']);

/** How many bytes at most a kept model file may have, from `[track] model_file_limit_mb` of the project configuration. */
export function keepModelFilesLimit(workspaceRoot: string): number {
  return trackConfigFor(workspaceRoot, workspaceRoot).modelFileLimitBytes;
}

/** What kind of model file the bytes at the start of a file are, or null. */
export function sniffModel(head: Buffer): string | null {
  if (isPickle(head)) return 'pickle';
  if (head[0] === 0x78 && [0x01, 0x5e, 0x9c, 0xda].includes(head[1]!) && isPickle(partial(() => inflateSync(head, { finishFlush: zlib.Z_SYNC_FLUSH })))) return 'pickle (zlib)';
  if (head[0] === 0x1f && head[1] === 0x8b && isPickle(partial(() => gunzipSync(head, { finishFlush: zlib.Z_SYNC_FLUSH })))) return 'pickle (gzip)';
  if (head.subarray(0, 4).equals(Buffer.from('PK\x03\x04', 'latin1'))) {
    // A zip archive: torch.save's first entry is `<name>/data.pkl` (or its byteorder/version files beside it).
    const nameLength = head.readUInt16LE(26);
    const name = head.subarray(30, 30 + nameLength).toString('latin1');
    if (/(^|\/)(data\.pkl|byteorder|version|\.data\/version)$/.test(name) || head.includes('data.pkl')) return 'torch';
    return null;
  }
  const text = head.toString('utf8', 0, Math.min(head.length, 4096));
  if (/^tree\r?\nversion=v\d/.test(text)) return 'lightgbm';
  if (/^\s*\{\s*"learner"\s*:/.test(text)) return 'xgboost';
  if (/^\s*\{/.test(text) && /"tree_info"\s*:/.test(text) && /"name"\s*:\s*"tree"/.test(text)) return 'lightgbm';
  if (/^\s*\{/.test(text) && /"oblivious_trees"\s*:|"features_info"\s*:/.test(text)) return 'catboost';
  if (/^\s*\{\s*"class_name"\s*:/.test(text) && /"keras_version"\s*:/.test(text)) return 'keras';
  return null;
}

/** Pickle protocol 2–5 starts with PROTO (0x80) and its version. */
function isPickle(bytes: Buffer | null): boolean {
  return !!bytes && bytes.length >= 2 && bytes[0] === 0x80 && bytes[1]! >= 2 && bytes[1]! <= 5;
}

function partial(decompress: () => Buffer): Buffer | null {
  try {
    return decompress();
  } catch {
    return null;
  }
}

const SNIFF_BYTES = 64 * 1024;

async function head(file: string): Promise<Buffer> {
  const handle = await fs.open(file, 'r');
  try {
    const buffer = Buffer.alloc(SNIFF_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, SNIFF_BYTES, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** A file the run wrote: its path as recorded and where it is. */
export interface WrittenFile {
  path: string;
  absolute: string;
  sha256: string;
  bytes: number;
}

export interface KeptModels {
  /** Recorded paths whose bytes are now in objects/ under their recorded sha256. */
  kept: Set<string>;
  /** Recorded paths that are model files by extension or content (kept or not). */
  models: Set<string>;
  /** Why a model file was not kept (too large, changed since hashed), for the envelope's capture notes. */
  notes: string[];
}

/** Keeps the model files among `files` (see the top of the file). */
export async function keepModelFiles(files: readonly WrittenFile[], store: RunStore, maxBytes: number): Promise<KeptModels> {
  const result: KeptModels = { kept: new Set(), models: new Set(), notes: [] };
  for (const file of files) {
    if (result.models.has(file.path)) continue;
    const byName = MODEL_EXTENSIONS.has(path.extname(file.path).toLowerCase());
    const byContent = byName ? null : await head(file.absolute).then(sniffModel, () => null);
    if (!byName && !byContent) continue;
    result.models.add(file.path);
    if (file.bytes > maxBytes) {
      if (maxBytes > 0) result.notes.push(`model file ${file.path} (${megabytes(file.bytes)}) not kept: larger than [track] model_file_limit_mb (${megabytes(maxBytes)})`);
      continue;
    }
    try {
      if (await keepOne(file, store)) result.kept.add(file.path);
      else result.notes.push(`model file ${file.path} not kept: it changed after the run wrote it`);
    } catch (error) {
      result.notes.push(`model file ${file.path} not kept: ${(error as Error).message}`);
    }
  }
  return result;
}

function megabytes(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(bytes < 10 * 1024 * 1024 ? 1 : 0)} MB`;
}

/** Copies the file into objects/<sha256>; false when the copy does not have the recorded hash. */
async function keepOne(file: WrittenFile, store: RunStore): Promise<boolean> {
  const target = path.join(store.objectsDir, file.sha256);
  const present = await fs.lstat(target).catch(() => null);
  if (present?.isFile() && present.size === file.bytes) return true;
  await fs.mkdir(store.objectsDir, { recursive: true });
  const temp = path.join(store.objectsDir, `.model.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await fs.copyFile(file.absolute, temp);
    const copied = await hashFile(temp);
    if (copied.sha256 !== file.sha256) return false;
    const handle = await fs.open(temp, 'r+');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(temp, target);
    return true;
  } finally {
    await fs.rm(temp, { force: true });
  }
}
