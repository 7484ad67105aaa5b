/**
 * Draws a vega-lite spec in a page under a strict CSP: compiled in the page, run by vega with the
 * expression interpreter (no eval) and the canvas renderer (no inline styles), coloured from the
 * theme's CSS variables. The container gets `data-rendered="true"` once drawn (tests wait on it).
 */
import { parse, View } from 'vega';
import { expressionInterpreter } from 'vega-interpreter';
import { compile, type TopLevelSpec } from 'vega-lite';
import { el } from './dom';

export async function drawChart(container: HTMLElement, spec: TopLevelSpec): Promise<View | undefined> {
  try {
    const themed = { ...spec, background: null, config: themeConfig() } as unknown as TopLevelSpec;
    const runtime = parse(compile(themed).spec, undefined, { ast: true });
    const view = new View(runtime, { expr: expressionInterpreter, renderer: 'canvas', container, hover: true });
    await view.runAsync();
    container.dataset.rendered = 'true';
    return view;
  } catch (error) {
    container.replaceChildren(el('p', { className: 'error' }, `The chart could not be drawn: ${error instanceof Error ? error.message : String(error)}`));
    return undefined;
  }
}

function themeConfig(): Record<string, unknown> {
  const css = getComputedStyle(document.body);
  const color = (name: string, fallback: string) => css.getPropertyValue(name).trim() || fallback;
  const foreground = color('--vscode-foreground', '#333');
  const grid = color('--vscode-editorWidget-border', '#8884');
  return {
    font: css.getPropertyValue('--vscode-font-family').trim() || 'sans-serif',
    axis: { labelColor: foreground, titleColor: foreground, gridColor: grid, domainColor: grid, tickColor: grid },
    legend: { labelColor: foreground, titleColor: foreground },
    view: { stroke: null },
    range: {
      category: ['--vscode-charts-blue', '--vscode-charts-orange', '--vscode-charts-green', '--vscode-charts-purple', '--vscode-charts-red', '--vscode-charts-yellow'].map((name, i) =>
        color(name, ['#3794ff', '#d18616', '#89d185', '#b180d7', '#f14c4c', '#cca700'][i]!),
      ),
    },
    rule: { color: foreground },
    tick: { color: foreground },
  };
}
