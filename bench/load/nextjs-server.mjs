// GET /api/data behind a nextjs-auth0 v4 session, on plain node:http (no Next.js around it).
//
//   AUTH0_SECRET=... node nextjs-server.mjs --port 5003 [--no-rolling]
//
// Each request does what the SDK's middleware does for a non-auth route (auth-client.js, the final `else` of
// handler()): StatelessSessionStore.get on the request cookies, then, with rolling sessions (the SDK default),
// StatelessSessionStore.set of the same session and the no-cache headers. The route then answers from that session;
// a Next.js route handler calling auth0.getSession() would decrypt the cookie a second time, which is not done here.
import http from "node:http";
import { cookies, requestCookies, StatelessSessionStore } from "./nextjs-auth0.mjs";

const args = process.argv.slice(2);
const port = Number(args[args.indexOf("--port") + 1] || 5003);
const rolling = !args.includes("--no-rolling");
const secret = process.env.AUTH0_SECRET;
if (!secret) throw new Error("AUTH0_SECRET is required (the secret the session cookie was encrypted with)");

const store = new StatelessSessionStore({ secret, rolling });
const data = JSON.stringify({ id: 42, name: "load-bench", tags: ["alpha", "beta", "gamma"] });
const unauthorized = JSON.stringify({ error: { message: "The user does not have an active session.", code: "missing_session" } });

const server = http.createServer(async (req, res) => {
  try {
    if (req.method !== "GET" || req.url !== "/api/data") {
      res.writeHead(404).end();
      return;
    }
    const reqCookies = requestCookies(req.headers.cookie);
    const session = await store.get(reqCookies);
    if (!session) {
      res.writeHead(401, { "content-type": "application/json" }).end(unauthorized);
      return;
    }
    const headers = { "content-type": "application/json" };
    if (rolling) {
      const out = new Headers();
      await store.set(reqCookies, new cookies.ResponseCookies(out), { ...session });
      headers["set-cookie"] = out.getSetCookie();
      headers["cache-control"] = "private, no-cache, no-store, must-revalidate, max-age=0";
      headers["pragma"] = "no-cache";
      headers["expires"] = "0";
    }
    res.writeHead(200, headers).end(data);
  } catch (e) {
    console.error(e);
    res.writeHead(500).end();
  }
});
server.keepAliveTimeout = 60_000;
server.listen(port, "127.0.0.1", () => console.log(`nextjs-auth0 load server on http://127.0.0.1:${port} (rolling ${rolling})`));
