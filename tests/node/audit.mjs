// The graphql-http server audit (GraphQL over HTTP spec conformance) against a live memberkey.
// Prints one JSON line per audit; exits non-zero if any audit is not ok.
// Usage: node audit.mjs <graphql-url>
import { auditServer } from 'graphql-http';

const [url] = process.argv.slice(2);
const results = await auditServer({ url });
let failed = 0;
for (const r of results) {
  if (r.status !== 'ok') failed += 1;
  console.log(
    JSON.stringify({ name: r.name, status: r.status, reason: r.status === 'ok' ? null : r.reason }),
  );
}
console.log(JSON.stringify({ total: results.length, failed }));
process.exit(failed ? 1 : 0);
