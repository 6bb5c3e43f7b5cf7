// A node --test reporter for `node scripts/test.mjs --save-durations`: one JSON line per
// top-level test, with its file (relative to the repository, as scripts/test.mjs names it)
// and its duration; scripts/test.mjs sums them per file into scripts/test-durations.json.
import { relative } from 'node:path';

export default async function* durations(source) {
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const { file, nesting, details } = event.data;
    if (nesting !== 0 || !file) continue;
    yield `${JSON.stringify({ file: relative(process.cwd(), file).replace(/\\/g, '/'), ms: details?.duration_ms ?? 0 })}\n`;
  }
}
