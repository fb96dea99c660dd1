// Shared helpers for the nextjs-auth0 cookie interop scripts.
//
// Everything cryptographic or cookie-related comes from the installed
// @auth0/nextjs-auth0 package. Its "exports" map only exposes ".", "./client",
// "./server", "./errors", "./types" and "./testing"; "./server" pulls in
// `next/server` and `next/headers`, so the dist modules that do NOT import
// `next` are loaded directly by file path instead.
import { fileURLToPath, pathToFileURL } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const distDir = path.join(here, "node_modules", "@auth0", "nextjs-auth0", "dist");

const load = (rel) => import(pathToFileURL(path.join(distDir, rel)).href);

// dist/server/cookies.js: encrypt, decrypt, setChunkedCookie, getChunkedCookie,
// deleteChunkedCookie, RequestCookies, ResponseCookies (re-exported from
// @edge-runtime/cookies).
export const cookies = await load("server/cookies.js");
// dist/server/transaction-store.js: TransactionStore (save/get of `__txn_<state>`).
export const { TransactionStore } = await load("server/transaction-store.js");
// dist/server/session/stateful-session-store.js: StatefulSessionStore.
export const { StatefulSessionStore } = await load("server/session/stateful-session-store.js");
// dist/server/session/stateless-session-store.js: StatelessSessionStore.
export const { StatelessSessionStore } = await load("server/session/stateless-session-store.js");

export const TXN_PREFIX = "__txn_";

/** A fresh request cookie jar holding `values` ({name: decodedValue}). */
export function requestCookiesFrom(values = {}) {
  const req = new cookies.RequestCookies(new Headers());
  for (const [name, value] of Object.entries(values)) {
    // RequestCookies.set stores the value as given (no decoding), which is what
    // a parsed Cookie header yields after URL-decoding.
    req.set(name, value);
  }
  return req;
}

/** A fresh response cookie jar plus the Headers object it writes Set-Cookie to. */
export function responseCookies() {
  const headers = new Headers();
  return { headers, res: new cookies.ResponseCookies(headers) };
}

/**
 * Decrypt `cookieName` from a jar of decoded cookie values the way the package
 * reads it: `__txn_<state>` through TransactionStore.get (which strips the
 * `<ts>:` prefix), everything else through getChunkedCookie + decrypt.
 * Returns the package's raw result ({payload, protectedHeader}) or null.
 * `decryptOptions` is passed through to the package's decrypt (jose
 * jwtDecrypt options; the package forces clockTolerance 15).
 */
export async function readCookie(secret, values, cookieName = "__session", decryptOptions) {
  const req = requestCookiesFrom(values);
  if (cookieName.startsWith(TXN_PREFIX) && decryptOptions === undefined) {
    const store = new TransactionStore({ secret });
    return store.get(req, cookieName.slice(TXN_PREFIX.length));
  }
  let value = cookies.getChunkedCookie(cookieName, req);
  if (value === undefined) {
    return null;
  }
  if (cookieName.startsWith(TXN_PREFIX)) {
    // Same prefix stripping as TransactionStore.get (only used when custom
    // decrypt options are needed, which TransactionStore.get cannot take).
    const colonIdx = value.indexOf(":");
    value = colonIdx !== -1 ? value.slice(colonIdx + 1) : value;
  }
  return cookies.decrypt(value, secret, decryptOptions);
}
