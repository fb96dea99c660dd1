// Reads an Auth0.Minimal session Cookie header on stdin, decrypts it with @auth0/nextjs-auth0 (proving the SDK
// accepts it), writes the same session back through the SDK's own StatelessSessionStore.set (encrypt +
// setChunkedCookie) and prints the Cookie header a browser would send back for each, as JSON.
//
//   AUTH0_SECRET=... node cookie-bytes.mjs < cookie-header.txt
import { cookies, requestCookies, StatelessSessionStore } from "./nextjs-auth0.mjs";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const ours = Buffer.concat(chunks).toString("utf8").trim();

const store = new StatelessSessionStore({ secret: process.env.AUTH0_SECRET });
const session = await store.get(requestCookies(ours));
if (!session) throw new Error("nextjs-auth0 could not read the Auth0.Minimal session cookie");

const out = new Headers();
await store.set(requestCookies(), new cookies.ResponseCookies(out), session);
const theirs = out
  .getSetCookie()
  .map((c) => c.split(";")[0])
  .filter((pair) => !pair.endsWith("="))
  .join("; ");

const json = JSON.stringify({ user: session.user, tokenSet: session.tokenSet, internal: session.internal });
console.log(JSON.stringify({
  sessionJsonBytes: Buffer.byteLength(json),
  ours: { bytes: Buffer.byteLength(ours), cookies: ours.split("; ").length },
  nextjs: { bytes: Buffer.byteLength(theirs), cookies: theirs.split("; ").length },
  sub: session.user.sub
}));
