/**
 * Secrets are never stored. A run sees the secrets of its environment (API keys, tokens,
 * passwords, database URLs with a password) and may be given some on its command line
 * (`--api-key X`, `--password=Y`, `-p token=…`); any of them can end up in what nb2prod writes to
 * the store: params, the command, the error message and traceback, the executed notebook's
 * outputs, logged params. This module decides what is a secret and replaces it by `***`:
 *
 *   - by name: an environment variable whose name has a secret word in it (KEY, TOKEN, SECRET,
 *     PASSWORD, PASSWD, PWD, PASS, CREDENTIAL, AUTH, DSN, COOKIE…); a command-line option, a
 *     `name=value` argument or a param whose name announces a secret (`api_key`, `password`,
 *     `access_token`, `client_secret` — the linter's `secretKindOfName`, plus `dsn`);
 *   - by value: the values of those variables and arguments, and the password of any URL with one
 *     (`postgres://user:PASSWORD@host/db`) in any variable or argument, wherever they appear in
 *     text, also JSON-, HTML-, backslash- or URL-escaped. Values shorter than 6 characters are
 *     not searched for in text (they would match ordinary words); by name they are still replaced.
 *
 * The Python side (capture events, the executed notebook) gets the values to replace in
 * NB2PROD_REDACT (a JSON list), which only the run's own processes see, like the environment they
 * come from. Environment variable values are never recorded anyway: only their names.
 */
import { secretKindOfName } from '../lint/rules/hardcodedSecret';
import type { JsonValue } from '../envelope';

export const MASK = '***';
/** Shorter values are replaced only where a name says they are secret, never searched for in text. */
export const MIN_SEARCHED_LENGTH = 6;

const SECRET_ENV_WORDS: ReadonlySet<string> = new Set([
  'key', 'apikey', 'accesskey', 'secretkey', 'privatekey', 'token', 'secret', 'password', 'passwd', 'pwd', 'pass',
  'passphrase', 'passcode', 'credential', 'credentials', 'creds', 'cred', 'auth', 'authorization', 'dsn', 'cookie',
]);
const SECRET_ENV_SUFFIXES = ['token', 'secret', 'password', 'passwd', 'apikey', 'credential', 'credentials'];
/** Variables with a secret word that hold no secret: the shell's working directories, the ssh agent's socket path. */
const NOT_SECRET_ENV: ReadonlySet<string> = new Set(['PWD', 'OLDPWD', 'SSH_AUTH_SOCK']);

function words(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

/** Whether an environment variable's name says its value is a secret (`OPENAI_API_KEY`, `PGPASSWORD`, `SENTRY_DSN`). */
export function isSecretEnvName(name: string): boolean {
  if (NOT_SECRET_ENV.has(name)) return false;
  return words(name).some((word) => SECRET_ENV_WORDS.has(word) || SECRET_ENV_SUFFIXES.some((suffix) => word.endsWith(suffix)));
}

/**
 * Whether a param, a command-line option (`--api-key`) or a `name=value` argument names a secret.
 * Narrower than for environment variables: a false positive here costs a replay its value (it
 * must be given again), so a bare `key` (`--sort-key`) is not one.
 */
export function isSecretParamName(name: string): boolean {
  const last = words(name).at(-1);
  return secretKindOfName(name) !== null || last === 'dsn' || last === 'pass';
}

const URL_PASSWORD = /\b[a-z][a-z0-9+.-]*:\/\/[^\s:@/?#]*:([^\s@/?#]+)@/gi;

/** Passwords of URLs in `text` (`scheme://user:PASSWORD@host`), raw and URL-decoded. */
export function urlPasswords(text: string): string[] {
  const found: string[] = [];
  for (const match of text.matchAll(URL_PASSWORD)) {
    const password = match[1]!;
    found.push(password);
    try {
      const decoded = decodeURIComponent(password);
      if (decoded !== password) found.push(decoded);
    } catch {
      // not valid percent-encoding: the raw form is enough
    }
  }
  return found;
}

/** The forms a value takes in stored text: as is, JSON-, HTML-, backslash- and URL-escaped. */
function variants(value: string): string[] {
  const html = value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#x27;');
  const htmlQuote = value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
  return [...new Set([value, JSON.stringify(value).slice(1, -1), html, htmlQuote, value.replace(/\\/g, '\\\\'), encodeURIComponent(value)])];
}

/** Replaces secret values in text and JSON values. Build one per run with `runSecrets`. */
export class Redactor {
  /** Every form of every value, longest first (a value inside a longer one is replaced by the longer). */
  private readonly patterns: string[];

  constructor(readonly values: readonly string[]) {
    const all = new Set<string>();
    for (const value of values) if (value.length >= MIN_SEARCHED_LENGTH) for (const form of variants(value)) all.add(form);
    this.patterns = [...all].sort((a, b) => b.length - a.length);
  }

  get empty(): boolean {
    return this.patterns.length === 0;
  }

  text(text: string): string {
    let out = text;
    for (const pattern of this.patterns) if (out.includes(pattern)) out = out.split(pattern).join(MASK);
    return out;
  }

  /**
   * A copy of a JSON-like value with every string (keys included) redacted, except the values of
   * keys for which `keep` says so (hashes and ids, which a short hex secret could match a part of).
   */
  deep<T>(value: T, keep: (key: string) => boolean = () => false): T {
    if (this.empty) return value;
    const walk = (item: unknown): unknown => {
      if (typeof item === 'string') return this.text(item);
      if (Array.isArray(item)) return item.map(walk);
      if (item && typeof item === 'object') return Object.fromEntries(Object.entries(item).map(([k, v]) => [this.text(k), keep(k) && typeof v === 'string' ? v : walk(v)]));
      return item;
    };
    return walk(value) as T;
  }
}

export interface RunSecrets {
  redactor: Redactor;
  /** The command with secret arguments replaced (`--api-key ***`, `--password=***`, `token=***`). */
  command?: string[];
}

/**
 * The secrets of a run: from its environment, its command line (a script run) and the params given
 * to it (`-p` overrides of a notebook run).
 */
export function runSecrets(options: { env: NodeJS.ProcessEnv; command?: string[]; params?: Record<string, JsonValue> }): RunSecrets {
  const values: string[] = [];
  for (const [name, value] of Object.entries(options.env)) {
    if (!value || name.startsWith('NB2PROD_')) continue;
    if (isSecretEnvName(name)) values.push(value);
    values.push(...urlPasswords(value));
  }
  for (const [name, value] of Object.entries(options.params ?? {})) {
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    if (isSecretParamName(name) && text) values.push(text);
    if (typeof value === 'string') values.push(...urlPasswords(value));
  }
  let command: string[] | undefined;
  if (options.command) {
    command = [...options.command];
    for (let i = 0; i < command.length; i++) {
      const arg = command[i]!;
      const option = /^(--?[A-Za-z][\w.-]*)=(.*)$/s.exec(arg) ?? /^([A-Za-z_][\w.-]*)=(.*)$/s.exec(arg);
      if (option && isSecretParamName(option[1]!.replace(/^-+/, '')) && option[2]) {
        values.push(option[2]);
        command[i] = `${option[1]}=${MASK}`;
        continue;
      }
      const flag = /^--?([A-Za-z][\w.-]*)$/.exec(arg);
      const next = command[i + 1];
      if (flag && next !== undefined && !next.startsWith('-') && isSecretParamName(flag[1]!)) {
        values.push(next);
        command[++i] = MASK;
        continue;
      }
      values.push(...urlPasswords(arg));
    }
  }
  const redactor = new Redactor([...new Set(values.filter(Boolean))]);
  return { redactor, ...(command ? { command: command.map((arg) => redactor.text(arg)) } : {}) };
}

/** Params with secret names replaced by `***`, then every string redacted. */
export function redactParams(params: Record<string, JsonValue>, redactor: Redactor): Record<string, JsonValue> {
  return redactor.deep(Object.fromEntries(Object.entries(params).map(([name, value]) => [name, isSecretParamName(name) && value !== null && value !== '' ? MASK : value])));
}
