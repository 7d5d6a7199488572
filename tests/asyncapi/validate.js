// Validates an AsyncAPI document with the AsyncAPI Initiative's own parser (npm @asyncapi/parser).
// Usage: node validate.js FILE — prints every diagnostic, exits 1 if any is an error.
const fs = require('fs');
const { Parser } = require('@asyncapi/parser');

(async () => {
  const text = fs.readFileSync(process.argv[2], 'utf8');
  const { document, diagnostics } = await new Parser().parse(text);
  const severities = ['error', 'warning', 'info', 'hint'];
  for (const d of diagnostics) {
    console.log(`${severities[d.severity]}: ${d.code}: ${d.message} at /${d.path.join('/')}`);
  }
  const errors = diagnostics.filter((d) => d.severity === 0).length;
  if (!document || errors > 0) {
    console.log(`invalid: ${errors} error(s)`);
    process.exit(1);
  }
  console.log('valid');
})().catch((error) => {
  console.error(error);
  process.exit(2);
});
