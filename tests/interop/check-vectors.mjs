// Feeds every vector in tests/Auth0.Runtime.Tests/Vectors/nextjs-auth0-cookies.json
// through `node decrypt.mjs` (exactly as the .NET tests call it) and checks the
// result: the recorded payload for "valid", null for "expired"/"invalid".
//
// Usage (from tests/interop): node check-vectors.mjs
import { spawnSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const vectorFile = path.resolve(here, "../Auth0.Runtime.Tests/Vectors/nextjs-auth0-cookies.json");
const { vectors } = JSON.parse(await readFile(vectorFile, "utf8"));

function runDecrypt(input) {
  const r = spawnSync(process.execPath, [path.join(here, "decrypt.mjs")], {
    input: JSON.stringify(input),
    encoding: "utf8"
  });
  if (r.status !== 0) {
    throw new Error(`decrypt.mjs exited ${r.status}: ${r.stderr}`);
  }
  return JSON.parse(r.stdout).payload;
}

let passed = 0;
let failed = 0;
function check(label, actual, expected) {
  if (JSON.stringify(actual) === JSON.stringify(expected)) {
    passed++;
    console.log(`ok   ${label}`);
  } else {
    failed++;
    console.log(`FAIL ${label}\n     got:      ${JSON.stringify(actual)}\n     expected: ${JSON.stringify(expected)}`);
  }
}

const now = Math.floor(Date.now() / 1000);
for (const v of vectors) {
  const payload = runDecrypt({ secret: v.secret, cookies: v.cookies, cookieName: v.cookieName });
  let expected;
  if (v.expect === "valid") expected = v.payload;
  else if (v.expect === "time-dependent") expected = now - 15 < v.payload.exp ? v.payload : null;
  else expected = null;
  check(`${v.name} (${v.expect})`, payload, expected);
}

// Extra checks on the package's reading rules, through the same script.
const chunked = vectors.find((v) => v.name === "chunked-session");
const reversed = Object.fromEntries(Object.entries(chunked.cookies).reverse());
check("chunked-session, chunks in reverse order", runDecrypt({ secret: chunked.secret, cookies: reversed }), chunked.payload);
const { __session__1: _dropped, ...missing } = chunked.cookies;
check("chunked-session, missing middle chunk -> null", runDecrypt({ secret: chunked.secret, cookies: missing }), null);

const small = vectors.find((v) => v.name === "small-session");
check(
  "unchunked __session wins over stray chunks",
  runDecrypt({ secret: small.secret, cookies: { ...small.cookies, __session__0: "garbage" } }),
  small.payload
);

const txn = vectors.find((v) => v.name === "transaction");
const txnValue = txn.cookies[txn.cookieName];
check(
  "transaction, legacy bare JWE without <ts>: prefix",
  runDecrypt({ secret: txn.secret, cookies: { [txn.cookieName]: txnValue.slice(txnValue.indexOf(":") + 1) }, cookieName: txn.cookieName }),
  txn.payload
);
check(
  "transaction, wrong state in cookie name -> null",
  runDecrypt({ secret: txn.secret, cookies: txn.cookies, cookieName: "__txn_other-state" }),
  null
);
check("no cookie at all -> null", runDecrypt({ secret: small.secret, cookies: {} }), null);

console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed === 0 ? 0 : 1;
