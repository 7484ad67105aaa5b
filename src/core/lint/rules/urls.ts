/**
 * What a URL says about the data behind it: whether it names a fixed version (a commit, a
 * release, an object version, a content hash, a date), and what to do when it does not. Read by
 * `runtime-download` for every URL a notebook fetches or reads.
 */

/** Schemes of remote data: read at run time from somewhere else. */
export const REMOTE = /^(https?|s3|s3a|s3n|gs|gcs|az|abfs|abfss|adl|hf|ftp):\/\//i;

/** A URL on this machine (a local server, a notebook's own service): not data from elsewhere. */
export function isLocalUrl(url: string): boolean {
  const host = /^[a-z][a-z0-9+.-]*:\/\/(?:[^/@]*@)?(\[[^\]]*\]|[^/:?#]*)/i.exec(url)?.[1]?.toLowerCase() ?? '';
  return host === 'localhost' || host.endsWith('.localhost') || /^127\./.test(host) || host === '0.0.0.0' || host === '[::1]';
}

/** Names that move: a URL naming one of these is not pinned. */
const BRANCHES: ReadonlySet<string> = new Set(['main', 'master', 'develop', 'development', 'dev', 'head', 'trunk', 'latest', 'stable', 'default', 'gh-pages', 'nightly', 'current']);

const VERSION_PARAMS = ['versionid', 'version', 'generation', 'revision', 'rev', 'sha', 'commit'];

/** The URL without credentials, query or fragment: what is shown in a message (a query may hold a token). */
export function displayUrl(url: string): string {
  const withoutQuery = url.split(/[?#]/)[0]!;
  return withoutQuery.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1');
}

/**
 * Whether a URL names a fixed version of its content: a commit sha or content hash, an object
 * version or generation, a revision, a version- or date-named path segment, or an immutable
 * archive record.
 */
export function urlIsPinned(url: string): boolean {
  const [beforeFragment, fragment = ''] = splitOnce(url, '#');
  const [base, query = ''] = splitOnce(beforeFragment, '?');
  // A content hash (sha256, md5, a full commit sha) anywhere.
  if (/(^|[^0-9a-f])[0-9a-f]{32,}($|[^0-9a-f])/i.test(base)) return true;
  for (const param of query.split('&')) {
    const [key = '', value = ''] = splitOnce(param, '=');
    if (VERSION_PARAMS.includes(key.toLowerCase()) && value && !BRANCHES.has(decode(value).toLowerCase())) return true;
  }
  // GCS: gs://bucket/object#1360887759327000 (the generation).
  if (/^\d{10,}$/.test(fragment)) return true;
  const rest = base.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '');
  const segments = rest.split('/').map(decode);
  const host = (segments[0] ?? '').toLowerCase();
  if ((host === 'zenodo.org' || host.endsWith('.zenodo.org')) && /^records?$/.test(segments[1] ?? '') && /^\d+$/.test(segments[2] ?? '')) return true;
  if (host.endsWith('figshare.com') && segments.includes('files') && /^\d+$/.test(segments[segments.indexOf('files') + 1] ?? '')) return true;
  for (let i = 1; i < segments.length; i++) {
    const segment = segments[i]!;
    // Folder names (the file name is judged below): a commit, a version, a date.
    if (i < segments.length - 1 && (isShortSha(segment) || isVersionName(segment) || isDateName(segment))) return true;
    // Hugging Face: /resolve/<rev>/ and hf://datasets/org/name@<rev>/.
    if (segments[i - 1] === 'resolve' && i < segments.length - 1 && !BRANCHES.has(segment.toLowerCase()) && !segment.startsWith('refs')) return true;
    const at = segment.lastIndexOf('@');
    if (at > 0 && i <= 3) {
      const rev = segment.slice(at + 1);
      if (rev && !BRANCHES.has(rev.toLowerCase()) && !rev.startsWith('refs')) return true;
    }
    // refs/tags/<tag> in raw GitHub URLs.
    if (segment === 'tags' && segments[i - 1] === 'refs' && segments[i + 1]) return true;
  }
  // A version or date in the file name itself: iris_v1.2.csv, sales-2024-01-15.parquet.
  const file = segments.at(-1) ?? '';
  if (/(^|[._-])v\d+(\.\d+)+/i.test(file) || /\d+\.\d+\.\d+/.test(file) || /\d{4}-\d{2}-\d{2}/.test(file)) return true;
  return false;
}

function isShortSha(segment: string): boolean {
  return /^[0-9a-f]{7,40}$/i.test(segment) && /[0-9]/.test(segment) && (/[a-f]/i.test(segment) || segment.length === 40);
}

function isVersionName(segment: string): boolean {
  return /^v?\d+(\.\d+){1,3}([-+][0-9a-z.]+)?$/i.test(segment);
}

function isDateName(segment: string): boolean {
  const match = /^((?:19|20)\d\d)-?(\d\d)-?(\d\d)$/.exec(segment);
  return !!match && Number(match[2]) >= 1 && Number(match[2]) <= 12 && Number(match[3]) >= 1 && Number(match[3]) <= 31;
}

export function urlAdvice(url: string): string {
  const lower = url.toLowerCase();
  const dvc = 'or download it once and track the copy with `dvc import-url`';
  if (lower.includes('raw.githubusercontent.com/') || lower.includes('github.com/')) return `Use a commit sha (or a release tag) instead of the branch name in the URL, ${dvc}.`;
  if (lower.includes('huggingface.co/') || lower.startsWith('hf://')) return `Pin a revision: a commit sha in \`/resolve/<sha>/\` (or \`@<sha>\` in an hf:// path), ${dvc}.`;
  if (lower.startsWith('s3')) return `Read a fixed object version (\`?versionId=...\`, with bucket versioning on), ${dvc}.`;
  if (lower.startsWith('gs')) return `Read a fixed object generation (\`#<generation>\`), ${dvc}.`;
  return `Use a URL that names a fixed version (a release, a date, a content hash), ${dvc}.`;
}

function splitOnce(value: string, separator: string): [string, string?] {
  const at = value.indexOf(separator);
  return at < 0 ? [value] : [value.slice(0, at), value.slice(at + 1)];
}

function decode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
