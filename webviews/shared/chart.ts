/**
 * Draws a vega-lite spec in a page under a strict CSP: compiled in the page, run by vega with the
 * expression interpreter (no eval) and the canvas renderer (no inline styles), coloured from the
 * current theme. The container gets `data-rendered="true"` once drawn (tests wait on it) and
 * `data-theme` with the theme kind it was drawn in.
 *
 * Readable by default: at most ~5 ticks on nice numbers (a 0.014 range gets 0.765, 0.770, …,
 * not fifteen gridlines), labels not cut short, and a categorical palette that stays distinct
 * for colour-blind readers (Okabe–Ito, ordered per theme so the first colours have contrast on
 * the background; high-contrast themes use the theme's own chart colours, which are chosen for
 * it). Pages redraw through `drawChart` again when the theme changes (shared/host.ts).
 */
import { parse, View } from 'vega';
import { expressionInterpreter } from 'vega-interpreter';
import { compile, type TopLevelSpec } from 'vega-lite';
import { el } from './dom';

export type ThemeClass = 'light' | 'dark' | 'high-contrast' | 'high-contrast-light';

/** The theme kind from the body class VS Code sets (vscode-light, vscode-dark, vscode-high-contrast, vscode-high-contrast-light). */
export function currentTheme(): ThemeClass {
  const classes = document.body.classList;
  if (classes.contains('vscode-high-contrast-light')) return 'high-contrast-light';
  if (classes.contains('vscode-high-contrast')) return 'high-contrast';
  if (classes.contains('vscode-dark')) return 'dark';
  return 'light';
}

// Okabe & Ito (2008), distinguishable with the common colour-vision deficiencies. On a light
// background yellow and sky blue come last (little contrast); on a dark one, dark blue does.
const OKABE_ITO = { orange: '#E69F00', sky: '#56B4E9', green: '#009E73', yellow: '#F0E442', blue: '#0072B2', vermillion: '#D55E00', purple: '#CC79A7' };
const LIGHT = [OKABE_ITO.blue, OKABE_ITO.vermillion, OKABE_ITO.green, OKABE_ITO.purple, OKABE_ITO.orange, OKABE_ITO.sky, '#666666'];
const DARK = [OKABE_ITO.sky, OKABE_ITO.orange, OKABE_ITO.green, OKABE_ITO.purple, OKABE_ITO.yellow, OKABE_ITO.vermillion, '#BBBBBB'];

/** Point shapes that go with the colours, so groups differ by more than hue. */
export const SHAPES = ['circle', 'square', 'triangle-up', 'diamond', 'cross', 'triangle-down', 'wedge'];

export function palette(theme: ThemeClass = currentTheme()): string[] {
  if (theme === 'high-contrast' || theme === 'high-contrast-light') {
    const css = getComputedStyle(document.body);
    const names = ['--vscode-charts-blue', '--vscode-charts-orange', '--vscode-charts-green', '--vscode-charts-purple', '--vscode-charts-yellow', '--vscode-charts-red'];
    const fromTheme = names.map((n) => css.getPropertyValue(n).trim()).filter(Boolean);
    return fromTheme.length >= 3 ? fromTheme : theme === 'high-contrast' ? DARK : LIGHT;
  }
  return theme === 'dark' ? DARK : LIGHT;
}

export async function drawChart(container: HTMLElement, spec: TopLevelSpec): Promise<View | undefined> {
  try {
    const theme = currentTheme();
    const themed = { ...spec, background: null, config: themeConfig(theme) } as unknown as TopLevelSpec;
    const runtime = parse(compile(themed).spec, undefined, { ast: true });
    container.replaceChildren();
    const view = new View(runtime, { expr: expressionInterpreter, renderer: 'canvas', container, hover: true });
    await view.runAsync();
    container.dataset.rendered = 'true';
    container.dataset.theme = theme;
    container.dataset.foreground = foregroundColour();
    return view;
  } catch (error) {
    container.replaceChildren(el('p', { className: 'error' }, `The chart could not be drawn: ${error instanceof Error ? error.message : String(error)}`));
    return undefined;
  }
}

function foregroundColour(): string {
  return getComputedStyle(document.body).getPropertyValue('--vscode-foreground').trim() || getComputedStyle(document.body).color;
}

function themeConfig(theme: ThemeClass): Record<string, unknown> {
  const css = getComputedStyle(document.body);
  const color = (name: string, fallback: string) => css.getPropertyValue(name).trim() || fallback;
  const foreground = foregroundColour() || (theme === 'dark' || theme === 'high-contrast' ? '#ccc' : '#333');
  const muted = color('--vscode-descriptionForeground', foreground);
  const grid = color('--vscode-editorWidget-border', '#8884');
  const font = css.getPropertyValue('--vscode-font-family').trim() || 'sans-serif';
  const fontSize = Number.parseFloat(css.getPropertyValue('--vscode-font-size')) || 13;
  return {
    font,
    axis: {
      labelColor: foreground,
      titleColor: foreground,
      gridColor: grid,
      gridOpacity: 0.6,
      domainColor: grid,
      tickColor: grid,
      labelFontSize: fontSize - 1,
      titleFontSize: fontSize,
      titleFontWeight: 'normal',
      // Room for a label rather than an ellipsis after 180 px.
      labelLimit: 400,
      labelOverlap: true,
    },
    axisQuantitative: { tickCount: 5, labelFlush: true },
    legend: { labelColor: foreground, titleColor: foreground, labelFontSize: fontSize - 1, titleFontSize: fontSize, labelLimit: 400, symbolStrokeWidth: 2 },
    title: { color: foreground },
    text: { color: foreground, font, fontSize: fontSize - 1 },
    view: { stroke: null },
    range: { category: palette(theme) },
    rule: { color: foreground },
    tick: { color: foreground },
    point: { color: muted },
  };
}
