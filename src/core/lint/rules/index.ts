/** Every lint rule, in the order they are listed in docs and SARIF. */
import type { Rule } from '../rule';
import { absolutePath } from './absolutePath';
import { dataLeakage } from './dataLeakage';
import { outOfOrderExecution, unexecutedCell } from './executionOrder';
import { hardcodedSecret } from './hardcodedSecret';
import { missingRequirements } from './missingRequirements';
import { modifiedAfterRun } from './modifiedAfterRun';
import { runtimeDownload } from './runtimeDownload';
import { syntaxError } from './syntaxError';
import { undefinedName } from './undefinedName';
import { unpinnedInstall } from './unpinnedInstall';
import { unseededRandom } from './unseededRandom';
import { unversionedData } from './unversionedData';

export const ALL_RULES: readonly Rule[] = [
  syntaxError,
  unseededRandom,
  unversionedData,
  absolutePath,
  outOfOrderExecution,
  unexecutedCell,
  undefinedName,
  modifiedAfterRun,
  unpinnedInstall,
  missingRequirements,
  dataLeakage,
  hardcodedSecret,
  runtimeDownload,
];
