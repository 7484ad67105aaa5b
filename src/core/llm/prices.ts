/**
 * What an LLM call cost: the price table shipped in the repo (prices.json: dated, versioned, with
 * its source) merged with the project's `[llm.prices]` overrides, the match of a returned model
 * name to its entry (a dated snapshot is priced as its family), and the cost of one call's tokens.
 *
 *   # nb2prod.toml
 *   [llm.prices]                                  # US dollars per million tokens
 *   "gpt-4o" = { input = 2.5, cached_input = 1.25, output = 10 }
 *   "llama3.1:8b" = { input = 0, output = 0 }     # a local model: free, not unknown
 *
 * The envelope records the version of the table used (with `+config` and the overridden models
 * when the project changed it), so a cost can always be traced to the prices behind it.
 */
import shipped from './prices.json';
import { invalidConfig, isTable, type ProjectConfig, sectionName } from '../project/config';

export interface ModelPrice {
  /** Dollars per million input tokens (uncached). */
  input: number;
  /** Per million input tokens read from the provider's prompt cache (default: input). */
  cachedInput?: number;
  /** Per million input tokens written to the prompt cache (Anthropic; default: input). */
  cacheWrite?: number;
  /** Per million output tokens (reasoning tokens included). */
  output: number;
}

export interface PriceTable {
  version: string;
  asOf: string;
  models: Record<string, ModelPrice>;
  /** Models whose price the project's configuration set. */
  overridden: string[];
}

export const SHIPPED_PRICES: PriceTable = { version: shipped.version, asOf: shipped.asOf, models: shipped.models as Record<string, ModelPrice>, overridden: [] };

const KEYS: Record<string, keyof ModelPrice> = { input: 'input', cached_input: 'cachedInput', cache_write: 'cacheWrite', output: 'output' };

/** The shipped table with the project's `[llm.prices]` applied. */
export function priceTableFor(config: ProjectConfig): PriceTable {
  const llm = config.sections.llm;
  if (llm === undefined) return SHIPPED_PRICES;
  const origin = `${config.file ?? 'nb2prod.toml'} ${sectionName(config, 'llm')}`;
  if (!isTable(llm)) throw invalidConfig(origin, 'must be a table');
  const unknown = Object.keys(llm).filter((k) => k !== 'prices');
  if (unknown.length) throw invalidConfig(origin, `unknown key${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (known: prices)`);
  const prices = llm.prices;
  if (prices === undefined) return SHIPPED_PRICES;
  if (!isTable(prices)) throw invalidConfig(`${origin.replace(/\]$/, '.prices]')}`, 'must be a table of models');
  const models: Record<string, ModelPrice> = { ...SHIPPED_PRICES.models };
  const overridden: string[] = [];
  for (const [model, entry] of Object.entries(prices)) {
    const where = `${origin.replace(/\]$/, '.prices]')} "${model}"`;
    if (!isTable(entry)) throw invalidConfig(where, 'must be a table such as { input = 2.5, output = 10 } (dollars per million tokens)');
    const price: Partial<ModelPrice> = { ...(models[model] ?? {}) };
    for (const [key, value] of Object.entries(entry)) {
      const field = KEYS[key];
      if (!field) throw invalidConfig(where, `unknown key ${key} (known: ${Object.keys(KEYS).join(', ')})`);
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw invalidConfig(where, `${key} must be a number of dollars per million tokens ≥ 0`);
      price[field] = value;
    }
    if (price.input === undefined || price.output === undefined) throw invalidConfig(where, 'needs input and output (dollars per million tokens)');
    models[model] = price as ModelPrice;
    overridden.push(model);
  }
  return { version: overridden.length ? `${SHIPPED_PRICES.version}+config` : SHIPPED_PRICES.version, asOf: SHIPPED_PRICES.asOf, models, overridden: overridden.sort() };
}

const SNAPSHOT_SUFFIX = /-(?:\d{4}-\d{2}-\d{2}|\d{8}|latest)$/;

/**
 * The table's entry for a model name: the name itself, else without a provider prefix
 * (`openai/gpt-4o` through a router), else its family without the dated snapshot suffix
 * (`gpt-4o-2024-08-06` → `gpt-4o`, `claude-sonnet-4-5-20250929` → `claude-sonnet-4-5`,
 * `claude-3-5-haiku-latest` → `claude-3-5-haiku`). Only a date or `-latest` is ever dropped, so
 * `gpt-4o-mini` is never priced as `gpt-4o`.
 */
export function findPrice(table: PriceTable, model: string | null | undefined): { key: string; price: ModelPrice } | null {
  if (!model) return null;
  const names = [model];
  const slash = model.lastIndexOf('/');
  if (slash >= 0) names.push(model.slice(slash + 1));
  for (const name of [...names]) if (SNAPSHOT_SUFFIX.test(name)) names.push(name.replace(SNAPSHOT_SUFFIX, ''));
  for (const name of names) {
    const price = Object.hasOwn(table.models, name) ? table.models[name] : undefined;
    if (price) return { key: name, price };
  }
  return null;
}

export interface TokenUsage {
  /** Every input token, cached ones included (the OpenTelemetry GenAI convention). */
  input: number | null;
  output: number | null;
  cacheRead: number | null;
  cacheCreation: number | null;
}

/** Dollars for one call; null when its tokens are unknown. */
export function callCost(price: ModelPrice, usage: TokenUsage): number | null {
  if (usage.input === null || usage.output === null) return null;
  const cached = Math.min(usage.cacheRead ?? 0, usage.input);
  const created = Math.min(usage.cacheCreation ?? 0, usage.input - cached);
  const uncached = usage.input - cached - created;
  const dollars = uncached * price.input + cached * (price.cachedInput ?? price.input) + created * (price.cacheWrite ?? price.input) + usage.output * price.output;
  return dollars / 1e6;
}
