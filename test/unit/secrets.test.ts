/** What counts as a secret of a run, and how it is replaced (src/core/capture/secrets.ts). */
import { describe, expect, it } from 'vitest';
import { isSecretEnvName, isSecretParamName, MASK, Redactor, redactParams, runSecrets, urlPasswords } from '../../src/core/capture/secrets';

describe('isSecretEnvName', () => {
  it.each([
    'OPENAI_API_KEY', 'AWS_SECRET_ACCESS_KEY', 'AWS_ACCESS_KEY_ID', 'GITHUB_TOKEN', 'HF_TOKEN', 'AWS_SESSION_TOKEN', 'PGPASSWORD', 'MYSQL_PWD',
    'DB_PASSWD', 'SENTRY_DSN', 'NPM_CONFIG__AUTH', 'GOOGLE_APPLICATION_CREDENTIALS', 'AZURE_CLIENT_SECRET', 'apiKey', 'SESSION_COOKIE',
    'SMTP_PASS', 'SLACK_BOT_TOKEN', 'MY_SERVICE_TOKEN', 'WANDB_API_KEY', 'KEY', 'MLFLOW_TRACKING_PASSWORD', 'AUTHORIZATION',
  ])('%s is secret', (name) => expect(isSecretEnvName(name)).toBe(true));

  it.each(['PWD', 'OLDPWD', 'SSH_AUTH_SOCK', 'PATH', 'HOME', 'TOKENIZERS_PARALLELISM', 'KEYRING_BACKEND', 'PYTHONHASHSEED', 'MONKEY_PATCH', 'LANG', 'CUDA_VISIBLE_DEVICES', 'DATABASE_URL', 'USER'])(
    '%s is not',
    (name) => expect(isSecretEnvName(name)).toBe(false),
  );
});

describe('isSecretParamName', () => {
  it.each(['api_key', 'api-key', 'apiKey', 'password', 'db_password', 'access_token', 'token', 'client_secret', 'db_dsn', 'smtp_pass', 'credentials'])('%s is secret', (name) =>
    expect(isSecretParamName(name)).toBe(true),
  );
  // A false positive costs a replay the value: the narrow rule.
  it.each(['sort_key', 'key_column', 'max_tokens', 'tokenizer', 'epochs', 'lr', 'RandomForestClassifier.max_depth', 'passes'])('%s is not', (name) =>
    expect(isSecretParamName(name)).toBe(false),
  );
});

describe('urlPasswords', () => {
  it('finds the password of a URL, raw and decoded', () => {
    expect(urlPasswords('postgresql://app:p%40ss-word9@db:5432/x and https://host/path')).toEqual(['p%40ss-word9', 'p@ss-word9']);
    expect(urlPasswords('https://user@host/x')).toEqual([]);
  });
});

describe('runSecrets', () => {
  it('takes the values of secret variables and URL passwords from the environment, never other values', () => {
    const { redactor } = runSecrets({ env: { OPENAI_API_KEY: 'sk-abcdef123456', DATABASE_URL: 'postgres://u:hunter22x@db/x', HOME: '/home/me', NB2PROD_EVENTS: '/x', EMPTY_TOKEN: '' } });
    expect([...redactor.values].sort()).toEqual(['hunter22x', 'sk-abcdef123456']);
  });

  it('replaces secret arguments in the command, in every spelling, and redacts their values', () => {
    const { command, redactor } = runSecrets({
      env: {},
      command: ['python', 'train.py', '--api-key', 'K-123456', '--password=P-123456', 'token=T-123456', '--sort-key', 'date', '--db', 'mysql://u:D-123456@h/x', '--api-token', '--lr', '0.1'],
    });
    expect(command).toEqual(['python', 'train.py', '--api-key', MASK, `--password=${MASK}`, `token=${MASK}`, '--sort-key', 'date', '--db', `mysql://u:${MASK}@h/x`, '--api-token', '--lr', '0.1']);
    expect([...redactor.values].sort()).toEqual(['D-123456', 'K-123456', 'P-123456', 'T-123456']);
  });

  it('takes the values of secret -p params', () => {
    const { redactor } = runSecrets({ env: {}, params: { api_key: 'k-7654321', epochs: 3, url: 'https://u:pw-998877@x' } });
    expect([...redactor.values].sort()).toEqual(['k-7654321', 'pw-998877']);
  });
});

describe('Redactor', () => {
  const redactor = new Redactor(['s3cr<e>t"\\x', 'abc123xyz', 'short']);

  it('replaces a value as is and in its JSON, HTML, backslash and URL forms', () => {
    expect(redactor.text('a abc123xyz b')).toBe(`a ${MASK} b`);
    expect(redactor.text('json "s3cr<e>t\\"\\\\x"')).toBe(`json "${MASK}"`);
    expect(redactor.text('<b>s3cr&lt;e&gt;t&quot;\\x</b>')).toBe(`<b>${MASK}</b>`);
    expect(redactor.text("repr 's3cr<e>t\"\\\\x'")).toBe(`repr '${MASK}'`);
    expect(redactor.text(`q=${encodeURIComponent('s3cr<e>t"\\x')}`)).toBe(`q=${MASK}`);
  });

  it('does not search for values shorter than 6 characters', () => {
    expect(redactor.text('a short text')).toBe('a short text');
  });

  it('walks JSON values, keys included, and keeps the fields it is told to keep', () => {
    const value = { message: 'abc123xyz', list: ['x abc123xyz'], nested: { abc123xyz: 1 }, sha256: 'ffabc123xyz', n: 3 };
    expect(redactor.deep(value, (key) => key === 'sha256')).toEqual({ message: MASK, list: [`x ${MASK}`], nested: { [MASK]: 1 }, sha256: 'ffabc123xyz', n: 3 });
  });

  it('replaces params with secret names whatever their value, and secret values in the others', () => {
    expect(redactParams({ api_key: 'x', password: null, note: 'key abc123xyz', lr: 0.1 }, redactor)).toEqual({ api_key: MASK, password: null, note: `key ${MASK}`, lr: 0.1 });
  });
});
