#!/usr/bin/env node
// Validate GS1 Digital Link URIs with GS1's own digital-link.js (version pinned in package.json).
//
// Reads one URI per line on stdin; writes one JSON line per URI:
//   {"uri": "...", "valid": true|false, "error": null|"..."}
// Exit status: 0 if every URI is valid, 1 if any is not, 2 on a usage error.
//
// A URI counts as valid only if DigitalLink(uri).isValid() holds (ABNF grammar plus the
// key's check digit) AND the library re-encodes it to the same string. isValid() checks the
// re-encoded form, so without the second test a URI the library silently rewrote (for
// instance reordered query attributes) would pass while the printed text went unchecked.
'use strict';

const readline = require('readline');
const { DigitalLink } = require('digital-link.js');

function check(uri) {
  let dl;
  try {
    dl = DigitalLink(uri);
  } catch (e) {
    return { uri, valid: false, error: `not parseable: ${e.message}` };
  }
  let reencoded;
  try {
    reencoded = dl.toWebUriString();
  } catch (e) {
    return { uri, valid: false, error: `not encodable: ${e.message}` };
  }
  if (!dl.isCheckDigitValid()) {
    return { uri, valid: false, error: 'wrong check digit in the primary key' };
  }
  if (!dl.isValid()) {
    const trace = dl.getValidationTrace();
    const last = trace.trace && trace.trace.length ? trace.trace[trace.trace.length - 1] : null;
    const where = last ? ` after "${last.match}" at "${last.remainder}"` : '';
    return { uri, valid: false, error: `rejected by the GS1 Digital Link grammar${where}` };
  }
  if (reencoded !== uri) {
    return { uri, valid: false, error: `not in canonical form; the validator reads it as ${reencoded}` };
  }
  return { uri, valid: true, error: null };
}

function main() {
  if (process.argv.length > 2) {
    process.stderr.write('usage: node scripts/validate_dl.js < uris.txt\n');
    process.exit(2);
  }
  let allValid = true;
  const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  rl.on('line', (line) => {
    const uri = line.trim();
    if (!uri) return;
    const result = check(uri);
    allValid = allValid && result.valid;
    process.stdout.write(`${JSON.stringify(result)}\n`);
  });
  rl.on('close', () => process.exit(allValid ? 0 : 1));
}

main();
