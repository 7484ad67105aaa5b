// The baseline for listing runs: read and JSON.parse every run file, sort by start time, print
// JSON. No validation, no index — the least a tool without an index must do.
const fs = require('node:fs');
const path = require('node:path');
const dir = path.join(process.argv[2], 'runs');
const runs = fs
  .readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')))
  .sort((a, b) => (a.startedAt < b.startedAt ? 1 : -1))
  .map((r) => ({ id: r.id, name: r.name, status: r.status, startedAt: r.startedAt, metrics: r.metrics }));
process.stdout.write(JSON.stringify({ runs }) + '\n');
