/**
 * `hardcoded-secret`: passwords, tokens and keys written into a notebook. Notebooks are shared,
 * committed and rendered with their code; a secret in one is leaked to everyone who sees any
 * copy, and stays in the history after it is deleted.
 *
 * Two signals: a string literal given to a name that says it is a secret (`db_password = "…"`,
 * `connect(password="…")`, `{"api_key": "…"}`, `os.environ["TOKEN"] = "…"`), and a literal (or
 * shell command) holding a token in a format that is a secret whatever its name (AWS, GitHub,
 * Slack, OpenAI-style, Google, Stripe, Hugging Face, JWT, private keys, URLs with a password).
 * Messages never repeat the value.
 */
import type { CellFacts, Span } from '../python/analyze';
import type { Rule, RuleContext } from '../rule';

interface TokenFormat {
  kind: string;
  env: string;
  pattern: RegExp;
  /** Extra check on the match (mixed case, a real key body…). */
  accept?: (match: RegExpExecArray) => boolean;
}

const hasUpperAndLower = (text: string): boolean => /[A-Z]/.test(text) && /[a-z]/.test(text);

// Global patterns, run with exec in a loop; each is anchored on a fixed prefix.
const TOKEN_FORMATS: TokenFormat[] = [
  { kind: 'an AWS access key', env: 'AWS_ACCESS_KEY_ID', pattern: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g },
  { kind: 'a GitHub token', env: 'GITHUB_TOKEN', pattern: /\bgh[pousr]_[A-Za-z0-9]{36,}\b/g },
  { kind: 'a GitHub token', env: 'GITHUB_TOKEN', pattern: /\bgithub_pat_[A-Za-z0-9_]{22,}/g },
  { kind: 'a Slack token', env: 'SLACK_TOKEN', pattern: /\bxox[abprs]-[A-Za-z0-9-]{10,}/g },
  { kind: 'a Stripe key', env: 'STRIPE_API_KEY', pattern: /\b[rs]k_live_[0-9A-Za-z]{16,}/g },
  { kind: 'an Anthropic API key', env: 'ANTHROPIC_API_KEY', pattern: /\bsk-ant-[A-Za-z0-9_-]{20,}/g },
  {
    kind: 'an OpenAI-style API key',
    env: 'OPENAI_API_KEY',
    pattern: /\bsk-(?!ant-)[A-Za-z0-9_-]{20,}/g,
    // Real keys mix digits and upper case; `sk-learn-pipeline-defaults` does not.
    accept: (m) => /[0-9]/.test(m[0]) && /[A-Z]/.test(m[0]),
  },
  { kind: 'a Google API key', env: 'GOOGLE_API_KEY', pattern: /\bAIza[0-9A-Za-z_-]{35}/g },
  { kind: 'a Hugging Face token', env: 'HF_TOKEN', pattern: /\bhf_[A-Za-z0-9]{30,}\b/g, accept: (m) => hasUpperAndLower(m[0].slice(3)) },
  {
    kind: 'a private key',
    env: 'PRIVATE_KEY',
    pattern: /-----BEGIN [A-Z ]*PRIVATE KEY(?: BLOCK)?-----([\s\S]*?)(?:-----END|$)/g,
    // A real key has a body; a template holds `...`.
    accept: (m) => (m[1] ?? '').replace(/[^A-Za-z0-9+/=]/g, '').length >= 40,
  },
  { kind: 'a JSON Web Token', env: 'API_TOKEN', pattern: /\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/g },
  {
    kind: 'a password in a URL',
    env: 'DATABASE_URL',
    pattern: /\b[a-z][a-z0-9+.-]*:\/\/[^\s:@/?#]+:([^\s@/?#]+)@[^\s/?#]+/gi,
    accept: (m) => !isPlaceholderPassword(m[1] ?? ''),
  },
];

/** Words after the secret word that still name the secret itself: `password_str`, `token_value`. */
const TRAILING_WORDS: ReadonlySet<string> = new Set(['value', 'str', 'string', 'raw', 'plain', 'plaintext', 'b64', 'base64', 'hex', 'bytes']);
const PASSWORD_WORDS: ReadonlySet<string> = new Set(['password', 'passwd', 'pwd', 'passphrase', 'passcode']);
const CREDENTIAL_WORDS: ReadonlySet<string> = new Set(['auth', 'authorization', 'credential', 'credentials', 'creds']);
const KEY_QUALIFIERS: Readonly<Record<string, string>> = {
  api: 'an API key',
  access: 'an access key',
  secret: 'a secret key',
  private: 'a private key',
  auth: 'an auth key',
  encryption: 'an encryption key',
  signing: 'a signing key',
  master: 'a master key',
  subscription: 'a subscription key',
};
const TOKEN_PREFIXES: ReadonlySet<string> = new Set(['auth', 'access', 'api', 'bearer', 'refresh', 'session', 'id', 'oauth', 'hf', 'gh', 'github', 'slack', 'bot']);

/** Values that name an auth scheme or a setting, not a secret. */
const NON_SECRET_VALUES: ReadonlySet<string> = new Set(['basic', 'bearer', 'digest', 'oauth', 'oauth2', 'kerberos', 'ntlm', 'none', 'null', 'nil', 'undefined', 'true', 'false', 'empty', 'header', 'query', 'required', 'optional', 'disabled', 'enabled']);
const PLACEHOLDER_WORDS = ['changeme', 'your', 'placeholder', 'replaceme', 'redacted', 'example', 'dummy', 'fake', 'insert', 'todo', 'tbd', 'notset', 'fixme'];

/** The kind of secret a name announces (`a password`, `an API key`), or null. */
export function secretKindOfName(name: string): string | null {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
  while (words.length > 1 && (TRAILING_WORDS.has(words.at(-1)!) || /^\d+$/.test(words.at(-1)!))) words.pop();
  const last = words.at(-1);
  const before = words.at(-2);
  if (!last) return null;
  if (PASSWORD_WORDS.has(last)) return 'a password';
  if (last === 'token' || (last.endsWith('token') && TOKEN_PREFIXES.has(last.slice(0, -'token'.length)))) return 'a token';
  if (last === 'secret' || last === 'clientsecret') return 'a secret';
  if (last === 'key' && before && KEY_QUALIFIERS[before]) return KEY_QUALIFIERS[before]!;
  if (last === 'apikey') return 'an API key';
  if (last === 'accesskey') return 'an access key';
  if (last === 'secretkey') return 'a secret key';
  if (last === 'privatekey') return 'a private key';
  if (CREDENTIAL_WORDS.has(last)) return 'a credential';
  return null;
}

/** Whether a string given to a secret-looking name is plainly not a secret. */
export function isPlaceholderValue(raw: string, formatted: boolean): boolean {
  let value = raw.trim();
  // `Bearer <token>`: judge the token.
  const scheme = /^(?:bearer|basic|token)\s+(\S+)$/i.exec(value);
  if (scheme) value = scheme[1]!;
  if (value.length < 6) return true;
  // The secret is in the f-string's fields (`f"Bearer {token}"`), not written here.
  if (formatted && value.includes('{}')) return true;
  // Prose: a prompt or a help text.
  if (/\s/.test(value)) return true;
  if (/<[^<>]*>|\$\{[^}]*\}|\{\{.*\}\}|%\([^)]*\)s|^\$[A-Za-z_]\w*$/.test(value)) return true;
  if (/x{3,}|\*{3,}|\.{3}|…/i.test(value) || /^(.)\1+$/.test(value)) return true;
  const lower = value.toLowerCase();
  if (NON_SECRET_VALUES.has(lower)) return true;
  const letters = lower.replace(/[^a-z0-9]/g, '');
  if (PLACEHOLDER_WORDS.some((word) => letters.includes(word))) return true;
  // The name of a secret, not a secret: `"access_token"`, `"OPENAI_API_KEY"`, `"password"`.
  if (/^[A-Za-z_][\w-]*$/.test(value) && secretKindOfName(value)) return true;
  if (/^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$/.test(value)) return true;
  // A path, a URL (a password in it is caught by its format), or a file holding the secret.
  if (/^(?:\.{0,2}\/|~|[A-Za-z]:[\\/])/.test(value) || /^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return true;
  if (/^[\w.-]+\.(?:txt|json|ya?ml|pem|key|env|cfg|ini|toml|pkl|csv|p12|pfx|crt)$/i.test(value)) return true;
  return false;
}

function isPlaceholderPassword(password: string): boolean {
  if (/[{}<>$%*]/.test(password)) return true;
  const lower = password.toLowerCase();
  if (['password', 'passwd', 'pass', 'pwd', 'secret', 'changeme'].includes(lower)) return true;
  return /x{3,}/i.test(password) || /^(.)\1*$/.test(password) || PLACEHOLDER_WORDS.some((word) => lower.includes(word));
}

/** The first token of a known format in `text`, with where it is. */
function findToken(text: string): { format: TokenFormat; from: number; to: number } | null {
  let best: { format: TokenFormat; from: number; to: number } | null = null;
  for (const format of TOKEN_FORMATS) {
    format.pattern.lastIndex = 0;
    for (let match = format.pattern.exec(text); match; match = format.pattern.exec(text)) {
      if (match[0].length === 0) format.pattern.lastIndex++;
      else if (!isPlaceholderToken(match[0]) && (format.accept?.(match) ?? true)) {
        if (!best || match.index < best.from) best = { format, from: match.index, to: match.index + match[0].length };
        break;
      }
    }
  }
  return best;
}

function isPlaceholderToken(token: string): boolean {
  return /x{4,}|example/i.test(token) || /(.)\1{7,}/.test(token);
}

/** A string literal given to a name: `name = "…"`, `f(name="…")`, `{"name": "…"}`, `x["name"] = "…"`. */
interface NamedString {
  name: string;
  /** The environment variable to suggest: `DB_PASSWORD`, `OPENAI_API_KEY` for `openai.api_key`. */
  env: string;
  value: Span;
}

/** The string literals a cell gives to names (from its facts), with the variable to suggest. */
function namedStrings(facts: CellFacts): NamedString[] {
  const found: NamedString[] = [];
  for (const named of facts.namedValues) {
    if (named.value.kind !== 'string') continue;
    const env = named.kind === 'attribute' && named.qualifier ? `${named.qualifier}_${named.name}` : named.name;
    found.push({ name: named.name, env: envName(env), value: named.value.span });
  }
  return found;
}

/** `dbPassword` → `DB_PASSWORD`, `X-API-Key` → `X_API_KEY`. */
function envName(name: string): string {
  const env = name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .toUpperCase();
  return /^[A-Z_]/.test(env) ? env : `_${env}`;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

const ROTATE = "and rotate it: it is in the notebook's history and in every copy that was shared.";

export const hardcodedSecret: Rule = {
  id: 'hardcoded-secret',
  defaultSeverity: 'warning',
  summary: 'A password, token or key written into the code.',
  help: 'Move the secret to an environment variable or a secrets manager, read it with os.environ, and rotate it.',
  appliesTo: ['notebook', 'script'],
  check({ model, target, report }) {
    const where = target.kind === 'notebook' ? 'this cell' : 'this file';
    // What a cell reports depends on that cell alone: kept per cell across edits of the others.
    for (const { cell } of model.codeCells()) {
      for (const finding of model.perCell(`hardcoded-secret:${where}`, cell, (facts) => secretsIn(cell, facts, where))) report(finding);
    }
  },
};

function secretsIn(cell: number, facts: CellFacts, where: string): Reported[] {
  const found: Reported[] = [];
  const report = (finding: Reported): void => {
    found.push(finding);
  };
  const named = namedStrings(facts);
  const nameAt = new Map<number, NamedString>();
  for (const entry of named) if (!nameAt.has(entry.value.from)) nameAt.set(entry.value.from, entry);

  for (const literal of facts.strings) {
    const name = nameAt.get(literal.span.from);
    const nameKind = name ? secretKindOfName(name.name) : null;
    const token = findToken(literal.value);
    if (token) {
      const env = nameKind && name ? name.env : token.format.env;
      const into = name && nameKind ? ` (given to \`${name.name}\`)` : '';
      report({ cell, span: literal.span, message: `${capitalize(token.format.kind)} is written in ${where}${into}: ${advice(env)}` });
    } else if (name && nameKind && !isPlaceholderValue(literal.value, literal.formatted)) {
      report({ cell, span: literal.span, message: `${capitalize(nameKind)} is written into \`${name.name}\`: ${advice(name.env)}` });
    }
  }

  for (const magic of facts.magics) checkMagic({ report }, cell, facts.source, magic, where);
  // The body of a %%bash (or other non-Python) cell.
  if (!facts.isPython) {
    const bodyFrom = facts.source.indexOf('\n') + 1;
    if (bodyFrom > 0) reportTokensIn({ report }, cell, facts.source, bodyFrom, facts.source.length, where);
  }
  return found;
}

function advice(env: string): string {
  return `move it to an environment variable or a secrets manager and read it with \`os.environ["${env}"]\`, ${ROTATE}`;
}

function shellAdvice(env: string): string {
  return `set it in the environment before starting Jupyter (or a secrets manager) and write \`$${env}\` in the command, ${ROTATE}`;
}

type Reporter = Pick<RuleContext, 'report'>;
type Reported = Parameters<RuleContext['report']>[0];

function checkMagic(context: Reporter, cell: number, source: string, magic: { kind: string; command: string; from: number; to: number; commandFrom: number }, where: string): void {
  const from = source.indexOf(magic.command, magic.commandFrom);
  if (from < 0) return;
  if (reportTokensIn(context, cell, source, from, from + magic.command.length, where)) return;
  // %env DB_PASSWORD=hunter2 / %set_env DB_PASSWORD hunter2
  const env = /^(env|set_env)\s+([A-Za-z_]\w*)(?:\s*=\s*|\s+)(\S.*)$/.exec(magic.command);
  if (magic.kind !== 'line' || !env) return;
  const [, , name, value] = env as unknown as [string, string, string, string];
  const kind = secretKindOfName(name);
  const clean = value.trim().replace(/^(['"])(.*)\1$/, '$2');
  if (!kind || isPlaceholderValue(clean, false)) return;
  const valueFrom = source.indexOf(value.trim(), from + env[1]!.length + name.length);
  if (valueFrom < 0) return;
  context.report({
    cell,
    span: { from: valueFrom, to: valueFrom + value.trim().length },
    message: `${capitalize(kind)} is written into \`${name}\` in ${where}: set it in the environment before starting Jupyter (or load it from a secrets manager) instead, ${ROTATE}`,
  });
}

/** Reports the first known-format token in `source[from, to)`; whether there was one. */
function reportTokensIn(context: Reporter, cell: number, source: string, from: number, to: number, where: string): boolean {
  const token = findToken(source.slice(from, to));
  if (!token) return false;
  context.report({
    cell,
    span: { from: from + token.from, to: from + token.to },
    message: `${capitalize(token.format.kind)} is written in a shell or magic command in ${where}: ${shellAdvice(token.format.env)}`,
  });
  return true;
}
