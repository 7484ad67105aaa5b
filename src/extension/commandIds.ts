/** Every command the extension contributes. A unit test checks this against package.json. */
export const COMMANDS = {
  refreshRuns: 'nb2prod.refreshRuns',
  showRun: 'nb2prod.showRun',
  diffRuns: 'nb2prod.diffRuns',
  showLog: 'nb2prod.showLog',
  trackRun: 'nb2prod.trackRun',
  trackRunWithParameters: 'nb2prod.trackRunWithParameters',
  replayRun: 'nb2prod.replayRun',
  compareRuns: 'nb2prod.compareRuns',
  showDrift: 'nb2prod.showDrift',
  checkReadiness: 'nb2prod.checkReadiness',
  refreshRegistry: 'nb2prod.refreshRegistry',
  openModelCard: 'nb2prod.openModelCard',
  registerModel: 'nb2prod.registerModel',
  promoteModel: 'nb2prod.promoteModel',
  approveModel: 'nb2prod.approveModel',
  rollbackModel: 'nb2prod.rollbackModel',
  generateService: 'nb2prod.generateService',
  openExperiments: 'nb2prod.openExperiments',
  openRunsAsTable: 'nb2prod.openRunsAsTable',
  openMonitor: 'nb2prod.openMonitor',
} as const;

export type CommandId = (typeof COMMANDS)[keyof typeof COMMANDS];

export const VIEWS = {
  runs: 'nb2prod.runs',
  registry: 'nb2prod.registry',
} as const;

/** View type of the run and diff page panels (also used by the panel serializer). */
export const RUN_PANEL_VIEW_TYPE = 'nb2prod.runPage';

/** View type of the Compare panel (also used by its serializer). */
export const COMPARE_PANEL_VIEW_TYPE = 'nb2prod.compare';

/** View type of the Drift panel (also used by its serializer). */
export const DRIFT_PANEL_VIEW_TYPE = 'nb2prod.drift';

/** View type of the readiness checklist panel (also used by its serializer). */
export const READINESS_PANEL_VIEW_TYPE = 'nb2prod.readiness';

/** View type of the experiments table (also used by its serializer). */
export const EXPERIMENTS_PANEL_VIEW_TYPE = 'nb2prod.experiments';

/** View type of the Monitor panel (also used by its serializer). */
export const MONITOR_PANEL_VIEW_TYPE = 'nb2prod.monitor';
