/**
 * Promotion gates and approval requirements: the `[registry]` section of the project
 * configuration (nb2prod.toml, or `[tool.nb2prod.registry]` in pyproject.toml), and their
 * evaluation (pure: the caller loads the runs).
 *
 *   [registry.gates]
 *   metric = "roc_auc"
 *   direction = "higher"              # or "lower" (e.g. a loss); default "higher"
 *   minimum = 0.75                    # and/or maximum = …
 *   min_improvement = 0.005           # absolute, in the metric's good direction, over the holder
 *   min_relative_improvement = 0.01   # relative to the holder's value
 *   min_runs = 3                      # repeated runs (same group) behind the candidate
 *   significance = 0.05               # Holm-adjusted p (candidate vs holder runs) must be below
 *   aliases = ["champion"]            # the aliases gated; default: every alias
 *   live_traffic = { service = "production", min_pairs = 100 }   # challenger not worse in shadow
 *   [registry.gates.guardrails]
 *   latency_ms = { max_increase = 5 }
 *   f1_small_customers = { max_decrease = 0.01 }
 *   [registry.approvals]
 *   required_roles = ["validator"]
 *   aliases = ["champion"]            # default: every alias
 */
import path from 'node:path';
import type { RunEnvelope } from '../envelope';
import { UserError } from '../errors';
import { isTable, loadProjectConfig, sectionName } from '../project/config';
import { describeSample } from '../stats/describe';
import { compareRuns } from '../stats/compare';
import { distinctRuns } from '../stats/repeats';
import { sameActor, sharedIdentity } from './actor';
import { APPROVAL_ROLES, type ApprovalRole, type Check } from './events';
import type { ModelVersion } from './fold';

export interface Guardrail {
  metric: string;
  /** Largest allowed rise of the candidate's mean over the holder's (e.g. latency). */
  maxIncrease: number | null;
  /** Largest allowed fall (e.g. a subgroup's recall). */
  maxDecrease: number | null;
}

export interface GateConfig {
  metric: string | null;
  direction: 'higher' | 'lower';
  minimum: number | null;
  maximum: number | null;
  minImprovement: number | null;
  minRelativeImprovement: number | null;
  minRuns: number | null;
  significance: number | null;
  guardrails: Guardrail[];
  /** The aliases this applies to; null: every alias. */
  aliases: string[] | null;
  /**
   * "Challenger not worse on live traffic": the candidate must be the challenger a generated
   * service runs in shadow, and its per-request loss on the labelled requests both models scored
   * must not be worse than the champion's by more than `margin` (upper end of the 95% interval).
   */
  liveTraffic: LiveTrafficGate | null;
}

export interface LiveTrafficGate {
  /** The generated service's folder (absolute). */
  service: string;
  /** Its state folder (absolute; null: SERVICE/var). */
  state: string | null;
  minPairs: number;
  /** Largest allowed rise of the loss (error rate, or absolute error); null: 0.005 of the error rate, or 1% of the champion's mean absolute error. */
  margin: number | null;
}

export interface ApprovalConfig {
  requiredRoles: ApprovalRole[];
  aliases: string[] | null;
}

export interface RegistryConfig {
  gates: GateConfig | null;
  approvals: ApprovalConfig;
}

export const NO_REGISTRY_CONFIG: RegistryConfig = { gates: null, approvals: { requiredRoles: [], aliases: null } };

function invalid(origin: string, what: string): UserError {
  return new UserError('invalid-config', `${origin}: ${what}.`);
}

function numberOrNull(table: Record<string, unknown>, key: string, origin: string, check?: (n: number) => boolean, expected = 'a number'): number | null {
  const value = table[key];
  if (value === undefined) return null;
  if (typeof value !== 'number' || !Number.isFinite(value) || (check && !check(value))) throw invalid(origin, `\`${key}\` must be ${expected}`);
  return value;
}

function aliasList(table: Record<string, unknown>, origin: string): string[] | null {
  const value = table.aliases;
  if (value === undefined) return null;
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw invalid(origin, '`aliases` must be a list of alias names');
  return value as string[];
}

function onlyKeys(table: Record<string, unknown>, keys: readonly string[], origin: string): void {
  for (const key of Object.keys(table)) if (!keys.includes(key)) throw invalid(origin, `unknown key \`${key}\` (expected ${keys.map((k) => `\`${k}\``).join(', ')})`);
}

/**
 * Validates the `registry` section. `origin` names it for messages, e.g. `nb2prod.toml [registry]`.
 */
export function parseRegistryConfig(section: unknown, origin: string, baseDir: string = process.cwd()): RegistryConfig {
  if (section === undefined) return NO_REGISTRY_CONFIG;
  if (!isTable(section)) throw invalid(origin, 'must be a table');
  onlyKeys(section, ['gates', 'approvals'], origin);
  let gates: GateConfig | null = null;
  if (section.gates !== undefined) {
    const g = section.gates;
    const at = `${origin} gates`;
    if (!isTable(g)) throw invalid(at, 'must be a table');
    onlyKeys(g, ['metric', 'direction', 'minimum', 'maximum', 'min_improvement', 'min_relative_improvement', 'min_runs', 'significance', 'guardrails', 'aliases', 'live_traffic'], at);
    let liveTraffic: LiveTrafficGate | null = null;
    if (g.live_traffic !== undefined) {
      const live = g.live_traffic;
      const where = `${at} live_traffic`;
      if (!isTable(live) || typeof live.service !== 'string' || !live.service) throw invalid(where, 'must be { service = "SERVICE_DIR" } (and optionally state, min_pairs, margin)');
      onlyKeys(live, ['service', 'state', 'min_pairs', 'margin'], where);
      if (live.state !== undefined && typeof live.state !== 'string') throw invalid(where, '`state` must be a folder');
      liveTraffic = {
        service: path.resolve(baseDir, live.service),
        state: typeof live.state === 'string' ? path.resolve(baseDir, live.state) : null,
        minPairs: numberOrNull(live, 'min_pairs', where, (n) => Number.isInteger(n) && n >= 2, 'a whole number ≥ 2') ?? 100,
        margin: numberOrNull(live, 'margin', where, (n) => n >= 0, 'a number ≥ 0'),
      };
    }
    if (g.metric !== undefined && (typeof g.metric !== 'string' || !g.metric)) throw invalid(at, '`metric` must be a metric name');
    if (g.direction !== undefined && g.direction !== 'higher' && g.direction !== 'lower') throw invalid(at, '`direction` must be "higher" or "lower"');
    const guardrails: Guardrail[] = [];
    if (g.guardrails !== undefined) {
      if (!isTable(g.guardrails)) throw invalid(at, '`guardrails` must be a table of metric = { max_increase = N } or { max_decrease = N }');
      for (const [metric, rule] of Object.entries(g.guardrails)) {
        const where = `${at} guardrail \`${metric}\``;
        if (!isTable(rule)) throw invalid(where, 'must be { max_increase = N } or { max_decrease = N }');
        onlyKeys(rule, ['max_increase', 'max_decrease'], where);
        const nonNegative = (n: number) => n >= 0;
        const maxIncrease = numberOrNull(rule, 'max_increase', where, nonNegative, 'a number ≥ 0');
        const maxDecrease = numberOrNull(rule, 'max_decrease', where, nonNegative, 'a number ≥ 0');
        if (maxIncrease === null && maxDecrease === null) throw invalid(where, 'needs max_increase or max_decrease');
        guardrails.push({ metric, maxIncrease, maxDecrease });
      }
    }
    const metric = typeof g.metric === 'string' ? g.metric : null;
    const needsMetric = ['minimum', 'maximum', 'min_improvement', 'min_relative_improvement', 'min_runs', 'significance'].filter((k) => g[k] !== undefined);
    if (!metric && needsMetric.length) throw invalid(at, `\`${needsMetric[0]}\` needs \`metric\` (the metric the gate is about)`);
    gates = {
      metric,
      direction: g.direction === 'lower' ? 'lower' : 'higher',
      minimum: numberOrNull(g, 'minimum', at),
      maximum: numberOrNull(g, 'maximum', at),
      minImprovement: numberOrNull(g, 'min_improvement', at),
      minRelativeImprovement: numberOrNull(g, 'min_relative_improvement', at),
      minRuns: numberOrNull(g, 'min_runs', at, (n) => Number.isInteger(n) && n >= 1, 'a whole number ≥ 1'),
      significance: numberOrNull(g, 'significance', at, (n) => n > 0 && n < 1, 'between 0 and 1 (e.g. 0.05)'),
      guardrails,
      aliases: aliasList(g, at),
      liveTraffic,
    };
  }
  const approvals: ApprovalConfig = { requiredRoles: [], aliases: null };
  if (section.approvals !== undefined) {
    const a = section.approvals;
    const at = `${origin} approvals`;
    if (!isTable(a)) throw invalid(at, 'must be a table');
    onlyKeys(a, ['required_roles', 'aliases'], at);
    if (a.required_roles !== undefined) {
      const roles = a.required_roles;
      if (!Array.isArray(roles) || !roles.every((r) => (APPROVAL_ROLES as readonly unknown[]).includes(r))) {
        throw invalid(at, `\`required_roles\` must be a list of ${APPROVAL_ROLES.map((r) => `"${r}"`).join(', ')}`);
      }
      approvals.requiredRoles = [...new Set(roles as ApprovalRole[])];
    }
    approvals.aliases = aliasList(a, at);
  }
  return { gates, approvals };
}

export function appliesTo(aliases: string[] | null, alias: string): boolean {
  return aliases === null || aliases.includes(alias);
}

/** One side of a gate: a version and the runs behind it (its run, or its group's runs). */
export interface GateSide {
  label: string;
  version: number;
  runs: RunEnvelope[];
}

export interface GateResult {
  passed: boolean;
  checks: Check[];
}

function fmt(n: number): string {
  if (n === 0) return '0';
  const abs = Math.abs(n);
  return abs >= 1000 || abs < 0.001 ? n.toPrecision(4) : String(Number(n.toFixed(4)));
}

function signed(n: number): string {
  return `${n >= 0 ? '+' : ''}${fmt(n)}`;
}

/** The metric over the side's successful runs, an exact duplicate (same code, params, seeds, data) counted once. */
function values(side: GateSide, metric: string): number[] {
  return distinctRuns(side.runs.filter((r) => r.status === 'succeeded')).distinct.filter((r) => r.metrics[metric]).map((r) => r.metrics[metric]!.value);
}

function describeSide(side: GateSide, metric: string): { n: number; mean: number | null; text: string } {
  const xs = values(side, metric);
  const summary = describeSample(xs);
  const text = summary.mean === null ? `${side.label}: no ${metric}` : `${side.label} ${fmt(summary.mean)}${xs.length > 1 ? ` (mean of ${xs.length} runs)` : ''}`;
  return { n: xs.length, mean: summary.mean, text };
}

/**
 * Evaluates the gate for `candidate` replacing `holder` (the version holding the alias now, or
 * null). Values are means over the successful runs behind each version. Checks against the holder
 * are skipped when there is none (or it is the candidate itself).
 */
export function evaluateGate(config: GateConfig, candidate: GateSide, holder: GateSide | null): GateResult {
  const checks: Check[] = [];
  const against = holder && holder.version !== candidate.version ? holder : null;
  const noHolder = holder ? `v${holder.version} is the candidate itself: nothing to compare with` : 'no version holds the alias yet: nothing to compare with';
  const metric = config.metric;
  if (metric) {
    const cand = describeSide(candidate, metric);
    const sign = config.direction === 'higher' ? 1 : -1;
    if (config.minimum !== null) {
      checks.push(cand.mean === null
        ? { name: `minimum ${metric}`, status: 'fail', detail: `the candidate has no ${metric}` }
        : { name: `minimum ${metric}`, status: cand.mean >= config.minimum ? 'pass' : 'fail', detail: `${cand.text} ${cand.mean >= config.minimum ? '≥' : '<'} minimum ${fmt(config.minimum)}` });
    }
    if (config.maximum !== null) {
      checks.push(cand.mean === null
        ? { name: `maximum ${metric}`, status: 'fail', detail: `the candidate has no ${metric}` }
        : { name: `maximum ${metric}`, status: cand.mean <= config.maximum ? 'pass' : 'fail', detail: `${cand.text} ${cand.mean <= config.maximum ? '≤' : '>'} maximum ${fmt(config.maximum)}` });
    }
    if (config.minRuns !== null) {
      checks.push({ name: 'min runs', status: cand.n >= config.minRuns ? 'pass' : 'fail', detail: `${cand.n} successful run${cand.n === 1 ? '' : 's'} with ${metric} behind the candidate; ${config.minRuns} required` });
    }
    const wantsHolder = config.minImprovement !== null || config.minRelativeImprovement !== null || config.significance !== null;
    if (wantsHolder && !against) {
      for (const name of ['min improvement', 'min relative improvement', 'significance']) {
        const key = { 'min improvement': config.minImprovement, 'min relative improvement': config.minRelativeImprovement, significance: config.significance }[name];
        if (key !== null) checks.push({ name, status: 'skip', detail: noHolder });
      }
    } else if (wantsHolder && against) {
      const hold = describeSide(against, metric);
      const gain = cand.mean !== null && hold.mean !== null ? sign * (cand.mean - hold.mean) : null;
      const missing = cand.mean === null ? 'the candidate' : `v${against.version}`;
      if (config.minImprovement !== null) {
        checks.push(gain === null
          ? { name: 'min improvement', status: 'fail', detail: `${missing} has no ${metric}` }
          : { name: 'min improvement', status: gain >= config.minImprovement ? 'pass' : 'fail', detail: `${cand.text} vs ${hold.text}: improvement ${signed(gain)}, ${fmt(config.minImprovement)} required` });
      }
      if (config.minRelativeImprovement !== null) {
        if (gain === null || hold.mean === null) checks.push({ name: 'min relative improvement', status: 'fail', detail: `${missing} has no ${metric}` });
        else if (hold.mean === 0) checks.push({ name: 'min relative improvement', status: 'fail', detail: `v${against.version}'s ${metric} is 0: a relative improvement is undefined` });
        else {
          const relative = gain / Math.abs(hold.mean);
          checks.push({ name: 'min relative improvement', status: relative >= config.minRelativeImprovement ? 'pass' : 'fail', detail: `improvement ${signed(relative * 100)}% of ${fmt(hold.mean)}, ${fmt(config.minRelativeImprovement * 100)}% required` });
        }
      }
      if (config.significance !== null) checks.push(significanceCheck(config.significance, sign, metric, candidate, against, cand.n, hold.n));
    }
  }
  for (const rail of config.guardrails) checks.push(guardrailCheck(rail, candidate, against, noHolder));
  return { passed: checks.every((c) => c.status !== 'fail'), checks };
}

function significanceCheck(alpha: number, sign: number, metric: string, candidate: GateSide, holder: GateSide, nCand: number, nHold: number): Check {
  const name = 'significance';
  if (nCand < 2 || nHold < 2) {
    return { name, status: 'fail', detail: `needs at least 2 runs with ${metric} on each side to estimate the noise (candidate ${nCand}, v${holder.version} ${nHold})` };
  }
  const comparison = compareRuns(
    [
      { label: holder.label, runs: holder.runs },
      { label: candidate.label, runs: candidate.runs },
    ],
    { baseline: 0, metrics: [metric], confidence: 1 - alpha },
  );
  const d = comparison.metrics[0]!.differences[0]!;
  if (d.pAdjusted === null || d.estimate === null) return { name, status: 'fail', detail: `no test was possible: ${d.reason}` };
  const better = sign * d.estimate > 0;
  const interval = d.interval ? `, ${fmt((1 - alpha) * 100)}% interval [${signed(d.interval[0])}, ${signed(d.interval[1])}]` : '';
  const test = d.test === 'paired-t' ? `paired t (${d.pairedBy})` : "Welch's t";
  const pass = better && d.pAdjusted < alpha;
  const why = !better ? ' (not in the better direction)' : '';
  return { name, status: pass ? 'pass' : 'fail', detail: `difference ${signed(d.estimate)}${interval}, ${test}, Holm-adjusted p = ${d.pAdjusted.toPrecision(3)} ${d.pAdjusted < alpha ? '<' : '≥'} ${alpha}${why}` };
}

function guardrailCheck(rail: Guardrail, candidate: GateSide, holder: GateSide | null, noHolder: string): Check {
  const name = `guardrail ${rail.metric}`;
  const cand = describeSide(candidate, rail.metric);
  if (cand.mean === null) return { name, status: 'fail', detail: `the candidate has no ${rail.metric}, so the guardrail cannot be checked` };
  if (!holder) return { name, status: 'skip', detail: noHolder };
  const hold = describeSide(holder, rail.metric);
  if (hold.mean === null) return { name, status: 'skip', detail: `v${holder.version} has no ${rail.metric}: nothing to compare with` };
  const change = cand.mean - hold.mean;
  const problems: string[] = [];
  if (rail.maxIncrease !== null && change > rail.maxIncrease) problems.push(`rises by more than ${fmt(rail.maxIncrease)}`);
  if (rail.maxDecrease !== null && -change > rail.maxDecrease) problems.push(`falls by more than ${fmt(rail.maxDecrease)}`);
  const limits = [rail.maxIncrease !== null ? `max increase ${fmt(rail.maxIncrease)}` : '', rail.maxDecrease !== null ? `max decrease ${fmt(rail.maxDecrease)}` : ''].filter(Boolean).join(', ');
  return { name, status: problems.length ? 'fail' : 'pass', detail: `${cand.text} vs ${hold.text}: change ${signed(change)} (${limits})${problems.length ? `: ${problems.join(' and ')}` : ''}` };
}

/**
 * The approvals a promotion needs: one per required role, and the separation rule — someone
 * other than the person who registered the version must have approved it.
 */
export function evaluateApprovals(config: ApprovalConfig, version: ModelVersion): Check[] {
  if (!config.requiredRoles.length) return [];
  const checks: Check[] = config.requiredRoles.map((role) => {
    const by = [...new Set(version.approvals.filter((a) => a.role === role).map((a) => a.by))];
    return by.length
      ? { name: `approval ${role}`, status: 'pass', detail: `approved by ${by.join(', ')}` }
      : { name: `approval ${role}`, status: 'fail', detail: `no ${role} has approved v${version.version} (nb2prod registry approve ${version.model} ${version.version} --role ${role})` };
  });
  // Independent: not the registrant by name, by OS account on the same host, or by git email
  // (the recorded identities, not only the typed name: see actor.ts).
  const registrant = version.registeredActor;
  const independent = [...new Set(version.approvals.filter((a) => !sameActor(a.actor, registrant)).map((a) => a.by))];
  const sameAs = version.approvals.filter((a) => sameActor(a.actor, registrant));
  let failure = `nobody has approved v${version.version}`;
  if (sameAs.length) {
    const name = (s: string) => s.trim().toLowerCase();
    const others = sameAs.filter((a) => name(a.by) !== name(registrant.by));
    const names = [...new Set(others.map((a) => a.by))];
    failure = others.length
      ? `the approval${names.length > 1 ? 's' : ''} by ${names.join(', ')} ${names.length > 1 ? 'were' : 'was'} made with ${sharedIdentity(others[0]!.actor, registrant)} as ${version.registeredBy}, who registered v${version.version}: someone else must approve it`
      : `the only approver is ${version.registeredBy}, who registered v${version.version}: someone else must approve it`;
  }
  checks.push(independent.length
    ? { name: 'separation of duties', status: 'pass', detail: `approved by ${independent.join(', ')}, not only by ${version.registeredBy} who registered it` }
    : { name: 'separation of duties', status: 'fail', detail: failure });
  return checks;
}

/** The registry section of the project configuration governing `dir` (defaults without one). */
export function loadRegistryConfig(dir: string): RegistryConfig {
  const project = loadProjectConfig(dir);
  if (!project.file) return parseRegistryConfig(undefined, '');
  return parseRegistryConfig(project.sections.registry, `${project.file} ${sectionName(project, 'registry')}`, project.baseDir ?? dir);
}
