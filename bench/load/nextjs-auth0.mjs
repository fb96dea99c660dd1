// The dist modules of @auth0/nextjs-auth0 that do not import `next` (its "./server" export pulls in next/server),
// loaded by file path as tests/interop/lib.mjs does.
import { fileURLToPath, pathToFileURL } from "node:url";
import path from "node:path";

const dist = path.join(path.dirname(fileURLToPath(import.meta.url)), "node_modules", "@auth0", "nextjs-auth0", "dist");
const load = (rel) => import(pathToFileURL(path.join(dist, rel)).href);

// encrypt, decrypt, getChunkedCookie, setChunkedCookie, RequestCookies, ResponseCookies, addCacheControlHeadersForSession
export const cookies = await load("server/cookies.js");
export const { StatelessSessionStore } = await load("server/session/stateless-session-store.js");

export function requestCookies(cookieHeader) {
  const headers = new Headers();
  if (cookieHeader) headers.set("cookie", cookieHeader);
  return new cookies.RequestCookies(headers);
}
