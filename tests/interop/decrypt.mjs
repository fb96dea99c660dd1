// Reads one JSON object from stdin:
//   {"secret": "...", "cookies": {"name": "decoded value", ...}, "cookieName": "__session"}
// and writes one JSON object to stdout:
//   {"payload": <decrypted payload or null>}
//
// Reading is done by @auth0/nextjs-auth0 itself: getChunkedCookie (reassembles
// `<name>__0..n` chunks) + decrypt for session cookies, TransactionStore.get
// (strips the "<ts>:" prefix) for `__txn_<state>` cookies. Exits 0 whenever the
// input could be processed, even if the payload is null.
//
// The package's decrypt returns null only for ERR_JWE_DECRYPTION_FAILED,
// ERR_JWT_EXPIRED and ERR_JWE_INVALID and rethrows anything else (e.g. a JWE
// whose plaintext is not a JSON object, or an unsupported alg/enc). Such a
// rethrown error is reported as {"payload": null, "error": {"code", "message"}}
// (still exit 0): the package would not accept that cookie either, it would
// fail the request instead of treating the cookie as absent.
import { readCookie } from "./lib.mjs";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const input = JSON.parse(Buffer.concat(chunks).toString("utf8"));

if (typeof input.secret !== "string" || input.cookies === null || typeof input.cookies !== "object") {
  throw new Error('input must be {"secret": string, "cookies": {name: value}, "cookieName"?: string}');
}

let output;
try {
  const result = await readCookie(input.secret, input.cookies, input.cookieName ?? "__session");
  output = { payload: result ? result.payload : null };
} catch (e) {
  if (typeof e?.code !== "string" || !e.code.startsWith("ERR_J")) throw e; // not a jose error: real crash
  output = { payload: null, error: { code: e.code, message: e.message } };
}
process.stdout.write(JSON.stringify(output) + "\n");
