/** Entry of the bundled lint benchmark (see lintSpeed in run.ts): prints the figures as JSON. */
import { measureLintSpeed } from './lintSpeed';

process.stdout.write(`${JSON.stringify(measureLintSpeed(1_000))}\n`);
