/**
 * The promotion gate's "challenger not worse on live traffic" (`[registry.gates] live_traffic`):
 * the candidate must be the challenger the generated service runs in shadow (its sha256 in
 * service/deployment.json), and on the requests both models scored whose label arrived, the
 * challenger's per-request loss (0/1 error, or absolute error) must not exceed the champion's by
 * more than the margin — judged on the upper end of the 95% interval of the paired difference
 * (the compare statistics' paired t-test), so too few labels fail rather than pass.
 */
import type { Check } from '../registry/events';
import type { ModelVersion } from '../registry/fold';
import type { LiveTrafficGate } from '../registry/gates';
import { loadMonitorConfig } from './config';
import { monitorService } from './monitor';
import { loadService } from './service';

const fmt = (n: number | null | undefined) => (n === null || n === undefined ? '—' : Number(n.toPrecision(3)).toString());

export async function liveTrafficCheck(gate: LiveTrafficGate, candidate: ModelVersion): Promise<Check> {
  const name = 'live traffic';
  let service;
  try {
    service = await loadService(gate.service, gate.state);
  } catch (error) {
    return { name, status: 'fail', detail: `the service ${gate.service} cannot be read: ${(error as Error).message}` };
  }
  const challenger = service.challenger;
  if (!challenger || challenger.sha256 !== candidate.file.sha256) {
    return {
      name,
      status: 'fail',
      detail: `v${candidate.version} has not run on live traffic: ${challenger ? `the challenger of ${service.name} is another file (sha256 ${challenger.sha256.slice(0, 12)}…)` : `${service.name} runs no challenger`}; deploy it first (nb2prod registry deploy ${gate.service} --mode shadow)`,
    };
  }
  if (challenger.mode !== 'shadow') return { name, status: 'fail', detail: `v${candidate.version} runs as a ${challenger.mode}: only shadow mode scores the same requests with both models (deploy it with --mode shadow)` };
  const result = await monitorService(service, { windowMs: 86_400_000, since: null, config: loadMonitorConfig(service.root) });
  const c = result.comparison;
  if (!c || c.labelledPairs < gate.minPairs) {
    return { name, status: 'fail', detail: `${c?.labelledPairs ?? 0} labelled requests scored by both models (${c?.pairs ?? 0} in all); min_pairs ${gate.minPairs}` };
  }
  const margin = gate.margin ?? (service.task === 'classification' ? 0.005 : 0.01 * (c.championValue ?? 0));
  const high = c.interval?.[1] ?? null;
  const pass = high !== null && high <= margin;
  return {
    name,
    status: pass ? 'pass' : 'fail',
    detail: `${c.metric} on ${c.labelledPairs} labelled requests both scored: challenger ${fmt(c.challengerValue)}, champion ${fmt(c.championValue)}; difference ${fmt(c.difference)}, 95% interval [${fmt(c.interval?.[0])}, ${fmt(high)}] ${pass ? '≤' : '>'} margin ${fmt(margin)} (paired t-test, agreement ${c.agreement === null ? '—' : `${(c.agreement * 100).toFixed(1)}%`})`,
  };
}
