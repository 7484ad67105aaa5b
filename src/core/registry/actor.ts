/**
 * Who is acting, for the registry. `by` is what people read: `--by`, else `git config
 * user.email`, else the login name. `--by` is free text, so beside it the registry records the
 * identities the person did not type — the OS account (and host) running nb2prod and git's
 * user.email — and separation of duties compares those too: typing someone else's name does not
 * make an approval independent.
 */
import { execFile } from 'node:child_process';
import os from 'node:os';
import { promisify } from 'node:util';

const exec = promisify(execFile);

export interface Actor {
  /** The name recorded as `by`. */
  by: string;
  /** The OS account that ran nb2prod (from the system's user database, not the environment); null when unknown. */
  osUser: string | null;
  /** The host it ran on. */
  host: string | null;
  /** `git config user.email` where it ran; null without git or without an email. */
  gitEmail: string | null;
}

/** The OS account and host of this process (tests inject others through `resolveActor`). */
export interface SystemIdentity {
  osUser: string | null;
  host: string | null;
  /** When given, used instead of asking git. */
  gitEmail?: string | null;
}

export function systemIdentity(): SystemIdentity {
  let osUser: string | null = null;
  try {
    osUser = os.userInfo().username || null;
  } catch {
    osUser = null;
  }
  return { osUser, host: os.hostname() || null };
}

/**
 * The acting person. `git` false (an untrusted workspace) does not run git. Only USER/USERNAME
 * is ever read from the environment, and only as the display name of last resort.
 */
export async function resolveActor(
  explicit: string | undefined,
  cwd: string,
  env: Record<string, string | undefined>,
  options: { git?: boolean; system?: SystemIdentity } = {},
): Promise<Actor> {
  const system = options.system ?? systemIdentity();
  let gitEmail: string | null = system.gitEmail ?? null;
  if (options.git !== false && system.gitEmail === undefined) {
    try {
      const { stdout } = await exec('git', ['config', 'user.email'], { cwd, timeout: 5000 });
      gitEmail = stdout.trim() || null;
    } catch {
      // not a git user, or git is not installed
    }
  }
  const typed = explicit?.trim();
  const fromEnv = (env.USER ?? env.USERNAME)?.trim();
  const by = typed || gitEmail || fromEnv || system.osUser || 'unknown';
  return { by, osUser: system.osUser, host: system.host, gitEmail };
}

/** An actor for a name alone (API callers that pass a string): no identity beyond the name. */
export function actorOf(by: string | Actor): Actor {
  return typeof by === 'string' ? { by, osUser: null, host: null, gitEmail: null } : by;
}

/** What the registry stores beside `by` (null when nothing is known beyond the name). */
export function recordedIdentity(actor: Actor): { osUser: string | null; host: string | null; gitEmail: string | null } | null {
  return actor.osUser === null && actor.host === null && actor.gitEmail === null ? null : { osUser: actor.osUser, host: actor.host, gitEmail: actor.gitEmail };
}

/**
 * Whether two recorded actors may be the same person: the same name (case and spaces aside), the
 * same OS account on the same host, or the same git email. Identities that were not recorded
 * (older events) are not compared.
 */
export function sameActor(a: Actor, b: Actor): boolean {
  const name = (s: string) => s.trim().toLowerCase();
  if (name(a.by) === name(b.by)) return true;
  if (a.osUser && b.osUser && a.host && b.host && a.osUser === b.osUser && a.host === b.host) return true;
  if (a.gitEmail && b.gitEmail && name(a.gitEmail) === name(b.gitEmail)) return true;
  return false;
}

/** How to say which identity two actors share, for a check's detail. */
export function sharedIdentity(a: Actor, b: Actor): string {
  if (a.by.trim().toLowerCase() === b.by.trim().toLowerCase()) return `the same name (${a.by})`;
  if (a.osUser && a.osUser === b.osUser && a.host === b.host) return `the same OS account (${a.osUser} on ${a.host})`;
  return `the same git email (${a.gitEmail})`;
}
