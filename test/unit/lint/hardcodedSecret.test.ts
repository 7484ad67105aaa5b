import { describe, expect, it } from 'vitest';
import { hardcodedSecret } from '../../../src/core/lint/rules/hardcodedSecret';
import { flagged, lintNotebook, lintScript, where } from './lintHelpers';

// Assembled at run time so this file holds no token a secret scanner would flag.
const GITHUB = 'ghp_' + 'A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8';
const AWS = 'AKIA' + 'Z7Q4W2M9T5R8K3L6';
const OPENAI = 'sk-' + 'proj-Ab3dEf6hIj9kLm2nOp5qRs8t';
const HF = 'hf_' + 'AbCdEfGhIjKlMnOpQrStUvWxYz012345';
const SLACK = 'xoxb-' + '123456789012-abcdefABCDEF';
const GOOGLE = 'AIza' + 'SyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q';
const STRIPE = 'sk_live_' + '51Hx7b2C3d4E5f6G7h8I9j0';
const JWT = 'eyJ' + 'hbGciOiJIUzI1NiJ9.eyJ' + 'zdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U';
const PRIVATE_KEY = '-----BEGIN RSA ' + 'PRIVATE KEY-----\\nMIIEowIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM4e9vNQ1cbb5X0pDs8Rmh2Kk7gS\\n-----END RSA PRIVATE KEY-----';

function secrets(cells: string[]) {
  return lintNotebook([hardcodedSecret], cells);
}

describe('hardcoded-secret', () => {
  it('reports a password assigned to a name, pointing at the literal, without repeating it', () => {
    const result = secrets(['import psycopg2\ndb_password = "hunter2!x"\nconn = psycopg2.connect(password=db_password)']);
    expect(where(result)).toEqual(['0:1:14 hardcoded-secret']);
    const finding = result.findings[0]!;
    expect(flagged(result, finding)).toBe('"hunter2!x"');
    expect(finding.severity).toBe('warning');
    expect(finding.message).toBe(
      'A password is written into `db_password`: move it to an environment variable or a secrets manager and read it with `os.environ["DB_PASSWORD"]`, ' +
        "and rotate it: it is in the notebook's history and in every copy that was shared.",
    );
    expect(finding.message).not.toContain('hunter2');
    expect(finding.fixes).toEqual([]);
  });

  it('reports secrets in keyword arguments, dict entries, attributes, subscripts, defaults and class bodies', () => {
    const result = secrets([
      'client = OpenAI(api_key="Zq81!pLm0rT")',
      'config = {"user": "admin", "password": "s3cr3t-pw"}',
      'import openai\nopenai.api_key = "Zq81!pLm0rT"',
      'import os\nos.environ["HF_TOKEN"] = "tok3n-value-9"',
      'def connect(user, passwd="letmein99"):\n    pass',
      'class Settings:\n    SECRET_KEY = "dj4ng0-s3cr3t"\n    apiKey: str = "abc123def456"',
    ]);
    expect(result.findings.map((f) => flagged(result, f))).toEqual([
      '"Zq81!pLm0rT"',
      '"s3cr3t-pw"',
      '"Zq81!pLm0rT"',
      '"tok3n-value-9"',
      '"letmein99"',
      '"dj4ng0-s3cr3t"',
      '"abc123def456"',
    ]);
    expect(result.findings[0]!.message).toMatch(/^An API key is written into `api_key`: .*os\.environ\["API_KEY"\]/);
    expect(result.findings[2]!.message).toMatch(/os\.environ\["OPENAI_API_KEY"\]/);
    expect(result.findings[3]!.message).toMatch(/^A token is written into `HF_TOKEN`/);
    expect(result.findings[5]!.message).toMatch(/^A secret key is written into `SECRET_KEY`/);
  });

  it('reports tokens of a known format whatever the name, naming the kind', () => {
    const cases: Array<[string, string]> = [
      [GITHUB, 'A GitHub token'],
      [AWS, 'An AWS access key'],
      [OPENAI, 'An OpenAI-style API key'],
      [HF, 'A Hugging Face token'],
      [SLACK, 'A Slack token'],
      [GOOGLE, 'A Google API key'],
      [STRIPE, 'A Stripe key'],
      [JWT, 'A JSON Web Token'],
      [PRIVATE_KEY, 'A private key'],
    ];
    for (const [token, kind] of cases) {
      const result = secrets([`value = "${token}"\nprint(value)`]);
      expect(result.findings, kind).toHaveLength(1);
      const finding = result.findings[0]!;
      expect(flagged(result, finding)).toBe(`"${token}"`);
      expect(finding.message.startsWith(`${kind} is written in this cell:`), finding.message).toBe(true);
      expect(finding.message).not.toContain(token);
      expect(finding.message).not.toContain(token.slice(4, 16));
    }
  });

  it('names the variable of a token assigned to a secret name and suggests it as the environment variable', () => {
    const result = secrets([`GITHUB_TOKEN = "${GITHUB}"`]);
    expect(result.findings[0]!.message).toMatch(/^A GitHub token is written in this cell \(given to `GITHUB_TOKEN`\): .*os\.environ\["GITHUB_TOKEN"\]/);
  });

  it('reports a URL with a password, but not one whose password is a placeholder or an f-string field', () => {
    const result = secrets([
      'engine = create_engine("postgresql://analyst:Tr0ub4dor@db.internal:5432/sales")',
      'a = create_engine("postgresql://analyst:<password>@db.internal/sales")\n' +
        'b = create_engine(f"postgresql://{user}:{pw}@db.internal/sales")\n' +
        'c = create_engine("postgresql://analyst:${DB_PASSWORD}@db/sales")\n' +
        'd = "https://user:password@example.org/x"\n' +
        'e = "https://api.example.org/v1/data?limit=10"',
    ]);
    expect(where(result)).toEqual(['0:0:23 hardcoded-secret']);
    expect(result.findings[0]!.message).toMatch(/^A password in a URL is written in this cell: .*DATABASE_URL/);
    expect(result.findings[0]!.message).not.toContain('Tr0ub4dor');
  });

  it('reports tokens in shell escapes and magics, pointing at the token', () => {
    const result = secrets([
      `!huggingface-cli login --token ${HF}`,
      `%env OPENAI_API_KEY=${OPENAI}`,
      '%env DB_PASSWORD=hunter2pw',
      `%%bash\ngit clone https://${GITHUB}@github.com/acme/private.git`,
    ]);
    expect(result.findings.map((f) => flagged(result, f))).toEqual([HF, OPENAI, 'hunter2pw', GITHUB]);
    expect(result.findings[0]!.message).toMatch(/^A Hugging Face token is written in a shell or magic command in this cell: .*`\$HF_TOKEN`/);
    expect(result.findings[2]!.message).toMatch(/^A password is written into `DB_PASSWORD`/);
    for (const finding of result.findings) expect(finding.message).not.toMatch(/hunter2pw|hf_Ab|sk-proj|ghp_/);
  });

  it('does not report secrets read from the environment, prompts, placeholders or empty values', () => {
    const result = secrets([
      'import os\nfrom getpass import getpass\npassword = os.environ["DB_PASSWORD"]\ntoken = os.getenv("HF_TOKEN")\napi_key = getpass()',
      'token = None\napi_key = ""\nsecret = "abc"\npassword = "password"\nPASSWORD = "********"',
      'api_key = "<your key>"\nOPENAI_API_KEY = "your_api_key_here"\ntoken = "xxxxxxxxxxxxxxxx"\npwd = "changeme"\nauth = "${AUTH}"',
      'prompt_password = input("Enter your password: ")\npassword = input("Password for the warehouse: ")',
      'headers = {"Authorization": f"Bearer {token}"}\nurl = f"https://x.org/api?token={token}"',
      'TOKEN_ENV = "HF_TOKEN"\naccess_token = "ACCESS_TOKEN"\ngrant = {"token": "access_token"}\nauth = "bearer"',
      'password_file = "secrets/db_password.txt"\ntoken_path = "~/.cache/token"\ncredentials = "credentials.json"',
      `aws = {"aws_access_key_id": "AKIAIOSFODNN7EXAMPLE"}\nopenai_key = "sk-xxxxxxxxxxxxxxxxxxxxxxxx"`,
    ]);
    expect(where(result)).toEqual([]);
  });

  it('does not report names that only contain a secret word, hashes, or long base64 data', () => {
    const result = secrets([
      'tokenizer = "bert-base-uncased"\ntokens = "a b c d e f"\nauthor = "Jane Q. Public"\ntoken_url = "https://auth.example.org/oauth/token"',
      'secret_santa = ["ana", "bo"]\nsecret_name = ["prod/db"]\nkey = "sepal_length_cm"\npassword_hash_algorithm = "argon2id"',
      'data_hash = "3f79bb7b435b05321651daefd374cdc681dc06faa65e374e38337b88ca046dea"',
      'img = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="',
      'model = "sk-learn-pipeline-defaults-v2"\nrepo = "hf_hub_download_cache_directory_x"',
      'if password == "":\n    raise ValueError("no password")',
    ]);
    expect(where(result)).toEqual([]);
  });

  it('lints scripts, and can be suppressed on the line', () => {
    const script = lintScript([hardcodedSecret], 'API_TOKEN = "t0k3n-for-tests"\nDB_PASSWORD = "pw-for-tests"  # nb2prod: ignore[hardcoded-secret]\n');
    expect(where(script)).toEqual(['0:0:12 hardcoded-secret']);
    expect(script.findings[0]!.message).toMatch(/^A token is written into `API_TOKEN`/);
  });
});
