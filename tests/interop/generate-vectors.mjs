// Writes tests/Auth0.Runtime.Tests/Vectors/nextjs-auth0-cookies.json using the
// real @auth0/nextjs-auth0 functions (see lib.mjs for which dist modules).
//
// Usage (from tests/interop): npm ci && node generate-vectors.mjs
//
// JWE encryption uses a random IV, so every run produces different cookie
// strings; the payloads are stable except the random stateful session id and
// the real-clock generateSessionCookie vector.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { generateSessionCookie } from "@auth0/nextjs-auth0/testing";
import {
  cookies,
  readCookie,
  requestCookiesFrom,
  responseCookies,
  StatefulSessionStore,
  TransactionStore
} from "./lib.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const outFile = path.resolve(here, "../Auth0.Runtime.Tests/Vectors/nextjs-auth0-cookies.json");
const pkg = JSON.parse(
  await readFile(path.join(here, "node_modules/@auth0/nextjs-auth0/package.json"), "utf8")
);

const SECRET = "interop-test-secret-0123456789abcdefghijklmnop";
const OTHER_SECRET = "a-completely-different-secret-9876543210-zyxwvu";
const NON_ASCII_SECRET = "interop-sécret-ÄÖÜ-ß-日本語-🔑-0123456789abcdef";
const FAR_EXP = 4102444800; // 2100-01-01T00:00:00Z
const PAST_EXP = 1000000000; // 2001-09-09T01:46:40Z
const SESSION_COOKIE = "__session";

// Cookie options the package's session stores use by default
// (AbstractSessionStore.cookieConfig) plus a one-day maxAge.
const SESSION_COOKIE_OPTIONS = { httpOnly: true, sameSite: "lax", secure: false, path: "/", maxAge: 86400 };

/** Run `fn` with Date.now() returning `epochSeconds` (jose itself uses `new Date()`, which is not affected). */
async function withClock(epochSeconds, fn) {
  const realNow = Date.now;
  Date.now = () => epochSeconds * 1000;
  try {
    return await fn();
  } finally {
    Date.now = realNow;
  }
}

const clone = (o) => JSON.parse(JSON.stringify(o));

function protectedHeaderOf(jwe) {
  return JSON.parse(Buffer.from(jwe.split(".")[0], "base64url").toString("utf8"));
}

/**
 * Write `value` as the session cookie through the package's setChunkedCookie.
 * Returns the cookies a browser would send back (non-empty values, decoded)
 * and the Set-Cookie headers the package produced (including deletions).
 */
async function writeThroughChunker(name, value) {
  const req = requestCookiesFrom();
  const { headers, res } = responseCookies();
  // ResponseCookies derives the Expires attribute from Date.now() + Max-Age;
  // pin the clock so the recorded Set-Cookie headers are reproducible.
  await withClock(FAR_EXP - SESSION_COOKIE_OPTIONS.maxAge, () =>
    cookies.setChunkedCookie(name, value, { ...SESSION_COOKIE_OPTIONS }, req, res)
  );
  const sent = {};
  for (const c of res.getAll()) {
    if (c.value !== "") sent[c.name] = c.value;
  }
  return { cookies: sent, setCookie: headers.getSetCookie() };
}

function assertEqualJson(actual, expected, what) {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) {
    throw new Error(`${what}: decrypted payload differs from input\n  got:      ${a}\n  expected: ${e}`);
  }
}

const vectors = [];

// ---------------------------------------------------------------- sessions
const smallSession = {
  user: { sub: "auth0|1234567890abcdef", name: "Jane Doe", email: "jane.doe@example.com" },
  tokenSet: {
    accessToken: "at-small-0123456789",
    idToken: "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhdXRoMHwxMjM0NTY3ODkwYWJjZGVmIn0.c2lnbmF0dXJl",
    scope: "openid profile email offline_access",
    requestedScope: "openid profile email offline_access",
    refreshToken: "rt-small-0123456789",
    expiresAt: FAR_EXP
  },
  internal: { sid: "sid-small-0001", createdAt: 1700000000 }
};

async function sessionVector(name, secret, session, exp, notes, extra = {}) {
  const jwe = await cookies.encrypt(clone(session), secret, exp);
  const written = await writeThroughChunker(SESSION_COOKIE, jwe);
  const result = await readCookie(secret, written.cookies, SESSION_COOKIE);
  if (!result) throw new Error(`${name}: package could not decrypt its own cookie`);
  assertEqualJson(result.payload, { ...session, exp }, name);
  return {
    name,
    expect: "valid",
    secret,
    cookieName: SESSION_COOKIE,
    cookies: written.cookies,
    payload: result.payload,
    protectedHeader: result.protectedHeader,
    setCookie: written.setCookie,
    notes,
    ...extra
  };
}

vectors.push(
  await sessionVector(
    "small-session",
    SECRET,
    smallSession,
    FAR_EXP,
    "encrypt(session, secret, 4102444800) from dist/server/cookies.js, written with setChunkedCookie (fits in one cookie). " +
      "payload = decrypt(...).payload: the session JSON with `exp` appended as the last member."
  )
);

const sessionWithAccessTokens = {
  user: {
    sub: "google-oauth2|109876543210987654321",
    name: "Zoë Ünïcødé 日本",
    nickname: "zoë",
    email: "zoe@example.com",
    email_verified: true,
    org_id: "org_AbCdEf123456",
    "https://example.com/roles": ["admin"]
  },
  tokenSet: {
    accessToken: "at-default-audience",
    idToken: "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJnb29nbGUifQ.c2ln",
    scope: "openid profile email offline_access",
    requestedScope: "openid profile email offline_access",
    refreshToken: "rt-with-access-tokens",
    expiresAt: FAR_EXP
  },
  accessTokens: [
    {
      accessToken: "at-api-one",
      scope: "read:things write:things",
      requestedScope: "read:things write:things",
      audience: "https://api-one.example.com",
      expiresAt: FAR_EXP,
      token_type: "bearer"
    },
    {
      accessToken: "at-api-two",
      scope: "read:other",
      requestedScope: "read:other offline_access",
      audience: "https://api-two.example.com/",
      expiresAt: FAR_EXP - 60,
      token_type: "bearer"
    }
  ],
  internal: { sid: "sid-with-access-tokens", createdAt: 1700000100 },
  updatedAt: 1700000200
};

vectors.push(
  await sessionVector(
    "session-with-access-tokens",
    SECRET,
    sessionWithAccessTokens,
    FAR_EXP,
    "Session with an accessTokens array (two audiences), custom top-level `updatedAt`, org_id, a namespaced " +
      "claim and non-ASCII characters in user.name (UTF-8 in the JWE plaintext)."
  )
);

// A session large enough that its JWE exceeds 8000 characters -> three chunks.
function bigSession(groupCount) {
  const groups = [];
  for (let i = 0; i < groupCount; i++) {
    groups.push(`group-${String(i).padStart(4, "0")}-${"x".repeat(24)}`);
  }
  return {
    user: {
      sub: "auth0|chunked-user",
      name: "Chunky McChunkface",
      email: "chunky@example.com",
      "https://example.com/groups": groups
    },
    tokenSet: {
      accessToken: "at-chunked",
      idToken: "id-chunked",
      scope: "openid profile email",
      requestedScope: "openid profile email",
      refreshToken: "rt-chunked",
      expiresAt: FAR_EXP
    },
    internal: { sid: "sid-chunked", createdAt: 1700000300 }
  };
}
{
  let n = 100;
  let session;
  let jweLength;
  for (;;) {
    session = bigSession(n);
    jweLength = (await cookies.encrypt(clone(session), SECRET, FAR_EXP)).length;
    if (jweLength > 9000) break;
    n += 5;
  }
  const v = await sessionVector(
    "chunked-session",
    SECRET,
    session,
    FAR_EXP,
    `JWE of ${jweLength} characters split by the package's setChunkedCookie (MAX_CHUNK_SIZE 3500 characters) into ` +
      "__session__0, __session__1, __session__2; the reader (getChunkedCookie) concatenates the chunks in index order. " +
      "setCookie also shows the deletions the package emits (Max-Age=0) for __session__3, __session__4 and the unchunked __session.",
    { jweLength }
  );
  const names = Object.keys(v.cookies);
  if (JSON.stringify(names) !== JSON.stringify(["__session__0", "__session__1", "__session__2"])) {
    throw new Error(`chunked-session: unexpected chunk names ${names}`);
  }
  vectors.push(v);
}

// ------------------------------------------------- generateSessionCookie
const testingSession = {
  user: { sub: "auth0|testing-helper", name: "Testing Helper", email: "helper@example.com" },
  tokenSet: {
    accessToken: "at-testing-helper",
    idToken: "id-testing-helper",
    scope: "openid profile email",
    refreshToken: "rt-testing-helper",
    expiresAt: FAR_EXP
  }
};
{
  // generateSessionCookie sets exp = floor(Date.now()/1000 + 3600) and, when the
  // session has no `internal`, internal = {sid: "auth0-sid", createdAt: now}.
  // Pinning Date.now() to FAR_EXP - 3600 makes exp exactly FAR_EXP.
  const clock = FAR_EXP - 3600;
  const jwe = await withClock(clock, () => generateSessionCookie(clone(testingSession), { secret: SECRET }));
  const result = await readCookie(SECRET, { [SESSION_COOKIE]: jwe });
  if (!result) throw new Error("generate-session-cookie: not decryptable");
  vectors.push({
    name: "generate-session-cookie",
    expect: "valid",
    secret: SECRET,
    cookieName: SESSION_COOKIE,
    cookies: { [SESSION_COOKIE]: jwe },
    payload: result.payload,
    protectedHeader: result.protectedHeader,
    notes:
      "generateSessionCookie(session, {secret}) from @auth0/nextjs-auth0/testing, called with Date.now() stubbed to " +
      `${clock} (FAR_EXP - 3600) so exp = ${FAR_EXP}. The input session had no \`internal\`, so the helper added ` +
      `internal = {sid: "auth0-sid", createdAt: ${clock}}.`
  });

  const now = Math.floor(Date.now() / 1000);
  const jweNow = await generateSessionCookie(clone(testingSession), { secret: SECRET });
  const resultNow = await readCookie(SECRET, { [SESSION_COOKIE]: jweNow });
  if (!resultNow) throw new Error("generate-session-cookie-realtime: not decryptable");
  vectors.push({
    name: "generate-session-cookie-realtime",
    expect: "time-dependent",
    generatedAt: now,
    secret: SECRET,
    cookieName: SESSION_COOKIE,
    cookies: { [SESSION_COOKIE]: jweNow },
    payload: resultNow.payload,
    protectedHeader: resultNow.protectedHeader,
    notes:
      "generateSessionCookie with the real clock: exp = generatedAt + 3600, so this cookie is valid only until exp and " +
      "EXPIRED from then on (in practice always expired when tests run later: check the payload with expiry " +
      "validation off, and expect rejection when now > exp). The package's " +
      "decrypt returns null for it once exp + 15 s clock tolerance has passed."
  });
}

// ------------------------------------------------------ stateful session
{
  // StatefulSessionStore.set() writes `__session` = encrypt({id}, secret, now + maxAge)
  // where id = 16 random bytes as 32 lowercase hex. The session stores compute
  // "now" as `(Date.now() / 1000) | 0`, which overflows (32-bit) after
  // 2038-01-19, so Date.now() is pinned to 2030-01-01 and the durations are set
  // so that maxAge = FAR_EXP - now -> exp = FAR_EXP.
  const clock = 1893456000; // 2030-01-01T00:00:00Z
  const duration = FAR_EXP - clock;
  const records = new Map();
  const store = {
    async get(id) { return records.get(id) ?? null; },
    async set(id, session) { records.set(id, clone(session)); },
    async delete(id) { records.delete(id); }
  };
  const sessionStore = new StatefulSessionStore({
    secret: SECRET,
    store,
    absoluteDuration: duration,
    inactivityDuration: duration
  });
  const session = { ...clone(smallSession), internal: { sid: "sid-stateful", createdAt: clock } };
  const req = requestCookiesFrom();
  const { headers, res } = responseCookies();
  await withClock(clock, () => sessionStore.set(req, res, session, true));
  const value = res.get(SESSION_COOKIE).value;
  const result = await readCookie(SECRET, { [SESSION_COOKIE]: value });
  if (!result || !/^[0-9a-f]{32}$/.test(result.payload.id) || result.payload.exp !== FAR_EXP) {
    throw new Error(`stateful-id: unexpected ${JSON.stringify(result)}`);
  }
  // Round trip through the store's own reader as well.
  const back = await sessionStore.get(requestCookiesFrom({ [SESSION_COOKIE]: value }));
  assertEqualJson(back, session, "stateful-id store.get");
  vectors.push({
    name: "stateful-id",
    expect: "valid",
    secret: SECRET,
    cookieName: SESSION_COOKIE,
    cookies: { [SESSION_COOKIE]: value },
    payload: result.payload,
    protectedHeader: result.protectedHeader,
    setCookie: headers.getSetCookie(),
    storeRecord: { id: result.payload.id, session: records.get(result.payload.id) },
    notes:
      "Written by StatefulSessionStore.set() (dist/server/session/stateful-session-store.js) with an in-memory store and " +
      `Date.now() pinned to ${clock} and absolute/inactivity durations of ${duration} s (so exp = ${FAR_EXP}); ` +
      "the clock is not pinned near 2100 because the stores compute now as (Date.now()/1000)|0, which overflows " +
      "after 2038-01-19. The cookie holds only {id, exp}, id = 32 lowercase hex chars (random). " +
      "storeRecord is what the store was given for that id (not part of the cookie). Never chunked."
  });
}

// ------------------------------------------------------------ transaction
{
  // TransactionStore.save(): exp = floor(Date.now()/1000 + maxAge (3600)),
  // value = `${floor(Date.now()/1000)}:${jwe}`. Date.now() pinned to FAR_EXP - 3600.
  const clock = FAR_EXP - 3600;
  const state = "xyzState_0123456789-abcDEF";
  const txn = {
    nonce: "nonce-0123456789abcdef",
    codeVerifier: "code-verifier-0123456789abcdefghijklmnopqrstuvwxyzABCDEFG",
    responseType: "code",
    state,
    returnTo: "https://app.example.com/dashboard?tab=1&x=y",
    scope: "openid profile email offline_access",
    audience: "https://api.example.com"
  };
  const txnStore = new TransactionStore({ secret: SECRET });
  const { headers, res } = responseCookies();
  await withClock(clock, () => txnStore.save(res, clone(txn), requestCookiesFrom()));
  const cookieName = txnStore.getTransactionCookieName(state);
  const value = res.get(cookieName).value;
  if (value.slice(0, value.indexOf(":")) !== String(clock)) {
    throw new Error(`transaction: unexpected value prefix ${value.slice(0, 20)}`);
  }
  const result = await readCookie(SECRET, { [cookieName]: value }, cookieName);
  if (!result) throw new Error("transaction: not decryptable");
  assertEqualJson(result.payload, { ...txn, exp: FAR_EXP }, "transaction");
  vectors.push({
    name: "transaction",
    expect: "valid",
    secret: SECRET,
    cookieName,
    cookies: { [cookieName]: value },
    payload: result.payload,
    protectedHeader: result.protectedHeader,
    setCookie: headers.getSetCookie(),
    notes:
      "Written by TransactionStore.save() (dist/server/transaction-store.js) with Date.now() pinned to " +
      `${clock}: value = "<unix seconds>:<jwe>" (here ${clock}:...), exp = ts + 3600 = ${FAR_EXP}. ` +
      "TransactionStore.get strips everything up to the first ':' before decrypting (a value without ':' is decrypted as is). " +
      "In the Set-Cookie header the ':' is percent-encoded as %3A (encodeURIComponent); `cookies` holds the decoded value."
  });
}

// ---------------------------------------------------------------- expired
{
  const jwe = await cookies.encrypt(clone(smallSession), SECRET, PAST_EXP);
  if ((await readCookie(SECRET, { [SESSION_COOKIE]: jwe })) !== null) {
    throw new Error("expired-session: package decrypt did not reject it");
  }
  // Decrypt as of a time before exp to get the payload (jose `currentDate`).
  const result = await readCookie(SECRET, { [SESSION_COOKIE]: jwe }, SESSION_COOKIE, {
    currentDate: new Date((PAST_EXP - 60) * 1000)
  });
  assertEqualJson(result.payload, { ...smallSession, exp: PAST_EXP }, "expired-session");
  vectors.push({
    name: "expired-session",
    expect: "expired",
    secret: SECRET,
    cookieName: SESSION_COOKIE,
    cookies: { [SESSION_COOKIE]: jwe },
    payload: result.payload,
    protectedHeader: result.protectedHeader,
    notes:
      `Valid JWE with exp ${PAST_EXP} (2001). It MUST be rejected as expired: the package's decrypt returns null ` +
      "(jose ERR_JWT_EXPIRED is swallowed; clockTolerance is 15 s). payload is what it decrypts to when validated " +
      "as of a time before exp (jose currentDate option)."
  });
}

// ----------------------------------------------------------- wrong secret
{
  const jwe = await cookies.encrypt(clone(smallSession), OTHER_SECRET, FAR_EXP);
  if ((await readCookie(SECRET, { [SESSION_COOKIE]: jwe })) !== null) {
    throw new Error("wrong-secret: package decrypt did not reject it");
  }
  const real = await readCookie(OTHER_SECRET, { [SESSION_COOKIE]: jwe });
  assertEqualJson(real.payload, { ...smallSession, exp: FAR_EXP }, "wrong-secret (own secret)");
  vectors.push({
    name: "wrong-secret",
    expect: "invalid",
    secret: SECRET,
    encryptedWithSecret: OTHER_SECRET,
    cookieName: SESSION_COOKIE,
    cookies: { [SESSION_COOKIE]: jwe },
    payload: null,
    notes:
      "Encrypted with encryptedWithSecret, not secret. With `secret` the package's decrypt returns null " +
      "(jose ERR_JWE_DECRYPTION_FAILED is swallowed); the cookie must be treated as absent."
  });
}

// -------------------------------------------------------- non-ASCII secret
vectors.push(
  await sessionVector(
    "non-ascii-secret",
    NON_ASCII_SECRET,
    { ...clone(smallSession), internal: { sid: "sid-non-ascii-secret", createdAt: 1700000400 } },
    FAR_EXP,
    "Small session encrypted with a secret containing non-ASCII characters: the HKDF input keying material is the " +
      `UTF-8 encoding of the secret (${Buffer.byteLength(NON_ASCII_SECRET, "utf8")} bytes, ` +
      `${NON_ASCII_SECRET.length} UTF-16 code units).`
  )
);

// ------------------------------------------------------------------ write
for (const v of vectors) {
  if (v.protectedHeader !== undefined) continue;
  const first = Object.values(v.cookies)[0];
  v.protectedHeader = protectedHeaderOf(first.slice(first.indexOf(":") + 1));
}

const output = {
  package: `${pkg.name}@${pkg.version}`,
  generator: "tests/interop/generate-vectors.mjs (npm ci && node generate-vectors.mjs)",
  format: {
    jwe: "compact JWE, alg dir, enc A256GCM, protected header {\"enc\":\"A256GCM\",\"alg\":\"dir\"}",
    key: "HKDF-SHA256(ikm = UTF-8(secret), salt = empty, info = \"JWE CEK\", length 32)",
    cookies: "cookie name -> value as seen in a request Cookie header after URL-decoding",
    payload: "decrypt(value, secret).payload as returned by the package (includes exp); null when the package rejects the cookie",
    expect: "valid | expired | invalid | time-dependent (valid only while now < payload.exp)",
    chunking: "values longer than 3500 characters are split into <name>__0, <name>__1, ...",
    transaction: "__txn_<state> = \"<unix seconds>:<jwe>\""
  },
  vectors
};

await mkdir(path.dirname(outFile), { recursive: true });
await writeFile(outFile, JSON.stringify(output, null, 2) + "\n", "utf8");
console.log(`wrote ${vectors.length} vectors to ${path.relative(process.cwd(), outFile)}`);
