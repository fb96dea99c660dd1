#!/usr/bin/env node
// End-to-end check of the local IdP with a plain HTTP client (no browser, no JavaScript).
// Starts its own server on a free port with --test-controls, runs the flows, stops it.
// Exits 0 when every check passes.
//
// Usage: node tools/local-idp/selftest.mjs

import { spawn } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as http from 'node:http';
import { fileURLToPath } from 'node:url';
import * as path from 'node:path';
import * as readline from 'node:readline';

import {
  calculateJwkThumbprint, compactVerify, createLocalJWKSet, decodeJwt, decodeProtectedHeader, exportJWK,
  generateKeyPair, jwtVerify, SignJWT,
} from 'jose';

const here = path.dirname(fileURLToPath(import.meta.url));
const CLIENT_ID = 'auth0-minimal-sample';
const CLIENT_SECRET = 'local-dev-client-secret-0123456789abcdef';
const REDIRECT_URI = 'http://127.0.0.1:5555/auth/callback';
const ORDERS = 'https://orders.example.com';
const ANALYTICS = 'https://analytics.example.com';

let passed = 0;
let failed = 0;

function check(condition, message, detail) {
  if (condition) {
    passed += 1;
    console.log(`ok   ${message}`);
  } else {
    failed += 1;
    console.log(`FAIL ${message}${detail !== undefined ? ` -- ${typeof detail === 'string' ? detail : JSON.stringify(detail)}` : ''}`);
  }
  return condition;
}

function must(condition, message, detail) {
  if (!check(condition, message, detail)) throw new Error(`stopping: ${message}`);
}

// ---------------------------------------------------------------------------------------------
// A minimal cookie jar (host-only cookies, path prefix matching) and a fetch without redirects.
// ---------------------------------------------------------------------------------------------
class CookieJar {
  #cookies = new Map(); // key name|path -> { name, value, path }

  store(response) {
    for (const header of response.headers.getSetCookie()) {
      const [pair, ...attrs] = header.split(';').map((s) => s.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      let cookiePath = '/';
      let expired = value === '';
      for (const attr of attrs) {
        const [k, v = ''] = attr.split('=');
        if (k.toLowerCase() === 'path') cookiePath = v || '/';
        if (k.toLowerCase() === 'expires' && Date.parse(v) <= Date.now()) expired = true;
        if (k.toLowerCase() === 'max-age' && Number(v) <= 0) expired = true;
      }
      const key = `${name}|${cookiePath}`;
      if (expired) this.#cookies.delete(key);
      else this.#cookies.set(key, { name, value, path: cookiePath });
    }
  }

  header(url) {
    const { pathname } = new URL(url);
    return [...this.#cookies.values()]
      .filter((c) => pathname === c.path || pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`))
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }

  names() {
    return [...this.#cookies.values()].map((c) => c.name);
  }
}

async function request(jar, url, { method = 'GET', form, json, headers = {} } = {}) {
  const h = { ...headers };
  const cookie = jar?.header(url);
  if (cookie) h.cookie = cookie;
  let body;
  if (form) {
    h['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(form).toString();
  } else if (json !== undefined) {
    h['content-type'] = 'application/json';
    body = JSON.stringify(json);
  }
  const response = await fetch(url, {
    method, headers: h, body, redirect: 'manual',
  });
  jar?.store(response);
  const text = await response.text();
  return {
    status: response.status,
    location: response.headers.get('location'),
    headers: response.headers,
    text,
  };
}

// Follows redirects on the IdP until a Location leaves it (or a page is rendered).
async function follow(jar, base, first) {
  let res = first;
  let url;
  for (let i = 0; i < 10 && res.location; i += 1) {
    url = new URL(res.location, base).href;
    if (!url.startsWith(base)) return { ...res, final: url };
    res = await request(jar, url);
  }
  return { ...res, url };
}

function formFields(html, formSelector) {
  const formMatch = formSelector.exec(html);
  if (!formMatch) return undefined;
  const formHtml = formMatch[0];
  const action = /action="([^"]*)"/.exec(formHtml)?.[1];
  const fields = {};
  for (const m of formHtml.matchAll(/<input\b[^>]*>/g)) {
    const name = /name="([^"]*)"/.exec(m[0])?.[1];
    const value = /value="([^"]*)"/.exec(m[0])?.[1] ?? '';
    if (name) fields[name] = value.replace(/&amp;/g, '&').replace(/&quot;/g, '"');
  }
  return { action: action?.replace(/&amp;/g, '&'), fields, html: formHtml };
}

function pkce() {
  const verifier = crypto.randomBytes(32).toString('base64url');
  const challenge = crypto.createHash('sha256').update(verifier).digest('base64url');
  return { verifier, challenge };
}

// ---------------------------------------------------------------------------------------------
// Server process
// ---------------------------------------------------------------------------------------------
function startServer(flags = ['--test-controls']) {
  const child = spawn(process.execPath, [path.join(here, 'server.mjs'), '--port', '0', ...flags, '--exit-on-stdin-close'], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const stderr = [];
  child.stderr.on('data', (d) => stderr.push(d));
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const ready = new Promise((resolve, reject) => {
    const lines = readline.createInterface({ input: child.stdout });
    const stdoutLines = [];
    lines.on('line', (line) => {
      stdoutLines.push(line);
      const m = /^LOCAL_IDP_READY (\{.*\})$/.exec(line);
      if (m) resolve({ ...JSON.parse(m[1]), line, stdoutLines });
    });
    exited.then(() => reject(new Error(`server exited before ready: ${Buffer.concat(stderr).toString()}`)));
    setTimeout(() => reject(new Error('server not ready within 20s')), 20000).unref();
  });
  return {
    child, ready, exited, stderr,
  };
}

// ---------------------------------------------------------------------------------------------
// Flows
// ---------------------------------------------------------------------------------------------
async function authorize(base, jar, {
  login, password, audience, scope = 'openid profile email offline_access', prompt, wrongPasswordFirst = false, extraParams = {},
}) {
  const state = crypto.randomBytes(8).toString('hex');
  const nonce = crypto.randomBytes(8).toString('hex');
  const { verifier, challenge } = pkce();
  const params = new URLSearchParams({
    response_type: 'code',
    client_id: CLIENT_ID,
    redirect_uri: REDIRECT_URI,
    scope,
    state,
    nonce,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  if (audience) params.set('audience', audience);
  if (prompt) params.set('prompt', prompt);
  for (const [k, v] of Object.entries(extraParams)) params.set(k, v);

  let res = await follow(jar, base, await request(jar, `${base}authorize?${params}`));

  if (!res.final) {
    must(res.status === 200 && res.url && /\/interaction\/[^/]+$/.test(new URL(res.url).pathname), 'authorize leads to the interaction page', { status: res.status, url: res.url, text: res.text.slice(0, 300) });
    const form = formFields(res.text, /<form\b[^>]*action="\/interaction\/[^"]+\/login"[\s\S]*?<\/form>/);
    must(form, 'login form with action /interaction/<uid>/login is rendered');
    const uid = new URL(res.url).pathname.split('/')[2];
    check(form.action === `/interaction/${uid}/login`, 'login form action is /interaction/<uid>/login', form.action);
    check(/method="post"/.test(form.html), 'login form uses POST');
    check('login' in form.fields && 'password' in form.fields, 'login form has inputs login and password', form.fields);
    check(/<button[^>]*type="submit"/.test(form.html), 'login form has a submit button');
    check(!/xsrf|csrf/i.test(form.html), 'login form needs no CSRF token');
    const actionUrl = new URL(form.action, base).href;

    if (wrongPasswordFirst) {
      const bad = await request(jar, actionUrl, { method: 'POST', form: { login, password: 'not-the-password' } });
      check(bad.status === 200 || bad.status === 401, 'wrong password answers 200/401', bad.status);
      check(/Wrong username or password/.test(bad.text), 'wrong password shows an error message');
      check(/<form\b[^>]*action="\/interaction\/[^"]+\/login"/.test(bad.text), 'wrong password re-renders the login form');
    }

    res = await follow(jar, base, await request(jar, actionUrl, { method: 'POST', form: { login, password } }));
  }

  must(res.final && res.final.startsWith('http://127.0.0.1:5555/auth/callback'), 'redirected back to the client callback', { status: res.status, final: res.final, text: res.text?.slice(0, 300) });
  const callback = new URL(res.final);
  return {
    callback, state, nonce, verifier,
  };
}

async function token(base, form) {
  const res = await request(null, `${base}oauth/token`, {
    method: 'POST',
    form: { client_id: CLIENT_ID, client_secret: CLIENT_SECRET, ...form },
  });
  let body;
  try {
    body = JSON.parse(res.text);
  } catch {
    body = { raw: res.text };
  }
  return { status: res.status, body };
}

async function login(base, jar, options) {
  const { callback, verifier } = await authorize(base, jar, options);
  return token(base, {
    grant_type: 'authorization_code', code: callback.searchParams.get('code'), redirect_uri: REDIRECT_URI, code_verifier: verifier,
  });
}

const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

// ---------------------------------------------------------------------------------------------
// A fake relying party back-channel logout endpoint on 127.0.0.1
// ---------------------------------------------------------------------------------------------
const BACKCHANNEL_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

async function startBackchannelReceiver() {
  const received = [];
  const receiver = {
    answer: 200,
    received,
    take: () => received.splice(0, received.length),
  };
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      received.push({
        method: req.method,
        path: req.url,
        contentType: req.headers['content-type'],
        body,
        form: [...new URLSearchParams(body)],
      });
      res.statusCode = receiver.answer;
      res.setHeader('cache-control', 'no-store');
      res.end();
    });
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  receiver.port = server.address().port;
  receiver.url = (p) => `http://127.0.0.1:${receiver.port}${p}`;
  receiver.close = () => new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
  return receiver;
}

// ---------------------------------------------------------------------------------------------
// DPoP (RFC 9449): proofs made with jose, a server started with --dpop-nonce --dpop-bound
// ---------------------------------------------------------------------------------------------
const sha256 = (value) => crypto.createHash('sha256').update(value).digest('base64url');

async function dpopKey(alg = 'ES256') {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = await exportJWK(publicKey);
  return {
    alg, privateKey, jwk, jkt: await calculateJwkThumbprint(jwk),
  };
}

// A DPoP proof JWT: header {typ: 'dpop+jwt', alg, jwk}, claims htm, htu, jti, iat (+ nonce, ath).
async function dpopProof(key, {
  htm, htu, nonce, accessToken, iat, jti = crypto.randomUUID(), header = {}, signWith = key.privateKey, claims = {},
}) {
  const payload = { htm, htu, jti, ...claims };
  if (nonce !== undefined) payload.nonce = nonce;
  if (accessToken !== undefined) payload.ath = sha256(accessToken);
  return new SignJWT(payload)
    .setProtectedHeader({ typ: 'dpop+jwt', alg: key.alg, jwk: key.jwk, ...header })
    .setIssuedAt(iat)
    .sign(signWith);
}

async function dpopTokenRequest(base, form, proof) {
  const res = await request(null, `${base}oauth/token`, {
    method: 'POST',
    headers: proof ? { dpop: proof } : {},
    form: { client_id: CLIENT_ID, client_secret: CLIENT_SECRET, ...form },
  });
  let body;
  try {
    body = JSON.parse(res.text);
  } catch {
    body = { raw: res.text };
  }
  return {
    status: res.status, body, nonce: res.headers.get('dpop-nonce'), headers: res.headers,
  };
}

// Token request as a careful client makes it: with the last known nonce, and one retry when the
// server answers use_dpop_nonce. `nonces.token` is updated from every DPoP-Nonce header.
async function dpopToken(base, key, form, nonces) {
  const htu = `${base}oauth/token`;
  let res = await dpopTokenRequest(base, form, await dpopProof(key, { htm: 'POST', htu, nonce: nonces.token }));
  if (res.nonce) nonces.token = res.nonce;
  if (res.status === 400 && res.body.error === 'use_dpop_nonce') {
    res = await dpopTokenRequest(base, form, await dpopProof(key, { htm: 'POST', htu, nonce: nonces.token }));
    if (res.nonce) nonces.token = res.nonce;
  }
  return res;
}

async function callDpopApi(base, accessToken, proof, { scheme = 'DPoP', method = 'GET', query = '' } = {}) {
  const headers = {};
  if (accessToken !== undefined) headers.authorization = `${scheme} ${accessToken}`;
  if (proof !== undefined) headers.dpop = proof;
  const res = await request(null, `${base}api/dpop/orders${query}`, { method, headers });
  let body;
  try {
    body = JSON.parse(res.text);
  } catch {
    body = { raw: res.text };
  }
  return {
    status: res.status, body, nonce: res.headers.get('dpop-nonce'), challenge: res.headers.get('www-authenticate'),
  };
}

async function dpopSuite(base) {
  const ordersUrl = `${base}api/dpop/orders`;
  const tokenUrl = `${base}oauth/token`;
  const getStats = async () => JSON.parse((await request(null, `${base}__test/stats`)).text);
  const setFaults = (body) => request(null, `${base}__test/faults`, { method: 'POST', json: body });
  const getFaults = async () => JSON.parse((await request(null, `${base}__test/faults`)).text);
  const key1 = await dpopKey('ES256');
  const key2 = await dpopKey('ES256');

  const discovery = JSON.parse((await request(null, `${base}.well-known/openid-configuration`)).text);
  check(Array.isArray(discovery.dpop_signing_alg_values_supported) && discovery.dpop_signing_alg_values_supported.includes('ES256'), 'dpop: discovery dpop_signing_alg_values_supported includes ES256', discovery.dpop_signing_alg_values_supported);
  const startFaults = await getFaults();
  check(startFaults.dpopNonce === true && startFaults.dpopBound === true && startFaults.alwaysUseDpopNonce === false, 'dpop: GET /__test/faults shows dpopNonce/dpopBound from the flags', startFaults);
  check((await request(null, `${base}__test/stats/reset`, { method: 'POST' })).status === 204, 'dpop: stats reset');

  // ---- login with dpop_jkt, code exchange: no proof, no nonce, then the nonce ------------
  const jar = new CookieJar();
  const auth = await authorize(base, jar, {
    login: 'alice', password: 'alice-password', audience: ORDERS, extraParams: { dpop_jkt: key1.jkt },
  });
  const codeForm = {
    grant_type: 'authorization_code', code: auth.callback.searchParams.get('code'), redirect_uri: REDIRECT_URI, code_verifier: auth.verifier,
  };
  const noProof = await dpopTokenRequest(base, codeForm);
  check(noProof.status === 400 && noProof.body.error === 'invalid_dpop_proof', '--dpop-bound: code exchange without a proof -> 400 invalid_dpop_proof', noProof.body);
  console.log(`     no proof: ${noProof.status} ${JSON.stringify(noProof.body)}`);

  const first = await dpopTokenRequest(base, codeForm, await dpopProof(key1, { htm: 'POST', htu: tokenUrl }));
  check(first.status === 400 && first.body.error === 'use_dpop_nonce' && typeof first.nonce === 'string' && first.nonce.length > 0, '--dpop-nonce: code exchange with a proof without nonce -> 400 use_dpop_nonce + DPoP-Nonce header', { status: first.status, body: first.body, nonce: first.nonce });
  console.log(`     no nonce: ${first.status} ${JSON.stringify(first.body)} DPoP-Nonce: ${first.nonce}`);
  const staleNonce = await dpopTokenRequest(base, codeForm, await dpopProof(key1, { htm: 'POST', htu: tokenUrl, nonce: 'not-a-server-nonce' }));
  check(staleNonce.status === 400 && staleNonce.body.error === 'use_dpop_nonce' && staleNonce.nonce === first.nonce, '--dpop-nonce: a wrong/stale nonce -> 400 use_dpop_nonce + the current DPoP-Nonce', { status: staleNonce.status, body: staleNonce.body });

  const exchanged = await dpopTokenRequest(base, codeForm, await dpopProof(key1, { htm: 'POST', htu: tokenUrl, nonce: first.nonce }));
  must(exchanged.status === 200, 'dpop: code exchange with the nonce -> 200', exchanged.body);
  const t = exchanged.body;
  const at1 = decodeJwt(t.access_token);
  check(t.token_type === 'DPoP', 'dpop: token_type DPoP', t.token_type);
  check(at1.cnf?.jkt === key1.jkt && at1.aud === ORDERS, 'dpop: access token cnf.jkt = RFC 7638 thumbprint of the proof key', at1.cnf);
  check(typeof t.refresh_token === 'string' && typeof t.id_token === 'string', 'dpop: refresh token and ID token issued');
  console.log(`     success with the nonce: DPoP-Nonce header ${exchanged.nonce ? `(rotated) ${exchanged.nonce}` : 'absent (nonce still current)'}`);
  {
    const st = await getStats();
    check(st.tokenRequests.authorization_code === 4 && st.dpopProofs.token === 3 && st.useDpopNonceResponses === 2, 'dpop: stats count token requests, proofs (token) and use_dpop_nonce answers', st);
  }
  const nonces = { token: exchanged.nonce ?? first.nonce };

  // ---- dpop_jkt enforced at the code exchange ---------------------------------------------
  // (in a session of its own: using the consumed code again revokes the whole grant)
  {
    const other = await authorize(base, new CookieJar(), {
      login: 'alice', password: 'alice-password', audience: ORDERS, extraParams: { dpop_jkt: key1.jkt },
    });
    const form = {
      grant_type: 'authorization_code', code: other.callback.searchParams.get('code'), redirect_uri: REDIRECT_URI, code_verifier: other.verifier,
    };
    const wrongKey = await dpopToken(base, key2, form, nonces);
    check(wrongKey.status === 400 && wrongKey.body.error === 'invalid_grant' && /dpop_jkt/.test(wrongKey.body.error_description), 'dpop_jkt: code exchange with another key -> 400 invalid_grant', wrongKey.body);
    const rightKeyAfter = await dpopToken(base, key1, form, nonces);
    check(rightKeyAfter.status === 400 && rightKeyAfter.body.error === 'invalid_grant', 'dpop_jkt: the mismatch consumed the code (right key afterwards -> invalid_grant)', rightKeyAfter.body);
    console.log(`     dpop_jkt mismatch: ${JSON.stringify(wrongKey.body)}; then: ${JSON.stringify(rightKeyAfter.body)}`);
  }

  // ---- refresh: proof required (dpop-bound), nonce handling, key not bound -------------
  let rt = t.refresh_token;
  let at = t.access_token;
  {
    const none = await dpopTokenRequest(base, { grant_type: 'refresh_token', refresh_token: rt });
    check(none.status === 400 && none.body.error === 'invalid_dpop_proof', '--dpop-bound: refresh without a proof -> 400 invalid_dpop_proof', none.body);
    const bogus = await dpopTokenRequest(base, { grant_type: 'refresh_token', refresh_token: rt }, await dpopProof(key1, { htm: 'POST', htu: tokenUrl, nonce: 'bogus' }));
    check(bogus.status === 400 && bogus.body.error === 'use_dpop_nonce' && !!bogus.nonce, 'refresh with a wrong nonce -> 400 use_dpop_nonce + DPoP-Nonce', bogus.body);
    const proof = await dpopProof(key1, { htm: 'POST', htu: tokenUrl, nonce: bogus.nonce });
    const r1 = await dpopTokenRequest(base, { grant_type: 'refresh_token', refresh_token: rt }, proof);
    must(r1.status === 200, 'refresh with proof + nonce -> 200 (the refresh token survived the refused attempts)', r1.body);
    check(r1.body.token_type === 'DPoP' && decodeJwt(r1.body.access_token).cnf?.jkt === key1.jkt && r1.body.refresh_token !== rt, 'refresh: DPoP token bound to the proof key, refresh token rotated', r1.body.token_type);
    rt = r1.body.refresh_token;
    at = r1.body.access_token;

    const replayed = await dpopTokenRequest(base, { grant_type: 'refresh_token', refresh_token: rt }, proof);
    check(replayed.status === 400 && replayed.body.error === 'invalid_grant' && /replay/i.test(replayed.body.error_description), 'token endpoint: a replayed proof (same jti) -> 400 invalid_grant replay', replayed.body);

    const otherKey = await dpopToken(base, key2, { grant_type: 'refresh_token', refresh_token: rt }, nonces);
    check(otherKey.status === 200 && decodeJwt(otherKey.body.access_token).cnf?.jkt === key2.jkt, 'refresh of this confidential client with another key works (refresh token not key-bound), new token bound to that key', otherKey.body);
    rt = otherKey.body.refresh_token ?? rt;
    const back = await dpopToken(base, key1, { grant_type: 'refresh_token', refresh_token: rt }, nonces);
    must(back.status === 200 && decodeJwt(back.body.access_token).cnf?.jkt === key1.jkt, 'refresh back to key 1', back.body);
    rt = back.body.refresh_token;
    at = back.body.access_token;
  }

  // ---- /api/dpop/orders --------------------------------------------------------------------
  await request(null, `${base}__test/stats/reset`, { method: 'POST' });
  const proofFor = (key, opts = {}) => dpopProof(key, {
    htm: 'GET', htu: ordersUrl, accessToken: at, ...opts,
  });
  const c1 = await callDpopApi(base, at, await proofFor(key1));
  check(c1.status === 401 && c1.body.error === 'use_dpop_nonce' && !!c1.nonce, 'dpop api: first call without nonce -> 401 use_dpop_nonce + DPoP-Nonce', c1);
  check(/^DPoP error="use_dpop_nonce", error_description="[^"]+"$/.test(c1.challenge ?? ''), 'dpop api: WWW-Authenticate: DPoP error="use_dpop_nonce", error_description="..."', c1.challenge);
  console.log(`     api without nonce: ${c1.status} WWW-Authenticate: ${c1.challenge}; DPoP-Nonce: ${c1.nonce}`);
  const apiNonce = c1.nonce;
  const okProof = await proofFor(key1, { nonce: apiNonce });
  const c2 = await callDpopApi(base, at, okProof);
  check(c2.status === 200 && Array.isArray(c2.body.orders) && c2.body.orders.length === 2 && c2.body.sub === 'auth0|alice' && c2.body.jkt === key1.jkt, 'dpop api: retry with the nonce -> 200 {orders, sub, jkt}', c2.body);
  check(JSON.stringify(Object.keys(c2.body)) === JSON.stringify(['orders', 'sub', 'jkt']), 'dpop api: 200 body keys orders, sub, jkt', Object.keys(c2.body));
  const c3 = await callDpopApi(base, at, await proofFor(key1, { nonce: apiNonce }), { query: '?page=2' });
  check(c3.status === 200, 'dpop api: the nonce can be used again (new jti); a query on the request is not part of htu', c3.body);

  const expectFailure = async (name, res, status, error, descriptionStart) => {
    const ok = res.status === status && res.body.error === error
      && typeof res.body.error_description === 'string' && res.body.error_description.startsWith(descriptionStart)
      && res.challenge === `DPoP error="${error}", error_description="${res.body.error_description}"${error === 'insufficient_scope' ? ', scope="read:orders"' : ''}`;
    check(ok, `dpop api: ${name} -> ${status} ${error} "${descriptionStart}"`, { status: res.status, body: res.body, challenge: res.challenge });
    return res;
  };
  await expectFailure('wrong htm', await callDpopApi(base, at, await proofFor(key1, { nonce: apiNonce, htm: 'POST' })), 401, 'invalid_dpop_proof', 'htm mismatch');
  await expectFailure('htu with a query string', await callDpopApi(base, at, await proofFor(key1, { nonce: apiNonce, htu: `${ordersUrl}?page=2` }), { query: '?page=2' }), 401, 'invalid_dpop_proof', 'htu mismatch');
  await expectFailure('htu of another path', await callDpopApi(base, at, await proofFor(key1, { nonce: apiNonce, htu: `${base}api/orders` })), 401, 'invalid_dpop_proof', 'htu mismatch');
  await expectFailure('wrong ath', await callDpopApi(base, at, await proofFor(key1, { nonce: apiNonce, accessToken: `${at}x` })), 401, 'invalid_dpop_proof', 'ath mismatch');
  {
    const st = await getStats();
    check(st.dpopApiLastError?.orders?.error === 'invalid_dpop_proof' && st.dpopApiLastError.orders.error_description.startsWith('ath mismatch') && st.dpopApiLastError.orders.status === 401, 'stats dpopApiLastError.orders holds the last failure (ath mismatch)', st.dpopApiLastError);
  }
  await expectFailure('no ath', await callDpopApi(base, at, await proofFor(key1, { nonce: apiNonce, accessToken: undefined })), 401, 'invalid_dpop_proof', 'ath missing');
  await expectFailure('replayed jti', await callDpopApi(base, at, okProof), 401, 'invalid_dpop_proof', 'jti replay');
  const now = Math.floor(Date.now() / 1000);
  await expectFailure('old iat (-120 s)', await callDpopApi(base, at, await proofFor(key1, { nonce: apiNonce, iat: now - 120 })), 401, 'invalid_dpop_proof', 'iat out of window');
  await expectFailure('future iat (+120 s)', await callDpopApi(base, at, await proofFor(key1, { nonce: apiNonce, iat: now + 120 })), 401, 'invalid_dpop_proof', 'iat out of window');
  await expectFailure('Bearer scheme', await callDpopApi(base, at, await proofFor(key1, { nonce: apiNonce }), { scheme: 'Bearer' }), 401, 'invalid_token', 'Authorization scheme must be DPoP');
  await expectFailure('proof key != cnf.jkt', await callDpopApi(base, at, await proofFor(key2, { nonce: apiNonce })), 401, 'invalid_token', 'cnf.jkt mismatch');
  await expectFailure('no DPoP header', await callDpopApi(base, at, undefined), 401, 'invalid_dpop_proof', 'DPoP proof missing');
  await expectFailure('typ JWT', await callDpopApi(base, at, await proofFor(key1, { nonce: apiNonce, header: { typ: 'JWT' } })), 401, 'invalid_dpop_proof', 'typ must be dpop+jwt');
  await expectFailure('typ with non-ASCII characters', await callDpopApi(base, at, await proofFor(key1, { nonce: apiNonce, header: { typ: 'dp\u00f6p+jwt \u2026' } })), 401, 'invalid_dpop_proof', 'typ must be dpop+jwt');
  {
    // Two DPoP header lines (fetch would join them into one).
    const [p1, p2] = [await proofFor(key1, { nonce: apiNonce }), await proofFor(key1, { nonce: apiNonce })];
    const twice = await new Promise((resolve, reject) => {
      const req = http.request(ordersUrl, { headers: { authorization: `DPoP ${at}`, dpop: [p1, p2] } }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, body: JSON.parse(Buffer.concat(chunks).toString()), challenge: res.headers['www-authenticate'] }));
      });
      req.on('error', reject);
      req.end();
    });
    await expectFailure('two DPoP headers', twice, 401, 'invalid_dpop_proof', 'more than one DPoP header');
  }
  await expectFailure('private key in jwk', await callDpopApi(base, at, await proofFor(key1, { nonce: apiNonce, header: { jwk: await exportJWK(key1.privateKey) } })), 401, 'invalid_dpop_proof', 'jwk must be a public key');
  await expectFailure('signed by another key than jwk', await callDpopApi(base, at, await proofFor(key1, { nonce: apiNonce, signWith: key2.privateKey })), 401, 'invalid_dpop_proof', 'signature invalid');
  {
    const unsigned = `${Buffer.from(JSON.stringify({ typ: 'dpop+jwt', alg: 'none', jwk: key1.jwk })).toString('base64url')}.${Buffer.from(JSON.stringify({
      htm: 'GET', htu: ordersUrl, jti: crypto.randomUUID(), iat: now, nonce: apiNonce, ath: sha256(at),
    })).toString('base64url')}.`;
    await expectFailure('alg none', await callDpopApi(base, at, unsigned), 401, 'invalid_dpop_proof', 'alg none not allowed');
  }
  {
    const rsa = await dpopKey('RS256');
    await expectFailure('RS256 proof (alg accepted, key not the bound one)', await callDpopApi(base, at, await proofFor(rsa, { nonce: apiNonce })), 401, 'invalid_token', 'cnf.jkt mismatch');
  }
  {
    const wrongNonce = await callDpopApi(base, at, await proofFor(key1, { nonce: 'made-up' }));
    await expectFailure('wrong nonce', wrongNonce, 401, 'use_dpop_nonce', 'nonce invalid or expired');
    check(!!wrongNonce.nonce && wrongNonce.nonce !== apiNonce, 'dpop api: a wrong nonce gets a new DPoP-Nonce', wrongNonce.nonce);
  }
  const none = await callDpopApi(base, undefined, undefined);
  check(none.status === 401 && none.challenge === 'DPoP realm="orders", algs="ES256 RS256 PS256 EdDSA"', 'dpop api: no Authorization -> 401 DPoP realm="orders", algs="..."', none);
  check((await callDpopApi(base, at, await proofFor(key1, { nonce: apiNonce, htm: 'POST' }), { method: 'POST' })).status === 405, 'dpop api: POST -> 405');
  {
    const analytics = await dpopToken(base, key1, { grant_type: 'refresh_token', refresh_token: rt, audience: ANALYTICS }, nonces);
    must(analytics.status === 200, 'refresh for analytics (DPoP)', analytics.body);
    rt = analytics.body.refresh_token;
    const aat = analytics.body.access_token;
    await expectFailure('token of another audience', await callDpopApi(base, aat, await proofFor(key1, { nonce: apiNonce, accessToken: aat })), 401, 'invalid_token', 'access token invalid');
    const writeOnly = await dpopToken(base, key1, {
      grant_type: 'refresh_token', refresh_token: rt, audience: ORDERS, scope: 'write:orders',
    }, nonces);
    must(writeOnly.status === 200, 'refresh for orders with write:orders only (DPoP)', writeOnly.body);
    rt = writeOnly.body.refresh_token;
    const wat = writeOnly.body.access_token;
    await expectFailure('token without read:orders', await callDpopApi(base, wat, await proofFor(key1, { nonce: apiNonce, accessToken: wat })), 403, 'insufficient_scope', 'insufficient scope');
  }
  {
    const ed = await dpopKey('EdDSA');
    const edToken = await dpopToken(base, ed, { grant_type: 'refresh_token', refresh_token: rt }, nonces);
    must(edToken.status === 200 && decodeJwt(edToken.body.access_token).cnf?.jkt === ed.jkt, 'EdDSA proof at the token endpoint -> token bound to the Ed25519 key', edToken.body);
    rt = edToken.body.refresh_token;
    const edCall = await callDpopApi(base, edToken.body.access_token, await dpopProof(ed, {
      htm: 'GET', htu: ordersUrl, accessToken: edToken.body.access_token, nonce: apiNonce,
    }));
    check(edCall.status === 200 && edCall.body.jkt === ed.jkt, 'dpop api: EdDSA proof with its bound token -> 200', edCall.body);
  }
  const asBearer = await request(null, `${base}api/orders`, { headers: { authorization: `Bearer ${at}` } });
  check(asBearer.status === 401, '/api/orders (Bearer API) still refuses the DPoP-bound token', asBearer.status);
  {
    const st = await getStats();
    check(st.dpopApiRequests.orders >= 20 && st.dpopProofs.api === st.dpopApiRequests.orders - 2 && st.dpopProofs.token >= 3, 'stats count DPoP API requests and proofs', { requests: st.dpopApiRequests, proofs: st.dpopProofs });
  }

  // ---- runtime switches --------------------------------------------------------------------
  {
    const bad = await setFaults({ dpopNonce: 'yes', dpopBound: false });
    check(bad.status === 400 && (await getFaults()).dpopBound === true, 'faults: dpopNonce must be a boolean -> 400, nothing changed', bad.status);
    check((await setFaults({ dpopNonce: false })).status === 204, 'faults: dpopNonce false -> 204');
    const noNonce = await dpopTokenRequest(base, { grant_type: 'refresh_token', refresh_token: rt }, await dpopProof(key1, { htm: 'POST', htu: tokenUrl }));
    check(noNonce.status === 200 && noNonce.body.token_type === 'DPoP', 'dpopNonce false: proof without nonce accepted', noNonce.body);
    console.log(`     dpopNonce off, success: DPoP-Nonce header ${noNonce.nonce ? 'present' : 'absent'}`);
    rt = noNonce.body.refresh_token ?? rt;

    check((await setFaults({ dpopBound: false })).status === 204, 'faults: dpopBound false -> 204');
    const bearer = await dpopTokenRequest(base, { grant_type: 'refresh_token', refresh_token: rt });
    check(bearer.status === 200 && bearer.body.token_type === 'Bearer' && !decodeJwt(bearer.body.access_token).cnf, 'dpopBound false: refresh without proof -> Bearer token', bearer.body);
    rt = bearer.body.refresh_token ?? rt;
    const bearerAt = bearer.body.access_token;
    await expectFailure('unbound (Bearer) token with DPoP scheme', await callDpopApi(base, bearerAt, await proofFor(key1, { nonce: apiNonce, accessToken: bearerAt })), 401, 'invalid_token', 'access token is not DPoP-bound');

    const jktLogin = await authorize(base, new CookieJar(), {
      login: 'alice', password: 'alice-password', audience: ORDERS, extraParams: { dpop_jkt: key1.jkt },
    });
    const jktNoProof = await dpopTokenRequest(base, {
      grant_type: 'authorization_code', code: jktLogin.callback.searchParams.get('code'), redirect_uri: REDIRECT_URI, code_verifier: jktLogin.verifier,
    });
    check(jktNoProof.status === 400 && jktNoProof.body.error === 'invalid_grant', 'dpop_jkt without a proof at the code exchange -> 400 invalid_grant', jktNoProof.body);
    console.log(`     dpop_jkt, no proof: ${JSON.stringify(jktNoProof.body)}`);

    check((await setFaults({ dpopNonce: true, dpopBound: true })).status === 204, 'faults: dpopNonce + dpopBound true -> 204');
    const refusedAgain = await dpopTokenRequest(base, { grant_type: 'refresh_token', refresh_token: rt });
    check(refusedAgain.status === 400 && refusedAgain.body.error === 'invalid_dpop_proof', 'dpopBound true again: refresh without proof refused', refusedAgain.body);
    const nonceAgain = await dpopTokenRequest(base, { grant_type: 'refresh_token', refresh_token: rt }, await dpopProof(key1, { htm: 'POST', htu: tokenUrl }));
    check(nonceAgain.status === 400 && nonceAgain.body.error === 'use_dpop_nonce', 'dpopNonce true again: proof without nonce refused', nonceAgain.body);
  }

  // ---- alwaysUseDpopNonce: a client that retries once sends exactly two requests ------------
  {
    check((await setFaults({ alwaysUseDpopNonce: true })).status === 204, 'faults: alwaysUseDpopNonce true -> 204');
    await request(null, `${base}__test/stats/reset`, { method: 'POST' });
    const seen = [];
    let res = await dpopTokenRequest(base, { grant_type: 'refresh_token', refresh_token: rt }, await dpopProof(key1, { htm: 'POST', htu: tokenUrl }));
    seen.push(res);
    if (res.status === 400 && res.body.error === 'use_dpop_nonce') {
      res = await dpopTokenRequest(base, { grant_type: 'refresh_token', refresh_token: rt }, await dpopProof(key1, { htm: 'POST', htu: tokenUrl, nonce: res.nonce }));
      seen.push(res);
    }
    check(seen.every((r) => r.status === 400 && r.body.error === 'use_dpop_nonce' && r.nonce) && seen[0].nonce !== seen[1].nonce, 'alwaysUseDpopNonce: the token endpoint answers use_dpop_nonce every time, with a fresh DPoP-Nonce', seen.map((r) => [r.status, r.body, r.nonce]));
    const noProofAlways = await dpopTokenRequest(base, { grant_type: 'refresh_token', refresh_token: rt });
    check(noProofAlways.status === 400 && noProofAlways.body.error === 'use_dpop_nonce', 'alwaysUseDpopNonce: also without a proof', noProofAlways.body);
    const a1 = await callDpopApi(base, at, await proofFor(key1));
    const a2 = await callDpopApi(base, at, await proofFor(key1, { nonce: a1.nonce }));
    check([a1, a2].every((r) => r.status === 401 && r.body.error === 'use_dpop_nonce' && r.nonce && /^DPoP error="use_dpop_nonce"/.test(r.challenge)) && a1.nonce !== a2.nonce, 'alwaysUseDpopNonce: the DPoP API answers use_dpop_nonce every time, with a fresh DPoP-Nonce', [a1, a2]);
    const st = await getStats();
    check(st.tokenRequests.refresh_token === 3 && st.useDpopNonceResponses === 5 && st.dpopProofs.token === 2 && st.dpopProofs.api === 2 && st.dpopApiRequests.orders === 2, 'alwaysUseDpopNonce: stats count exactly the requests sent (2 + 1 token, 2 API) and 5 use_dpop_nonce answers', st);
    check((await setFaults({ alwaysUseDpopNonce: false })).status === 204, 'faults: alwaysUseDpopNonce false -> 204');
    const after = await dpopToken(base, key1, { grant_type: 'refresh_token', refresh_token: rt }, nonces);
    check(after.status === 200 && after.body.token_type === 'DPoP', 'alwaysUseDpopNonce off: the refresh token still works (nonce handshake as usual)', after.body);
    const apiAfter = await callDpopApi(base, at, await proofFor(key1, { nonce: apiNonce }));
    check(apiAfter.status === 200, 'alwaysUseDpopNonce off: the API works again with its nonce', apiAfter.body);
  }

  check((await request(null, `${base}__test/stats/reset`, { method: 'POST' })).status === 204, 'dpop: stats reset');
  const zero = await getStats();
  check(JSON.stringify({
    dpopProofs: zero.dpopProofs, useDpopNonceResponses: zero.useDpopNonceResponses, dpopApiRequests: zero.dpopApiRequests, dpopApiLastError: zero.dpopApiLastError,
  }) === JSON.stringify({
    dpopProofs: { token: 0, api: 0 }, useDpopNonceResponses: 0, dpopApiRequests: { orders: 0 }, dpopApiLastError: { orders: null },
  }), 'dpop: stats reset zeroes the DPoP counters', zero);
}

// ---------------------------------------------------------------------------------------------
// CIBA (poll mode) and Auth0's token exchange for federated connections
// ---------------------------------------------------------------------------------------------
const CIBA_GRANT = 'urn:openid:params:grant-type:ciba';
const FEDERATED_GRANT = 'urn:auth0:params:oauth:grant-type:token-exchange:federated-connection-access-token';
const FEDERATED_TOKEN_TYPE = 'http://auth0.com/oauth/token-type/federated-connection-access-token';
const RT_TYPE = 'urn:ietf:params:oauth:token-type:refresh_token';
const AT_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

async function cibaSuite(base, keySet) {
  const getStats = async () => JSON.parse((await request(null, `${base}__test/stats`)).text);
  const setFaults = (body) => request(null, `${base}__test/faults`, { method: 'POST', json: body });
  const getFaults = async () => JSON.parse((await request(null, `${base}__test/faults`)).text);
  const hint = (sub, iss = base) => JSON.stringify({ format: 'iss_sub', iss, sub });
  const bcAuthorize = async (form, secret = CLIENT_SECRET) => {
    const res = await request(null, `${base}bc-authorize`, { method: 'POST', form: { client_id: CLIENT_ID, client_secret: secret, ...form } });
    let body;
    try {
      body = JSON.parse(res.text);
    } catch {
      body = { raw: res.text };
    }
    return { status: res.status, body, headers: res.headers };
  };
  let polls = 0;
  const poll = async (authReqId) => {
    polls += 1;
    const res = await request(null, `${base}oauth/token`, {
      method: 'POST',
      form: {
        client_id: CLIENT_ID, client_secret: CLIENT_SECRET, grant_type: CIBA_GRANT, auth_req_id: authReqId,
      },
    });
    let body;
    try {
      body = JSON.parse(res.text);
    } catch {
      body = { raw: res.text };
    }
    return { status: res.status, body, retryAfter: res.headers.get('retry-after') };
  };
  const pending = async () => JSON.parse((await request(null, `${base}__test/ciba`)).text);
  const decide = async (what, authReqId) => (await request(null, `${base}__test/ciba/${what}`, { method: 'POST', json: { auth_req_id: authReqId } })).status;
  const start = async (form, label) => {
    const res = await bcAuthorize({ scope: 'openid', binding_message: 'Sign in 42', login_hint: hint('auth0|alice'), ...form });
    must(res.status === 200 && typeof res.body.auth_req_id === 'string', `ciba: ${label}: POST /bc-authorize -> 200 auth_req_id`, res.body);
    return res.body;
  };

  check((await request(null, `${base}__test/stats/reset`, { method: 'POST' })).status === 204, 'ciba: stats reset');

  const discovery = JSON.parse((await request(null, `${base}.well-known/openid-configuration`)).text);
  check(discovery.backchannel_authentication_endpoint === `${base}bc-authorize`, 'ciba: discovery backchannel_authentication_endpoint = /bc-authorize', discovery.backchannel_authentication_endpoint);
  check(JSON.stringify(discovery.backchannel_token_delivery_modes_supported) === '["poll"]', 'ciba: discovery backchannel_token_delivery_modes_supported ["poll"]', discovery.backchannel_token_delivery_modes_supported);
  check(discovery.grant_types_supported?.includes(CIBA_GRANT), 'ciba: discovery grant_types_supported lists the CIBA grant', discovery.grant_types_supported);

  // ---- approve -------------------------------------------------------------------------
  {
    const details = [{ type: 'payment_initiation', instructedAmount: { currency: 'EUR', amount: '10.00' } }];
    const req = await start({
      scope: 'openid profile email offline_access', binding_message: 'Pay 10 EUR: 4711', authorization_details: JSON.stringify(details),
    }, 'approve');
    check(req.expires_in === 30 && req.interval === 1 && Object.keys(req).sort().join() === 'auth_req_id,expires_in,interval', 'ciba: response {auth_req_id, expires_in 30, interval 1}', req);
    const list = await pending();
    const mine = list.find((r) => r.auth_req_id === req.auth_req_id);
    check(mine?.sub === 'auth0|alice' && mine?.binding_message === 'Pay 10 EUR: 4711', 'ciba: GET /__test/ciba lists it {auth_req_id, sub, binding_message}', list);
    const p1 = await poll(req.auth_req_id);
    check(p1.status === 400 && p1.body.error === 'authorization_pending', 'ciba: poll before approval -> 400 authorization_pending', p1);
    await sleep(1100);
    const p2 = await poll(req.auth_req_id);
    check(p2.status === 400 && p2.body.error === 'authorization_pending', 'ciba: poll after the interval -> authorization_pending again (no slow_down)', p2);
    check(await decide('approve', req.auth_req_id) === 204, 'ciba: POST /__test/ciba/approve -> 204');
    check(!(await pending()).some((r) => r.auth_req_id === req.auth_req_id), 'ciba: approved request is no longer pending');
    check(await decide('approve', req.auth_req_id) === 404, 'ciba: approving it again -> 404');
    await sleep(1100);
    const t = await poll(req.auth_req_id);
    check(t.status === 200 && typeof t.body.access_token === 'string' && typeof t.body.id_token === 'string' && typeof t.body.refresh_token === 'string'
      && t.body.token_type === 'Bearer' && t.body.expires_in === 3600 && t.body.scope === 'openid profile email offline_access', 'ciba: after approval -> 200 access_token, id_token, refresh_token, Bearer, 3600, scope', t.body);
    check(JSON.stringify(t.body.authorization_details) === JSON.stringify(details), 'ciba: token response echoes authorization_details', t.body.authorization_details);
    const idt = await jwtVerify(t.body.id_token, keySet, { issuer: base, audience: CLIENT_ID }).catch((err) => err);
    check(!(idt instanceof Error) && idt.payload.sub === 'auth0|alice' && idt.payload.email === 'alice@example.com', 'ciba: id_token verifies (iss, aud), sub auth0|alice, profile/email claims', idt instanceof Error ? idt.message : idt.payload);
    const ui = await request(null, `${base}userinfo`, { headers: { authorization: `Bearer ${t.body.access_token}` } });
    check(ui.status === 200 && JSON.parse(ui.text).sub === 'auth0|alice', 'ciba: the access token works at /userinfo', ui.status);
    const r = await token(base, { grant_type: 'refresh_token', refresh_token: t.body.refresh_token });
    check(r.status === 200 && decodeJwt(r.body.id_token).sub === 'auth0|alice', 'ciba: the refresh token works', r.body);
    await sleep(1100);
    const again = await poll(req.auth_req_id);
    check(again.status === 400 && again.body.error === 'invalid_grant', 'ciba: polling a redeemed auth_req_id -> invalid_grant', again);
  }

  // ---- audience, requested_expiry, without offline_access ----------------------------------
  {
    const req = await start({ audience: ORDERS, requested_expiry: '60' }, 'audience');
    check(req.expires_in === 60, 'ciba: requested_expiry 60 -> expires_in 60', req);
    check(await decide('approve', req.auth_req_id) === 204, 'ciba: approve (audience)');
    const t = await poll(req.auth_req_id);
    const at = t.status === 200 ? decodeJwt(t.body.access_token) : {};
    check(t.status === 200 && at.aud === ORDERS && at.sub === 'auth0|alice' && at.scope === 'read:orders write:orders' && !t.body.refresh_token, 'ciba: audience -> orders JWT (all its scopes), no refresh_token without offline_access', { body: t.body, at });
    const api = await request(null, `${base}api/orders`, { headers: { authorization: `Bearer ${t.body.access_token}` } });
    check(api.status === 200, 'ciba: the orders token works at /api/orders', api.status);
  }

  // ---- deny ----------------------------------------------------------------------------
  {
    const req = await start({ login_hint: hint('auth0|bob') }, 'deny');
    check((await pending()).find((r) => r.auth_req_id === req.auth_req_id)?.sub === 'auth0|bob', 'ciba: login_hint auth0|bob maps to bob');
    check(await decide('deny', req.auth_req_id) === 204, 'ciba: POST /__test/ciba/deny -> 204');
    const d = await poll(req.auth_req_id);
    check(d.status === 400 && d.body.error === 'access_denied', 'ciba: denied -> 400 access_denied', d);
    check(await decide('approve', req.auth_req_id) === 404, 'ciba: approving a denied request -> 404');
  }

  // ---- slow_down -------------------------------------------------------------------------
  {
    const req = await start({}, 'slow_down');
    const p1 = await poll(req.auth_req_id);
    const p2 = await poll(req.auth_req_id);
    check(p1.body.error === 'authorization_pending' && p2.status === 400 && p2.body.error === 'slow_down' && /6 s/.test(p2.body.error_description), 'ciba: polling right away again -> 400 slow_down (interval now 6 s)', p2);
    await sleep(1100);
    const p3 = await poll(req.auth_req_id);
    check(p3.status === 400 && p3.body.error === 'slow_down' && /11 s/.test(p3.body.error_description), 'ciba: after slow_down 1 s is too soon -> slow_down again (interval +5)', p3);
    check(await decide('approve', req.auth_req_id) === 204, 'ciba: approve (slow_down)');
  }

  // ---- expiry -------------------------------------------------------------------------
  {
    const req = await start({ requested_expiry: '1' }, 'expiry');
    check(req.expires_in === 1, 'ciba: requested_expiry 1 -> expires_in 1', req);
    await sleep(2100);
    check(!(await pending()).some((r) => r.auth_req_id === req.auth_req_id), 'ciba: expired request is not listed');
    const e = await poll(req.auth_req_id);
    check(e.status === 400 && e.body.error === 'expired_token', 'ciba: after expiry -> 400 expired_token', e);
    check(await decide('approve', req.auth_req_id) === 404, 'ciba: approving an expired request -> 404');
  }

  // ---- Retry-After fault ----------------------------------------------------------------
  {
    const req = await start({}, 'retry-after');
    check((await setFaults({ cibaRetryAfter: 2 })).status === 204 && (await getFaults()).cibaRetryAfter === 2, 'ciba: faults {cibaRetryAfter: 2} -> 204');
    const f = await poll(req.auth_req_id);
    check(f.status === 503 && f.retryAfter === '2' && f.body.error === 'temporarily_unavailable', 'ciba: cibaRetryAfter -> 503 Retry-After: 2', f);
    check((await getFaults()).cibaRetryAfter === null, 'ciba: cibaRetryAfter is used once');
    const p = await poll(req.auth_req_id);
    check(p.status === 400 && p.body.error === 'authorization_pending', 'ciba: next poll continues (authorization_pending, the 503 did not count for slow_down)', p);
    check(await decide('approve', req.auth_req_id) === 204, 'ciba: approve (retry-after)');
    await sleep(1100);
    check((await poll(req.auth_req_id)).status === 200, 'ciba: then 200');
    check((await setFaults({ cibaRetryAfter: 0 })).status === 400 && (await setFaults({ cibaRetryAfter: 'x' })).status === 400, 'ciba: cibaRetryAfter 0 / "x" -> 400');
  }

  // ---- request errors -----------------------------------------------------------------
  {
    const bad = async (form, label, status, error, secret) => {
      const res = await bcAuthorize({
        scope: 'openid', binding_message: 'Sign in 42', login_hint: hint('auth0|alice'), ...form,
      }, secret);
      check(res.status === status && res.body.error === error, `ciba: ${label} -> ${status} ${error}`, res);
    };
    await bad({ login_hint: hint('auth0|nobody') }, 'unknown user', 400, 'unknown_user_id');
    await bad({ login_hint: 'alice' }, 'login_hint not JSON', 400, 'invalid_request');
    await bad({ login_hint: hint('auth0|alice', 'https://other.example.com/') }, 'login_hint of another issuer', 400, 'invalid_request');
    await bad({ scope: 'profile' }, 'scope without openid', 400, 'invalid_request');
    await bad({ binding_message: '' }, 'no binding_message', 400, 'invalid_request');
    await bad({ binding_message: 'x'.repeat(65) }, 'binding_message too long', 400, 'invalid_binding_message');
    await bad({ authorization_details: '{"type":"x"}' }, 'authorization_details not an array', 400, 'invalid_request');
    await bad({ requested_expiry: '301' }, 'requested_expiry 301', 400, 'invalid_request');
    await bad({ audience: 'https://unknown.example.com' }, 'unknown audience', 400, 'invalid_target');
    await bad({}, 'wrong client secret', 401, 'invalid_client', 'wrong-secret');
    const unknown = await poll('no-such-auth-req-id');
    check(unknown.status === 400 && unknown.body.error === 'invalid_grant', 'ciba: unknown auth_req_id -> invalid_grant', unknown);
  }

  const stats = await getStats();
  check(stats.cibaPolls === polls && stats.tokenRequests[CIBA_GRANT] === polls, `ciba: stats cibaPolls = ${polls}`, stats);
}

async function connectionSuite(base) {
  const getStats = async () => JSON.parse((await request(null, `${base}__test/stats`)).text);
  const setFaults = (body) => request(null, `${base}__test/faults`, { method: 'POST', json: body });
  let count = 0;
  const exchange = (form, extra = {}) => {
    count += 1;
    const body = {
      grant_type: FEDERATED_GRANT, requested_token_type: FEDERATED_TOKEN_TYPE, ...form, ...extra,
    };
    for (const [k, v] of Object.entries(body)) if (v === undefined) delete body[k];
    return token(base, body);
  };
  const isGoogleToken = (res) => res.status === 200 && /^conn_google-oauth2_[A-Za-z0-9_-]{16,}$/.test(res.body.access_token)
    && res.body.token_type === 'Bearer' && res.body.expires_in === 3600
    && res.body.scope === 'https://www.googleapis.com/auth/calendar.readonly' && res.body.issued_token_type === FEDERATED_TOKEN_TYPE
    && Object.keys(res.body).sort().join() === 'access_token,expires_in,issued_token_type,scope,token_type';

  check((await request(null, `${base}__test/stats/reset`, { method: 'POST' })).status === 204, 'connection: stats reset');
  const jar = new CookieJar();
  const first = await login(base, jar, { login: 'alice', password: 'alice-password', scope: 'openid profile offline_access' });
  must(first.status === 200 && first.body.refresh_token, 'connection: login with offline_access', first.body);
  const rt = first.body.refresh_token;

  const e1 = await exchange({ subject_token: rt, subject_token_type: RT_TYPE, connection: 'google-oauth2' });
  check(isGoogleToken(e1), 'connection: refresh token -> 200 google-oauth2 token {access_token conn_…, Bearer, 3600, scope, issued_token_type}', e1.body);
  const e2 = await exchange({ subject_token: rt, subject_token_type: RT_TYPE, connection: 'google-oauth2' }, { login_hint: 'alice@example.com' });
  check(isGoogleToken(e2) && e2.body.access_token !== e1.body.access_token, 'connection: same refresh token again (with login_hint) -> 200, a new token', e2.body);
  const refreshed = await token(base, { grant_type: 'refresh_token', refresh_token: rt });
  check(refreshed.status === 200 && refreshed.body.refresh_token, 'connection: the refresh token still works after the exchanges (not consumed)', refreshed.body);
  const rt2 = refreshed.body.refresh_token;
  const rotated = await exchange({ subject_token: rt, subject_token_type: RT_TYPE, connection: 'github' });
  check(rotated.status === 400 && rotated.body.error === 'invalid_grant', 'connection: a rotated (used) refresh token -> invalid_grant', rotated.body);
  const gh = await exchange({ subject_token: rt2, subject_token_type: RT_TYPE, connection: 'github' });
  check(gh.status === 200 && /^conn_github_/.test(gh.body.access_token) && gh.body.scope === 'read:user repo', 'connection: github -> 200 scope "read:user repo"', gh.body);

  const byOpaque = await exchange({ subject_token: refreshed.body.access_token, subject_token_type: AT_TYPE, connection: 'google-oauth2' });
  check(isGoogleToken(byOpaque), 'connection: opaque access token -> 200', byOpaque.body);
  const orders = await login(base, new CookieJar(), {
    login: 'bob', password: 'bob-password', audience: ORDERS, scope: 'openid read:orders',
  });
  const byJwt = await exchange({ subject_token: orders.body.access_token, subject_token_type: AT_TYPE, connection: 'google-oauth2' });
  check(isGoogleToken(byJwt), 'connection: JWT access token (audience login) -> 200', byJwt.body);

  const errorCase = async (form, label, status, error) => {
    const res = await exchange({ subject_token: rt2, subject_token_type: RT_TYPE, connection: 'google-oauth2', ...form });
    check(res.status === status && res.body.error === error && typeof res.body.error_description === 'string', `connection: ${label} -> ${status} ${error}`, res.body);
    return res;
  };
  const unknown = await errorCase({ connection: 'facebook' }, 'unknown connection', 400, 'invalid_request');
  check(/facebook/.test(unknown.body.error_description), 'connection: the description names the connection', unknown.body);
  const missing = await errorCase({ connection: undefined }, 'no connection', 400, 'invalid_request');
  check(/'connection'/.test(missing.body.error_description), 'connection: the description names the missing parameter', missing.body);
  await errorCase({ subject_token: 'not-a-token' }, 'bad refresh token', 400, 'invalid_grant');
  await errorCase({ subject_token: 'not-a-token', subject_token_type: AT_TYPE }, 'bad access token', 400, 'invalid_grant');
  await errorCase({ subject_token: `${orders.body.access_token.slice(0, -4)}AAAA`, subject_token_type: AT_TYPE }, 'JWT with a broken signature', 400, 'invalid_grant');
  await errorCase({ subject_token_type: AT_TYPE }, 'a refresh token sent as access token', 400, 'invalid_grant');
  await errorCase({ subject_token_type: 'urn:ietf:params:oauth:token-type:id_token' }, 'subject_token_type id_token', 400, 'invalid_request');
  await errorCase({ requested_token_type: 'urn:ietf:params:oauth:token-type:access_token' }, 'wrong requested_token_type', 400, 'invalid_request');
  await errorCase({ client_secret: 'wrong-secret' }, 'wrong client secret', 401, 'invalid_client');

  check((await setFaults({ connectionTokenError: 'federated_connection_refresh_token_not_found' })).status === 204, 'connection: faults {connectionTokenError} -> 204');
  await errorCase({}, 'injected connectionTokenError', 400, 'federated_connection_refresh_token_not_found');
  check(isGoogleToken(await exchange({ subject_token: rt2, subject_token_type: RT_TYPE, connection: 'google-oauth2' })), 'connection: the fault is used once, then 200');
  check((await setFaults({ connectionTokenError: 5 })).status === 400, 'connection: connectionTokenError must be a string -> 400');
  check((await setFaults({ accessTokenTtl: 7 })).status === 204, 'connection: faults {accessTokenTtl: 7}');
  const short = await exchange({ subject_token: rt2, subject_token_type: RT_TYPE, connection: 'google-oauth2' });
  check(short.status === 200 && short.body.expires_in === 7, 'connection: accessTokenTtl is honoured (expires_in 7)', short.body);
  check((await setFaults({ accessTokenTtl: null })).status === 204, 'connection: accessTokenTtl restored');

  check((await request(null, `${base}__test/revoke-refresh-tokens`, { method: 'POST', json: { sub: 'auth0|alice' } })).status === 204, 'connection: revoke alice\'s refresh tokens');
  await errorCase({}, 'revoked refresh token', 400, 'invalid_grant');

  const stats = await getStats();
  check(stats.connectionTokenRequests === count && stats.tokenRequests[FEDERATED_GRANT] === count, `connection: stats connectionTokenRequests = ${count}`, stats);
}

// ---------------------------------------------------------------------------------------------
// Auth0 My Account API: connected accounts
// ---------------------------------------------------------------------------------------------
const ME_SCOPES = ['create:me:connected_accounts', 'read:me:connected_accounts', 'delete:me:connected_accounts'];
const ME_BASE_PATH = 'me/v1/connected-accounts';
const CONNECT_REDIRECT = 'http://127.0.0.1:5555/connect/callback?from=connect';

const parseBody = (text) => {
  try {
    return JSON.parse(text);
  } catch {
    return { raw: text };
  }
};

// One request to the My Account API. `path` is relative to /me/v1/connected-accounts/.
async function meRequest(base, {
  method = 'GET', path: subPath, query = '', accessToken, scheme = 'Bearer', proof, json, raw, headers = {},
}) {
  const h = { ...headers };
  if (accessToken !== undefined) h.authorization = `${scheme} ${accessToken}`;
  if (proof !== undefined) h.dpop = proof;
  let body;
  if (raw !== undefined) {
    h['content-type'] = 'application/json';
    body = raw;
  } else if (json !== undefined) {
    h['content-type'] = 'application/json';
    body = JSON.stringify(json);
  }
  const response = await fetch(`${base}${ME_BASE_PATH}/${subPath}${query}`, {
    method, headers: h, body, redirect: 'manual',
  });
  const text = await response.text();
  return {
    status: response.status,
    body: text ? parseBody(text) : undefined,
    text,
    type: response.headers.get('content-type'),
    challenge: response.headers.get('www-authenticate'),
    nonce: response.headers.get('dpop-nonce'),
    headers: response.headers,
  };
}

const isProblem = (res, status) => res.status === status && /^application\/(problem\+)?json/.test(res.type ?? '')
  && typeof res.body?.type === 'string' && typeof res.body.title === 'string' && typeof res.body.detail === 'string' && res.body.status === status;

const isAccountShape = (account) => isPlainObjectValue(account)
  && Object.keys(account).join() === 'id,connection,access_type,scopes,created_at,expires_at'
  && /^cac_[A-Za-z0-9_-]+$/.test(account.id) && account.access_type === 'offline' && Array.isArray(account.scopes)
  && Date.parse(account.expires_at) - Date.parse(account.created_at) === 3600 * 1000
  && new Date(account.created_at).toISOString() === account.created_at;

function isPlainObjectValue(value) {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

// GET connect_uri?ticket=…: where it redirects to, with the parameters it appended.
async function visitConnectUri(connectResponse) {
  const url = new URL(connectResponse.connect_uri);
  url.searchParams.set('ticket', connectResponse.connect_params.ticket);
  const res = await request(null, url.href);
  const location = res.location ? new URL(res.location) : undefined;
  return {
    status: res.status, text: res.text, location, params: location ? Object.fromEntries(location.searchParams) : {}, raw: res.location,
  };
}

async function myAccountSuite(base, keySet) {
  const ME = `${base}me/`;
  const getStats = async () => JSON.parse((await request(null, `${base}__test/stats`)).text);
  const setFaults = (body) => request(null, `${base}__test/faults`, { method: 'POST', json: body });
  const getFaults = async () => JSON.parse((await request(null, `${base}__test/faults`)).text);
  const counts = {
    connect: 0, complete: 0, list: 0, delete: 0,
  };
  const call = (name, options) => {
    counts[name] += 1;
    return meRequest(base, options);
  };
  const connect = (accessToken, json, options = {}) => call('connect', {
    method: 'POST', path: 'connect', accessToken, json, ...options,
  });
  const complete = (accessToken, json, options = {}) => call('complete', {
    method: 'POST', path: 'complete', accessToken, json, ...options,
  });
  const list = (accessToken, query = '', options = {}) => call('list', { path: 'accounts', query, accessToken, ...options });
  const remove = (accessToken, id, options = {}) => call('delete', {
    method: 'DELETE', path: `accounts/${encodeURIComponent(id)}`, accessToken, ...options,
  });
  const connectBody = (overrides = {}) => {
    const { verifier, challenge } = pkce();
    const body = {
      connection: 'google-oauth2',
      redirect_uri: CONNECT_REDIRECT,
      state: crypto.randomBytes(8).toString('hex'),
      code_challenge: challenge,
      code_challenge_method: 'S256',
      ...overrides,
    };
    for (const [k, v] of Object.entries(body)) if (v === undefined) delete body[k];
    return { body, verifier };
  };
  // connect -> connect_uri -> { body (of connect), verifier, params (of the redirect) }
  const connectAndVisit = async (accessToken, overrides, label) => {
    const { body, verifier } = connectBody(overrides);
    const res = await connect(accessToken, body);
    must(res.status === 201, `my account: ${label}: POST connect -> 201`, res);
    const visit = await visitConnectUri(res.body);
    return {
      request: body, response: res.body, verifier, visit,
    };
  };
  const completeBody = (flow, overrides = {}) => ({
    auth_session: flow.response.auth_session,
    connect_code: flow.visit.params.connect_code,
    redirect_uri: flow.request.redirect_uri,
    code_verifier: flow.verifier,
    ...overrides,
  });

  check((await request(null, `${base}__test/stats/reset`, { method: 'POST' })).status === 204, 'my account: stats reset');
  {
    const st = await getStats();
    check(JSON.stringify(st.myAccountRequests) === JSON.stringify(counts) && st.lastConnectRequest === null && st.lastMyAccountAuthScheme === null, 'my account: stats after reset: myAccountRequests all 0, lastConnectRequest and lastMyAccountAuthScheme null', st);
  }

  // ---- access tokens for <issuer>me/ --------------------------------------------------------
  const plain = await login(base, new CookieJar(), { login: 'alice', password: 'alice-password' });
  must(plain.status === 200 && plain.body.refresh_token, 'my account: alice logs in without audience', plain.body);
  const meScope = `openid profile email offline_access ${ME_SCOPES.join(' ')}`;
  const full = await token(base, { grant_type: 'refresh_token', refresh_token: plain.body.refresh_token, audience: ME, scope: meScope });
  must(full.status === 200, 'my account: refresh (login without audience) with audience <issuer>me/ -> 200', full.body);
  const fullAt = await jwtVerify(full.body.access_token, keySet, { issuer: base, audience: ME }).catch((err) => err);
  check(!(fullAt instanceof Error) && fullAt.protectedHeader.alg === 'RS256' && fullAt.protectedHeader.typ === 'at+jwt' && fullAt.payload.aud === ME && fullAt.payload.sub === 'auth0|alice'
    && fullAt.payload.scope === ME_SCOPES.join(' ') && !fullAt.payload.cnf, 'my account: RS256 JWT, aud <issuer>me/, sub, scope = the three me scopes, not DPoP-bound', fullAt instanceof Error ? fullAt.message : fullAt.payload);
  check(full.body.token_type === 'Bearer' && full.body.scope === ME_SCOPES.join(' ') && !!full.body.id_token, 'my account: token response Bearer, scope = the me scopes, with id_token (openid asked)', full.body);
  let rt = full.body.refresh_token;
  const alice = full.body.access_token;

  const createOnly = await token(base, {
    grant_type: 'refresh_token', refresh_token: rt, audience: ME, scope: 'openid profile email offline_access create:me:connected_accounts',
  });
  must(createOnly.status === 200 && decodeJwt(createOnly.body.access_token).scope === 'create:me:connected_accounts', 'my account: scope=openid profile email offline_access create:me:connected_accounts -> token with only that me scope', createOnly.body);
  rt = createOnly.body.refresh_token;
  const aliceCreate = createOnly.body.access_token;
  const readOnly = await token(base, {
    grant_type: 'refresh_token', refresh_token: rt, audience: ME, scope: 'openid read:me:connected_accounts',
  });
  must(readOnly.status === 200 && decodeJwt(readOnly.body.access_token).scope === 'read:me:connected_accounts', 'my account: a read-only me token', readOnly.body);
  rt = readOnly.body.refresh_token;
  const aliceRead = readOnly.body.access_token;
  const noScope = await token(base, { grant_type: 'refresh_token', refresh_token: rt, audience: ME });
  check(noScope.status === 200 && decodeJwt(noScope.body.access_token).scope === ME_SCOPES.join(' '), 'my account: audience me/ without scope -> all me scopes', noScope.body);
  rt = noScope.body.refresh_token ?? rt;
  const foreign = await token(base, {
    grant_type: 'refresh_token', refresh_token: rt, audience: ME, scope: 'openid read:orders',
  });
  check(foreign.status === 400 && foreign.body.error === 'invalid_scope', 'my account: (login without audience) audience me/ with an orders scope -> invalid_scope, as for the other APIs', foreign.body);

  {
    const withAudience = await login(base, new CookieJar(), { login: 'alice', password: 'alice-password', audience: ORDERS });
    must(withAudience.status === 200, 'my account: alice logs in with audience orders', withAudience.body);
    const r = await token(base, {
      grant_type: 'refresh_token', refresh_token: withAudience.body.refresh_token, audience: ME, scope: `${meScope} read:orders`,
    });
    const p = r.status === 200 ? decodeJwt(r.body.access_token) : {};
    check(r.status === 200 && p.aud === ME && p.scope === ME_SCOPES.join(' '), 'my account: (login with audience orders) refresh for me/ with an extra orders scope -> me token, the orders scope dropped', { body: r.body, p });
    const direct = await login(base, new CookieJar(), { login: 'alice', password: 'alice-password', audience: ME, scope: `${meScope}` });
    const d = direct.status === 200 ? decodeJwt(direct.body.access_token) : {};
    check(direct.status === 200 && d.aud === ME && d.scope === ME_SCOPES.join(' '), 'my account: a login with audience=<issuer>me/ gets a me token from the code exchange', { body: direct.body, d });
    const back = await token(base, { grant_type: 'refresh_token', refresh_token: direct.body.refresh_token, audience: ORDERS });
    check(back.status === 200 && decodeJwt(back.body.access_token).aud === ORDERS, 'my account: ... and its refresh token reaches the orders API', back.body);
  }
  const bobLogin = await login(base, new CookieJar(), { login: 'bob', password: 'bob-password' });
  const bobMe = await token(base, { grant_type: 'refresh_token', refresh_token: bobLogin.body.refresh_token, audience: ME });
  must(bobMe.status === 200, 'my account: bob gets a me token', bobMe.body);
  const bob = bobMe.body.access_token;

  // ---- connect -> connect_uri -> complete (Bearer) ---------------------------------------
  let google;
  {
    const { body, verifier } = connectBody({
      scopes: ['openid', 'https://www.googleapis.com/auth/calendar'],
      authorization_params: { login_hint: 'alice@gmail.com', prompt: 'consent' },
    });
    const res = await connect(aliceCreate, body);
    check(res.status === 201 && Object.keys(res.body).join() === 'connect_uri,connect_params,auth_session,expires_in'
      && res.body.connect_uri === `${base}connect/authorize` && Object.keys(res.body.connect_params).join() === 'ticket'
      && typeof res.body.connect_params.ticket === 'string' && res.body.connect_params.ticket.length >= 16
      && typeof res.body.auth_session === 'string' && res.body.auth_session.length >= 16 && res.body.expires_in === 300
      && /^application\/json/.test(res.type ?? ''), 'my account: POST /me/v1/connected-accounts/connect -> 201 {connect_uri <issuer>connect/authorize, connect_params {ticket}, auth_session, expires_in 300}', res);
    const st = await getStats();
    check(JSON.stringify(st.lastConnectRequest) === JSON.stringify(body) && st.lastMyAccountAuthScheme === 'Bearer', 'my account: stats lastConnectRequest = the body sent, lastMyAccountAuthScheme Bearer', st);

    const early = await complete(aliceCreate, {
      auth_session: res.body.auth_session, connect_code: 'x', redirect_uri: body.redirect_uri, code_verifier: verifier,
    });
    check(isProblem(early, 400) && /no connect_code was issued/.test(early.body.detail), 'my account: complete before the connect_uri was visited -> 400', early.body);

    const visit = await visitConnectUri(res.body);
    check(visit.status === 302 && visit.raw.startsWith(`${CONNECT_REDIRECT}&connect_code=`) && visit.params.from === 'connect'
      && typeof visit.params.connect_code === 'string' && visit.params.connect_code.length >= 16 && visit.params.state === body.state
      && Object.keys(visit.params).join() === 'from,connect_code,state', 'my account: GET connect_uri?ticket -> 302 to redirect_uri (its query kept) + connect_code & state', visit);
    const again = await visitConnectUri(res.body);
    check(again.status === 400 && !again.location && /already used/.test(again.text), 'my account: the ticket is single-use (second visit -> 400 text)', again);
    const unknown = await request(null, `${base}connect/authorize?ticket=nope`);
    check(unknown.status === 400 && !unknown.location && /unknown ticket/.test(unknown.text), 'my account: unknown ticket -> 400', unknown.text);
    const none = await request(null, `${base}connect/authorize`);
    check(none.status === 400 && /ticket is required/.test(none.text), 'my account: no ticket -> 400', none.text);

    const wrongCode = await complete(aliceCreate, {
      auth_session: res.body.auth_session, connect_code: 'not-the-code', redirect_uri: body.redirect_uri, code_verifier: verifier,
    });
    check(isProblem(wrongCode, 400) && wrongCode.body.title === 'Invalid request' && /does not match/.test(wrongCode.body.detail)
      && wrongCode.body.validation_errors?.[0]?.field === 'connect_code', 'my account: complete with a wrong connect_code -> 400 (field connect_code)', wrongCode.body);
    const otherUser = await complete(bob, {
      auth_session: res.body.auth_session, connect_code: visit.params.connect_code, redirect_uri: body.redirect_uri, code_verifier: verifier,
    });
    check(isProblem(otherUser, 400) && /another user/.test(otherUser.body.detail), 'my account: complete with another user\'s token -> 400', otherUser.body);

    const done = await complete(aliceCreate, {
      auth_session: res.body.auth_session, connect_code: visit.params.connect_code, redirect_uri: body.redirect_uri, code_verifier: verifier,
    });
    check(done.status === 201 && isAccountShape(done.body) && done.body.connection === 'google-oauth2'
      && JSON.stringify(done.body.scopes) === JSON.stringify(body.scopes) && Math.abs(Date.parse(done.body.created_at) - Date.now()) < 5000, 'my account: complete (after the refused attempts) -> 201 {id cac_…, connection, access_type offline, scopes of the connect, created_at, expires_at +1h}', done.body);
    google = done.body;
    const reused = await complete(aliceCreate, {
      auth_session: res.body.auth_session, connect_code: visit.params.connect_code, redirect_uri: body.redirect_uri, code_verifier: verifier,
    });
    check(isProblem(reused, 400) && /already used/.test(reused.body.detail), 'my account: the connect_code again -> 400 already used', reused.body);
    console.log(`     complete: ${done.status} ${JSON.stringify(done.body)}; reused: ${reused.status} ${JSON.stringify(reused.body)}`);
  }

  // github without scopes: the connection's default scopes
  const github = await (async () => {
    const flow = await connectAndVisit(alice, { connection: 'github', redirect_uri: 'http://localhost:5555/cb' }, 'github');
    check(flow.visit.raw.startsWith('http://localhost:5555/cb?connect_code='), 'my account: redirect_uri without query gets ?connect_code=…&state=…', flow.visit.raw);
    const res = await complete(alice, completeBody(flow));
    check(res.status === 201 && res.body.connection === 'github' && JSON.stringify(res.body.scopes) === '["read:user","repo"]', 'my account: connect without scopes -> the connection\'s default scopes ["read:user","repo"]', res.body);
    return res.body;
  })();

  // the code is spent by a complete that names it, even when a later check fails
  {
    const flow = await connectAndVisit(alice, {}, 'wrong redirect');
    const wrongRedirect = await complete(alice, completeBody(flow, { redirect_uri: 'http://127.0.0.1:5555/connect/callback' }));
    check(isProblem(wrongRedirect, 400) && wrongRedirect.body.validation_errors?.[0]?.field === 'redirect_uri' && /redirect_uri/.test(wrongRedirect.body.detail), 'my account: complete with another redirect_uri -> 400 (field redirect_uri)', wrongRedirect.body);
    const after = await complete(alice, completeBody(flow));
    check(isProblem(after, 400) && /already used/.test(after.body.detail), 'my account: ... and the connect_code is spent (right redirect_uri afterwards -> 400 already used)', after.body);
    const pkceFlow = await connectAndVisit(alice, {}, 'bad PKCE');
    const badPkce = await complete(alice, completeBody(pkceFlow, { code_verifier: pkce().verifier }));
    check(isProblem(badPkce, 400) && badPkce.body.validation_errors?.[0]?.field === 'code_verifier' && /code_verifier/.test(badPkce.body.detail), 'my account: complete with a wrong code_verifier -> 400 (field code_verifier)', badPkce.body);
    const unknownSession = await complete(alice, completeBody(pkceFlow, { auth_session: 'nope' }));
    check(isProblem(unknownSession, 400) && unknownSession.body.validation_errors?.[0]?.field === 'auth_session', 'my account: complete with an unknown auth_session -> 400 (field auth_session)', unknownSession.body);
    const missing = await complete(alice, { auth_session: pkceFlow.response.auth_session, connect_code: 7 });
    check(isProblem(missing, 400) && JSON.stringify(missing.body.validation_errors.map((e) => e.field)) === '["connect_code","redirect_uri","code_verifier"]'
      && missing.body.validation_errors.every((e) => typeof e.detail === 'string'), 'my account: complete with missing/non-string fields -> 400 validation_errors for each', missing.body);
  }

  // ---- connect validation ------------------------------------------------------------------
  {
    const bad = async (label, overrides, field) => {
      const { body } = connectBody(overrides);
      const res = await connect(alice, body);
      check(isProblem(res, 400) && res.body.title === 'Invalid request' && JSON.stringify(res.body.validation_errors?.map((e) => e.field)) === JSON.stringify([field])
        && typeof res.body.validation_errors[0].detail === 'string', `my account: connect with ${label} -> 400 validation_errors [${field}]`, res.body);
      return res;
    };
    const unknownConnection = await bad('an unknown connection', { connection: 'facebook' }, 'connection');
    console.log(`     connect validation: ${unknownConnection.status} ${unknownConnection.type} ${JSON.stringify(unknownConnection.body)}`);
    await bad('no connection', { connection: undefined }, 'connection');
    await bad('a non-loopback redirect_uri', { redirect_uri: 'https://evil.example.net/cb' }, 'redirect_uri');
    await bad('a redirect_uri with a fragment', { redirect_uri: 'http://127.0.0.1:5555/cb#x' }, 'redirect_uri');
    await bad('a relative redirect_uri', { redirect_uri: '/cb' }, 'redirect_uri');
    await bad('an empty state', { state: '' }, 'state');
    await bad('no state', { state: undefined }, 'state');
    await bad('a 42-character code_challenge', { code_challenge: 'a'.repeat(42) }, 'code_challenge');
    await bad('a code_challenge with "="', { code_challenge: `${'a'.repeat(42)}=` }, 'code_challenge');
    await bad('code_challenge_method plain', { code_challenge_method: 'plain' }, 'code_challenge_method');
    await bad('no code_challenge_method', { code_challenge_method: undefined }, 'code_challenge_method');
    await bad('scopes a string', { scopes: 'openid' }, 'scopes');
    await bad('scopes with a number', { scopes: ['openid', 5] }, 'scopes');
    await bad('authorization_params with a number', { authorization_params: { max_age: 5 } }, 'authorization_params');
    await bad('authorization_params an array', { authorization_params: ['x'] }, 'authorization_params');
    const nulls = await connect(alice, connectBody({ scopes: null, authorization_params: null }).body);
    check(nulls.status === 201, 'my account: scopes / authorization_params null are taken as absent -> 201', nulls.body);
    const many = await connect(alice, { connection: 'nope', code_challenge_method: 'S256' });
    check(isProblem(many, 400) && JSON.stringify(many.body.validation_errors.map((e) => e.field)) === '["connection","redirect_uri","state","code_challenge"]', 'my account: several problems -> one validation error each', many.body);
    const notJson = await call('connect', {
      method: 'POST', path: 'connect', accessToken: alice, raw: '{not json',
    });
    check(isProblem(notJson, 400) && notJson.body.validation_errors?.[0]?.field === 'body', 'my account: a body that is not JSON -> 400 (field body)', notJson.body);
    check((await getStats()).lastConnectRequest === null, 'my account: stats lastConnectRequest null after a body that is not JSON');
    const array = await connect(alice, [1]);
    check(isProblem(array, 400) && array.body.validation_errors?.[0]?.field === 'body', 'my account: a JSON array body -> 400 (field body)', array.body);
  }

  // ---- scopes and authentication -------------------------------------------------------
  {
    const unauthenticatedBody = connectBody({ connection: 'github' }).body;
    const unauthenticated = await connect(undefined, unauthenticatedBody);
    check(isProblem(unauthenticated, 401) && JSON.stringify((await getStats()).lastConnectRequest) === JSON.stringify(unauthenticatedBody) && (await getStats()).lastMyAccountAuthScheme === null,
      'my account: connect without a token -> 401; stats lastConnectRequest holds its body, lastMyAccountAuthScheme null', unauthenticated.body);
    const forbidden = await connect(aliceRead, connectBody().body);
    check(isProblem(forbidden, 403) && forbidden.challenge === 'Bearer error="insufficient_scope", error_description="insufficient scope (the access token needs the scope create:me:connected_accounts)", scope="create:me:connected_accounts"',
      'my account: connect with a token without create:me:connected_accounts -> 403 insufficient_scope', { body: forbidden.body, challenge: forbidden.challenge });
    const forbiddenList = await list(aliceCreate);
    check(isProblem(forbiddenList, 403) && /scope="read:me:connected_accounts"/.test(forbiddenList.challenge ?? ''), 'my account: list without read:me:connected_accounts -> 403', forbiddenList.challenge);
    const forbiddenDelete = await remove(aliceRead, google.id);
    check(isProblem(forbiddenDelete, 403) && /scope="delete:me:connected_accounts"/.test(forbiddenDelete.challenge ?? ''), 'my account: delete without delete:me:connected_accounts -> 403', forbiddenDelete.challenge);
    const forbiddenComplete = await complete(aliceRead, { auth_session: 'x', connect_code: 'y', redirect_uri: CONNECT_REDIRECT, code_verifier: 'z' });
    check(isProblem(forbiddenComplete, 403), 'my account: complete without create:me:connected_accounts -> 403', forbiddenComplete.body);

    const noAuth = await list(undefined);
    check(isProblem(noAuth, 401) && noAuth.challenge === 'Bearer realm="my-account", DPoP realm="my-account", algs="ES256 RS256 PS256 EdDSA"', 'my account: no Authorization -> 401 WWW-Authenticate: Bearer realm="my-account", DPoP realm=…', { body: noAuth.body, challenge: noAuth.challenge });
    const basic = await list('YTpi', '', { scheme: 'Basic' });
    check(isProblem(basic, 401) && /^Bearer realm="my-account"/.test(basic.challenge ?? ''), 'my account: Basic auth -> 401 with the realm challenge', basic.challenge);
    const expectInvalid = async (label, res, detailPattern) => {
      check(isProblem(res, 401) && detailPattern.test(res.body.detail) && res.challenge === `Bearer error="invalid_token", error_description="${res.body.detail}"`, `my account: ${label} -> 401 Bearer error="invalid_token" + problem JSON`, { body: res.body, challenge: res.challenge });
    };
    const orders = await token(base, { grant_type: 'refresh_token', refresh_token: rt, audience: ORDERS });
    rt = orders.body.refresh_token;
    await expectInvalid('an orders token (wrong audience)', await list(orders.body.access_token), /^access token invalid: .*aud/);
    const [h, p, sig] = alice.split('.');
    await expectInvalid('a bad signature', await list(`${h}.${p}.${sig[0] === 'A' ? 'B' : 'A'}${sig.slice(1)}`), /^access token invalid/);
    await expectInvalid('an opaque token', await list(plain.body.access_token), /^access token invalid/);

    check((await setFaults({ accessTokenTtl: 1 })).status === 204, 'my account: faults {accessTokenTtl: 1}');
    const short = await token(base, { grant_type: 'refresh_token', refresh_token: rt, audience: ME });
    check((await setFaults({ accessTokenTtl: null })).status === 204, 'my account: accessTokenTtl restored');
    must(short.status === 200 && short.body.expires_in === 1, 'my account: a me token that lives 1 s', short.body);
    rt = short.body.refresh_token;
    await sleep(2100);
    await expectInvalid('an expired token', await list(short.body.access_token), /^access token expired$/);

    // a DPoP-bound me token from this server (no --dpop-bound: a proof at the token endpoint binds it)
    const key = await dpopKey();
    const bound = await dpopToken(base, key, { grant_type: 'refresh_token', refresh_token: rt, audience: ME }, {});
    must(bound.status === 200 && bound.body.token_type === 'DPoP' && decodeJwt(bound.body.access_token).cnf?.jkt === key.jkt, 'my account: a DPoP proof at the token endpoint gives a DPoP-bound me token', bound.body);
    rt = bound.body.refresh_token;
    await expectInvalid('a DPoP-bound token sent as Bearer', await list(bound.body.access_token), /DPoP-bound access token cannot be used as a bearer token/);
    const meUrl = `${base}${ME_BASE_PATH}/accounts`;
    const unboundAsDpop = await list(alice, '', { scheme: 'DPoP', proof: await dpopProof(key, { htm: 'GET', htu: meUrl, accessToken: alice }) });
    check(isProblem(unboundAsDpop, 401) && /^DPoP error="invalid_token", error_description="access token is not DPoP-bound/.test(unboundAsDpop.challenge ?? ''), 'my account: an unbound token with the DPoP scheme -> 401 DPoP error="invalid_token"', unboundAsDpop.challenge);
    const first = await list(bound.body.access_token, '', { scheme: 'DPoP', proof: await dpopProof(key, { htm: 'GET', htu: meUrl, accessToken: bound.body.access_token }) });
    check(isProblem(first, 401) && !!first.nonce && /^DPoP error="use_dpop_nonce"/.test(first.challenge ?? ''), 'my account: DPoP without nonce -> 401 use_dpop_nonce + DPoP-Nonce (also without --dpop-nonce)', first);
    const second = await list(bound.body.access_token, '', { scheme: 'DPoP', proof: await dpopProof(key, { htm: 'GET', htu: meUrl, accessToken: bound.body.access_token, nonce: first.nonce }) });
    check(second.status === 200 && Array.isArray(second.body.accounts) && (await getStats()).lastMyAccountAuthScheme === 'DPoP', 'my account: retry with the nonce -> 200; stats lastMyAccountAuthScheme DPoP', second.body);

    const wrongMethod = await call('connect', { path: 'connect', accessToken: alice });
    check(isProblem(wrongMethod, 405) && wrongMethod.headers.get('allow') === 'POST, OPTIONS', 'my account: GET connect -> 405 problem JSON, Allow: POST, OPTIONS', wrongMethod.body);
    const unknownRoute = await meRequest(base, { path: 'nothing-here', accessToken: alice });
    check(isProblem(unknownRoute, 404), 'my account: unknown /me/v1 route -> 404 problem JSON', unknownRoute.body);
    const preflight = await request(null, `${base}${ME_BASE_PATH}/accounts/cac_x`, { method: 'OPTIONS', headers: { origin: 'http://localhost:5555', 'access-control-request-method': 'DELETE' } });
    check(preflight.status === 204 && preflight.headers.get('access-control-allow-origin') === 'http://localhost:5555' && preflight.headers.get('access-control-allow-methods') === 'DELETE'
      && /DPoP/.test(preflight.headers.get('access-control-allow-headers') ?? ''), 'my account: CORS preflight of a loopback origin -> 204', Object.fromEntries(preflight.headers));
  }

  // ---- list: pagination, filter ----------------------------------------------------------
  let aliceAccounts;
  {
    // google, github so far; two more
    const flows = [];
    for (const connection of ['github', 'google-oauth2']) {
      const flow = await connectAndVisit(alice, { connection }, `another ${connection}`);
      const res = await complete(alice, completeBody(flow));
      must(res.status === 201, `my account: another ${connection} connected`, res.body);
      flows.push(res.body);
    }
    aliceAccounts = [google, github, ...flows];
    const pages = [];
    let next;
    for (let i = 0; i < 5; i += 1) {
      const res = await list(alice, next === undefined ? '' : `?next=${encodeURIComponent(next)}`);
      must(res.status === 200, `my account: list page ${i + 1} -> 200`, res.body);
      pages.push(res.body);
      next = res.body.next;
      if (next === undefined) break;
    }
    check(pages.length === 2 && pages.every((page) => page.accounts.length === 2) && typeof pages[0].next === 'string' && pages[0].next.length > 0
      && !('next' in pages[1]) && Object.keys(pages[0]).join() === 'accounts,next' && Object.keys(pages[1]).join() === 'accounts', 'my account: 4 accounts -> 2 pages of 2, next only on the first', pages);
    check(JSON.stringify(pages.flatMap((page) => page.accounts)) === JSON.stringify(aliceAccounts), 'my account: the pages hold every account in creation order, as complete returned them', pages);
    const githubOnly = await list(alice, '?connection=github');
    check(githubOnly.status === 200 && githubOnly.body.accounts.length === 2 && githubOnly.body.accounts.every((a) => a.connection === 'github') && !('next' in githubOnly.body), 'my account: ?connection=github -> only github accounts', githubOnly.body);
    const googleFirst = await list(alice, '?connection=google-oauth2');
    check(googleFirst.body.accounts.length === 2 && !googleFirst.body.next, 'my account: ?connection=google-oauth2 -> 2 accounts, one page', googleFirst.body);
    const badCursor = await list(alice, '?next=not-a-cursor');
    check(isProblem(badCursor, 400) && badCursor.body.validation_errors?.[0]?.field === 'next', 'my account: unknown cursor -> 400 (field next)', badCursor.body);
    const stolenCursor = await list(bob, `?next=${encodeURIComponent(pages[0].next)}`);
    check(isProblem(stolenCursor, 400), 'my account: another user\'s cursor -> 400', stolenCursor.body);
    const bobList = await list(bob);
    check(bobList.status === 200 && JSON.stringify(bobList.body) === '{"accounts":[]}', 'my account: bob has no connected accounts -> {"accounts":[]}', bobList.body);
  }

  // ---- delete ----------------------------------------------------------------------------
  {
    const notMine = await remove(bob, github.id);
    check(isProblem(notMine, 404), 'my account: bob deleting alice\'s account -> 404 problem JSON', notMine.body);
    const gone = await remove(alice, github.id);
    check(gone.status === 204 && gone.text === '', 'my account: DELETE /accounts/:id -> 204', gone);
    const twice = await remove(alice, github.id);
    check(isProblem(twice, 404), 'my account: deleting it again -> 404', twice.body);
    const unknown = await remove(alice, 'cac_unknown');
    check(isProblem(unknown, 404), 'my account: unknown id -> 404', unknown.body);
    aliceAccounts = aliceAccounts.filter((a) => a.id !== github.id);
    const first = await list(alice);
    const second = await list(alice, `?next=${encodeURIComponent(first.body.next)}`);
    check(JSON.stringify([...first.body.accounts, ...second.body.accounts]) === JSON.stringify(aliceAccounts) && !second.body.next, 'my account: the deleted account is no longer listed', [first.body, second.body]);
  }

  // ---- faults ----------------------------------------------------------------------------
  {
    for (const [body, label] of [
      [{ connectError: 200 }, 'connectError 200'], [{ connectError: 600 }, 'connectError 600'], [{ connectError: '500' }, 'connectError "500"'],
      [{ completeError: 399 }, 'completeError 399'], [{ connectDeny: 'yes' }, 'connectDeny "yes"'], [{ connectedAccountsPageSize: 0 }, 'connectedAccountsPageSize 0'],
      [{ connectedAccountsPageSize: 1.5 }, 'connectedAccountsPageSize 1.5'], [{ connectedAccountsRepeatNext: 1 }, 'connectedAccountsRepeatNext 1'],
    ]) {
      check((await setFaults(body)).status === 400, `my account: faults ${label} -> 400`);
    }
    const start = await getFaults();
    check(start.connectError === null && start.completeError === null && start.connectDeny === false && start.connectedAccountsPageSize === null && start.connectedAccountsRepeatNext === false,
      'my account: GET /__test/faults shows the connected-accounts faults (off)', start);

    check((await setFaults({ connectError: 503 })).status === 204 && (await getFaults()).connectError === 503, 'my account: faults {connectError: 503} -> 204');
    const { body } = connectBody({ connection: 'github' });
    const failedConnect = await connect(alice, body);
    check(isProblem(failedConnect, 503) && failedConnect.body.title === 'Service Unavailable' && /connectError/.test(failedConnect.body.detail), 'my account: connectError -> the next connect answers 503 problem JSON', failedConnect.body);
    check(JSON.stringify((await getStats()).lastConnectRequest) === JSON.stringify(body) && (await getFaults()).connectError === null, 'my account: connectError is one-shot; lastConnectRequest recorded anyway');
    check((await connect(alice, body)).status === 201, 'my account: then connect works again');

    const flow = await connectAndVisit(alice, {}, 'completeError');
    check((await setFaults({ completeError: 400 })).status === 204, 'my account: faults {completeError: 400}');
    const failedComplete = await complete(alice, completeBody(flow));
    check(isProblem(failedComplete, 400) && /completeError/.test(failedComplete.body.detail), 'my account: completeError -> the next complete answers 400 problem JSON', failedComplete.body);
    const afterFault = await complete(alice, completeBody(flow));
    check(afterFault.status === 201 && (await getFaults()).completeError === null, 'my account: completeError is one-shot and spends nothing: the same complete then -> 201', afterFault.body);
    aliceAccounts.push(afterFault.body);

    check((await setFaults({ disconnectError: 500 })).status === 204, 'my account: faults {disconnectError: 500}');
    const failedDelete = await remove(alice, afterFault.body.id);
    check(isProblem(failedDelete, 500) && /disconnectError/.test(failedDelete.body.detail), 'my account: disconnectError -> the next delete answers 500 problem JSON', failedDelete.body);
    check((await getFaults()).disconnectError === null, 'my account: disconnectError is one-shot');

    check((await setFaults({ connectDeny: true })).status === 204, 'my account: faults {connectDeny: true}');
    const denied = await connectAndVisit(alice, {}, 'connectDeny');
    check(denied.visit.status === 302 && denied.visit.raw === `${CONNECT_REDIRECT}&error=access_denied&error_description=The+user+denied+the+connection&state=${denied.request.state}`,
      'my account: connectDeny -> 302 redirect_uri&error=access_denied&error_description=The+user+denied+the+connection&state=…', denied.visit.raw);
    check((await getFaults()).connectDeny === false, 'my account: connectDeny is one-shot');
    const deniedComplete = await complete(alice, completeBody(denied, { connect_code: 'anything' }));
    check(isProblem(deniedComplete, 400) && /denied/.test(deniedComplete.body.detail), 'my account: complete of a denied connect -> 400', deniedComplete.body);
    const approved = await connectAndVisit(alice, {}, 'after connectDeny');
    check(approved.visit.status === 302 && !!approved.visit.params.connect_code, 'my account: the next connect is approved again', approved.visit.raw);

    check((await setFaults({ connectedAccountsPageSize: 1 })).status === 204, 'my account: faults {connectedAccountsPageSize: 1}');
    const pages = [];
    let next;
    for (let i = 0; i < 10; i += 1) {
      const res = await list(alice, next === undefined ? '' : `?next=${encodeURIComponent(next)}`);
      pages.push(res.body);
      next = res.body.next;
      if (next === undefined) break;
    }
    check(pages.length === aliceAccounts.length && pages.every((page) => page.accounts.length === 1) && JSON.stringify(pages.flatMap((page) => page.accounts)) === JSON.stringify(aliceAccounts), `my account: connectedAccountsPageSize 1 -> ${aliceAccounts.length} pages of 1`, pages);
    check((await setFaults({ connectedAccountsPageSize: null })).status === 204 && (await list(alice)).body.accounts.length === 2, 'my account: connectedAccountsPageSize null -> pages of 2 again');

    check((await setFaults({ connectedAccountsRepeatNext: true })).status === 204, 'my account: faults {connectedAccountsRepeatNext: true}');
    const r1 = await list(alice);
    const r2 = await list(alice, `?next=${encodeURIComponent(r1.body.next)}`);
    const r3 = await list(alice, `?next=${encodeURIComponent(r2.body.next)}`);
    check(typeof r1.body.next === 'string' && r1.body.next.length > 0 && r2.body.next === r1.body.next && r3.body.next === r1.body.next && r3.status === 200,
      'my account: connectedAccountsRepeatNext -> every page answers the same non-empty next', [r1.body, r2.body, r3.body]);
    const bobRepeat = await list(bob);
    check(bobRepeat.status === 200 && bobRepeat.body.accounts.length === 0 && typeof bobRepeat.body.next === 'string' && bobRepeat.body.next.length > 0, 'my account: ... even for an empty list', bobRepeat.body);
    check((await getFaults()).connectedAccountsRepeatNext === true, 'my account: connectedAccountsRepeatNext stays on');
    check((await setFaults({ connectedAccountsRepeatNext: false })).status === 204, 'my account: connectedAccountsRepeatNext false');
    const normal = await list(bob);
    check(JSON.stringify(normal.body) === '{"accounts":[]}', 'my account: ... and lists end again', normal.body);
  }

  // ---- test controls: seed and clear -------------------------------------------------------
  {
    const seed = (body) => request(null, `${base}__test/connected-accounts`, { method: 'POST', json: body });
    const seeded = await seed({ sub: 'auth0|bob', accounts: [{ connection: 'github', scopes: ['repo'] }, { connection: 'google-oauth2' }] });
    const seededBody = parseBody(seeded.text);
    check(seeded.status === 200 && seededBody.accounts?.length === 2 && seededBody.accounts.every(isAccountShape)
      && JSON.stringify(seededBody.accounts.map((a) => [a.connection, a.scopes])) === '[["github",["repo"]],["google-oauth2",["https://www.googleapis.com/auth/calendar.readonly"]]]',
    'my account: POST /__test/connected-accounts seeds accounts (default scopes when none are given) -> 200 {accounts}', seededBody);
    const bobList = await list(bob);
    check(JSON.stringify(bobList.body) === JSON.stringify({ accounts: seededBody.accounts }), 'my account: bob\'s list shows the seeded accounts', bobList.body);
    for (const [body, label] of [
      [{ accounts: [] }, 'no sub'], [{ sub: 'auth0|bob' }, 'no accounts'], [{ sub: 'auth0|bob', accounts: [{ connection: 'facebook' }] }, 'an unknown connection'],
      [{ sub: 'auth0|bob', accounts: [{ connection: 'github', scopes: 'repo' }] }, 'scopes a string'],
    ]) {
      check((await seed(body)).status === 400, `my account: seeding with ${label} -> 400`);
    }
    const cleared = await request(null, `${base}__test/connected-accounts`, { method: 'DELETE' });
    check(cleared.status === 204, 'my account: DELETE /__test/connected-accounts -> 204');
    const afterClear = [await list(alice), await list(bob)];
    check(afterClear.every((res) => JSON.stringify(res.body) === '{"accounts":[]}'), 'my account: ... every account is gone', afterClear.map((res) => res.body));
    const pendingGone = await complete(alice, { auth_session: 'x', connect_code: 'y', redirect_uri: CONNECT_REDIRECT, code_verifier: 'z' });
    check(isProblem(pendingGone, 400), 'my account: ... and so are pending connects');
  }

  const st = await getStats();
  check(JSON.stringify(st.myAccountRequests) === JSON.stringify(counts), `my account: stats myAccountRequests = ${JSON.stringify(counts)}`, st.myAccountRequests);
  check((await request(null, `${base}__test/stats/reset`, { method: 'POST' })).status === 204, 'my account: stats reset');
  const zero = await getStats();
  check(JSON.stringify(zero.myAccountRequests) === '{"connect":0,"complete":0,"list":0,"delete":0}' && zero.lastConnectRequest === null && zero.lastMyAccountAuthScheme === null, 'my account: stats reset zeroes the My Account counters', zero);
}

// On the server with --dpop-nonce --dpop-bound: the whole flow with DPoP-bound tokens.
async function myAccountDpopSuite(base) {
  const ME = `${base}me/`;
  const getStats = async () => JSON.parse((await request(null, `${base}__test/stats`)).text);
  const setFaults = (body) => request(null, `${base}__test/faults`, { method: 'POST', json: body });
  const url = (subPath) => `${base}${ME_BASE_PATH}/${subPath}`;
  const key = await dpopKey();
  const otherKey = await dpopKey();
  const nonces = {};

  const jar = new CookieJar();
  const auth = await authorize(base, jar, { login: 'alice', password: 'alice-password' });
  const code = await dpopToken(base, key, {
    grant_type: 'authorization_code', code: auth.callback.searchParams.get('code'), redirect_uri: REDIRECT_URI, code_verifier: auth.verifier,
  }, nonces);
  must(code.status === 200 && code.body.refresh_token, 'my account (dpop): alice logs in (DPoP, no audience)', code.body);
  const noProof = await token(base, { grant_type: 'refresh_token', refresh_token: code.body.refresh_token, audience: ME });
  check(noProof.status === 400 && noProof.body.error === 'invalid_dpop_proof', 'my account (dpop): --dpop-bound: refresh for me/ without a proof -> invalid_dpop_proof', noProof.body);
  const me = await dpopToken(base, key, {
    grant_type: 'refresh_token', refresh_token: code.body.refresh_token, audience: ME, scope: `openid profile email offline_access ${ME_SCOPES.join(' ')}`,
  }, nonces);
  must(me.status === 200 && me.body.token_type === 'DPoP', 'my account (dpop): refresh for <issuer>me/ with a proof -> DPoP token', me.body);
  const claims = decodeJwt(me.body.access_token);
  check(claims.aud === ME && claims.cnf?.jkt === key.jkt && claims.scope === ME_SCOPES.join(' '), 'my account (dpop): me token bound to the key (cnf.jkt), aud me/, the me scopes', claims);
  let rt = me.body.refresh_token;
  const at = me.body.access_token;

  // A nonce of /api/dpop/orders (another resource server), for an orders token bound to the key.
  const orders = await dpopToken(base, key, { grant_type: 'refresh_token', refresh_token: rt, audience: ORDERS }, nonces);
  must(orders.status === 200, 'my account (dpop): a bound orders token', orders.body);
  rt = orders.body.refresh_token;
  const ordersCall = async (nonce) => request(null, `${base}api/dpop/orders`, {
    headers: {
      authorization: `DPoP ${orders.body.access_token}`,
      dpop: await dpopProof(key, {
        htm: 'GET', htu: `${base}api/dpop/orders`, accessToken: orders.body.access_token, nonce,
      }),
    },
  });
  const ordersNonce = (await ordersCall()).headers.get('dpop-nonce');
  check(!!ordersNonce && (await ordersCall(ordersNonce)).status === 200, 'my account (dpop): /api/dpop/orders accepts its own nonce');
  nonces.me = ordersNonce;

  check((await request(null, `${base}__test/stats/reset`, { method: 'POST' })).status === 204, 'my account (dpop): stats reset');
  // A client's DPoP call: the last known nonce of this resource server, one retry on use_dpop_nonce.
  const seen = [];
  const dpopCall = async (method, subPath, { json, query = '', accessToken = at, proofKey = key } = {}) => {
    const send = async () => meRequest(base, {
      method, path: subPath, query, json, accessToken, scheme: 'DPoP', proof: await dpopProof(proofKey, { htm: method, htu: url(subPath), accessToken, nonce: nonces.me }),
    });
    let res = await send();
    seen.push(res);
    if (res.nonce) nonces.me = res.nonce;
    if (res.status === 401 && /error="use_dpop_nonce"/.test(res.challenge ?? '')) {
      res = await send();
      seen.push(res);
      if (res.nonce) nonces.me = res.nonce;
    }
    return res;
  };

  const { verifier, challenge } = pkce();
  const body = {
    connection: 'github', redirect_uri: 'http://127.0.0.1:5555/connect/callback', state: 'dpop-state', code_challenge: challenge, code_challenge_method: 'S256', scopes: ['repo'],
  };
  const started = await dpopCall('POST', 'connect', { json: body });
  check(seen.length === 2 && isProblem(seen[0], 401) && seen[0].body.detail.startsWith('nonce invalid or expired') && !!seen[0].nonce
    && seen[0].challenge === `DPoP error="use_dpop_nonce", error_description="${seen[0].body.detail}"`, 'my account (dpop): connect with the nonce of another resource server -> 401 DPoP error="use_dpop_nonce" + DPoP-Nonce, problem JSON', seen[0]);
  check(started.status === 201 && typeof started.body.auth_session === 'string', 'my account (dpop): retry with the My Account nonce -> 201', started.body);
  console.log(`     dpop connect without the nonce: ${seen[0].status} WWW-Authenticate: ${seen[0].challenge}; body ${JSON.stringify(seen[0].body)}`);
  const st1 = await getStats();
  check(st1.lastMyAccountAuthScheme === 'DPoP' && st1.myAccountRequests.connect === 2 && st1.useDpopNonceResponses === 1, 'my account (dpop): stats lastMyAccountAuthScheme DPoP, 2 connect requests, the use_dpop_nonce answer counted', st1);

  seen.length = 0;
  const nonceBefore = nonces.me;
  const noNonce = await meRequest(base, {
    method: 'GET', path: 'accounts', accessToken: at, scheme: 'DPoP', proof: await dpopProof(key, { htm: 'GET', htu: url('accounts'), accessToken: at }),
  });
  check(isProblem(noNonce, 401) && noNonce.body.detail.startsWith('nonce required') && !!noNonce.nonce, 'my account (dpop): a proof without nonce -> 401 use_dpop_nonce "nonce required"', noNonce.body);
  nonces.me = nonceBefore;

  const visit = await visitConnectUri(started.body);
  check(visit.status === 302 && visit.params.state === 'dpop-state' && !!visit.params.connect_code, 'my account (dpop): connect_uri -> 302 with connect_code', visit.raw);
  const done = await dpopCall('POST', 'complete', {
    json: {
      auth_session: started.body.auth_session, connect_code: visit.params.connect_code, redirect_uri: body.redirect_uri, code_verifier: verifier,
    },
  });
  check(done.status === 201 && done.body.connection === 'github' && JSON.stringify(done.body.scopes) === '["repo"]' && seen.length === 1, 'my account (dpop): complete with the known nonce -> 201 at once', done.body);
  const listed = await dpopCall('GET', 'accounts', { query: '?connection=github' });
  check(listed.status === 200 && listed.body.accounts.length === 1 && listed.body.accounts[0].id === done.body.id, 'my account (dpop): list (htu without the query) -> 200', listed.body);

  const expect401 = (label, res, error, detailStart) => check(isProblem(res, 401) && res.body.detail.startsWith(detailStart)
    && res.challenge === `DPoP error="${error}", error_description="${res.body.detail}"`, `my account (dpop): ${label} -> 401 DPoP error="${error}"`, { body: res.body, challenge: res.challenge });
  const send = async (method, subPath, proofOptions = {}, options = {}) => meRequest(base, {
    method,
    path: subPath,
    accessToken: at,
    scheme: 'DPoP',
    proof: await dpopProof(key, {
      htm: method, htu: url(subPath), accessToken: at, nonce: nonces.me, ...proofOptions,
    }),
    ...options,
  });
  expect401('wrong htm', await send('GET', 'accounts', { htm: 'POST' }), 'invalid_dpop_proof', 'htm mismatch');
  expect401('htu of another endpoint', await send('GET', 'accounts', { htu: url('connect') }), 'invalid_dpop_proof', 'htu mismatch');
  expect401('no DPoP header', await send('GET', 'accounts', {}, { proof: undefined }), 'invalid_dpop_proof', 'DPoP proof missing');
  expect401('wrong ath', await send('GET', 'accounts', { accessToken: `${at}x` }), 'invalid_dpop_proof', 'ath mismatch');
  expect401('proof of another key', await send('GET', 'accounts', {}, { proof: await dpopProof(otherKey, { htm: 'GET', htu: url('accounts'), accessToken: at, nonce: nonces.me }) }), 'invalid_token', 'cnf.jkt mismatch');
  {
    const proof = await dpopProof(key, {
      htm: 'GET', htu: url('accounts'), accessToken: at, nonce: nonces.me,
    });
    const ok = await meRequest(base, {
      path: 'accounts', accessToken: at, scheme: 'DPoP', proof,
    });
    check(ok.status === 200, 'my account (dpop): a fresh proof -> 200', ok.body);
    expect401('the same proof again', await meRequest(base, {
      path: 'accounts', accessToken: at, scheme: 'DPoP', proof,
    }), 'invalid_dpop_proof', 'jti replay');
  }
  const asBearer = await meRequest(base, { path: 'accounts', accessToken: at });
  check(isProblem(asBearer, 401) && /^Bearer error="invalid_token", error_description="a DPoP-bound access token cannot be used as a bearer token/.test(asBearer.challenge ?? '') && (await getStats()).lastMyAccountAuthScheme === 'Bearer',
    'my account (dpop): the bound token sent as Bearer -> 401 invalid_token; stats lastMyAccountAuthScheme Bearer', { body: asBearer.body, challenge: asBearer.challenge });
  {
    const readOnly = await dpopToken(base, key, {
      grant_type: 'refresh_token', refresh_token: rt, audience: ME, scope: 'openid read:me:connected_accounts',
    }, nonces);
    must(readOnly.status === 200, 'my account (dpop): a read-only bound me token', readOnly.body);
    rt = readOnly.body.refresh_token;
    const forbidden = await dpopCall('DELETE', `accounts/${done.body.id}`, { accessToken: readOnly.body.access_token });
    check(isProblem(forbidden, 403) && forbidden.challenge === 'DPoP error="insufficient_scope", error_description="insufficient scope (the access token needs the scope delete:me:connected_accounts)", scope="delete:me:connected_accounts"',
      'my account (dpop): delete without delete:me:connected_accounts -> 403 DPoP error="insufficient_scope"', { body: forbidden.body, challenge: forbidden.challenge });
  }
  {
    check((await setFaults({ alwaysUseDpopNonce: true })).status === 204, 'my account (dpop): faults {alwaysUseDpopNonce: true}');
    seen.length = 0;
    const res = await dpopCall('GET', 'accounts');
    check(seen.length === 2 && seen.every((r) => isProblem(r, 401) && r.nonce && /^DPoP error="use_dpop_nonce"/.test(r.challenge)) && seen[0].nonce !== seen[1].nonce && res.status === 401,
      'my account (dpop): alwaysUseDpopNonce -> use_dpop_nonce every time, with a fresh DPoP-Nonce', seen);
    check((await setFaults({ alwaysUseDpopNonce: false })).status === 204, 'my account (dpop): alwaysUseDpopNonce false');
  }
  const removed = await dpopCall('DELETE', `accounts/${done.body.id}`);
  check(removed.status === 204, 'my account (dpop): delete (DPoP, after the nonce retry) -> 204', removed);
  const empty = await dpopCall('GET', 'accounts');
  check(empty.status === 200 && JSON.stringify(empty.body) === '{"accounts":[]}', 'my account (dpop): the list is empty again', empty.body);
}

async function main() {
  const server = startServer();
  let plainServer;
  let dpopServer;
  let receiver;
  let exitChecked = false;
  try {
    const ready = await server.ready;
    const base = ready.issuer;
    check(/^http:\/\/127\.0\.0\.1:\d+\/$/.test(base) && ready.port > 0, 'ready line reports issuer http://127.0.0.1:PORT/ and port', ready.line);
    check(ready.line === `LOCAL_IDP_READY ${JSON.stringify({ issuer: `http://127.0.0.1:${ready.port}/`, port: ready.port })}`, 'ready line has the exact format');
    check(ready.stdoutLines.length === 1, 'nothing else on stdout before the ready line', ready.stdoutLines);

    // ---- health & discovery ---------------------------------------------------------------
    const health = await request(null, `${base}__test/health`);
    check(health.status === 200 && health.text === 'ok', 'GET /__test/health -> 200 ok');

    const discovery = JSON.parse((await request(null, `${base}.well-known/openid-configuration`)).text);
    check(discovery.issuer === base, 'discovery issuer has the trailing slash', discovery.issuer);
    const expectEndpoints = {
      authorization_endpoint: 'authorize',
      token_endpoint: 'oauth/token',
      userinfo_endpoint: 'userinfo',
      jwks_uri: '.well-known/jwks.json',
      revocation_endpoint: 'oauth/revoke',
      end_session_endpoint: 'oidc/logout',
    };
    for (const [k, v] of Object.entries(expectEndpoints)) {
      check(discovery[k] === `${base}${v}`, `discovery ${k} = /${v}`, discovery[k]);
    }
    check(discovery.authorization_response_iss_parameter_supported === true, 'discovery authorization_response_iss_parameter_supported');
    check(JSON.stringify(discovery.code_challenge_methods_supported) === '["S256"]', 'only S256 PKCE');

    const jwksRes = await request(null, `${base}.well-known/jwks.json`);
    const jwks = JSON.parse(jwksRes.text);
    const rsaKey = jwks.keys.find((k) => k.kty === 'RSA');
    check(rsaKey && rsaKey.alg === 'RS256' && !rsaKey.d, 'JWKS holds a public RS256 key');
    check(jwks.keys.some((k) => k.kty === 'EC' && k.crv === 'P-256'), 'JWKS holds an EC P-256 key');
    const keySet = createLocalJWKSet(jwks);

    // ---- not a loopback redirect_uri ----------------------------------------------------
    {
      const { challenge } = pkce();
      const res = await request(null, `${base}authorize?${new URLSearchParams({
        response_type: 'code', client_id: CLIENT_ID, redirect_uri: 'https://evil.example.net/cb', scope: 'openid', code_challenge: challenge, code_challenge_method: 'S256',
      })}`);
      check(res.status === 400 && !res.location, 'non-loopback redirect_uri is refused without a redirect', res.status);
      const ok = await request(null, `${base}authorize?${new URLSearchParams({
        response_type: 'code', client_id: CLIENT_ID, redirect_uri: 'http://localhost:61234/signin-oidc', scope: 'openid', code_challenge: challenge, code_challenge_method: 'S256',
      })}`);
      check(ok.status === 303 && /\/interaction\//.test(ok.location ?? ''), 'any http://localhost:<port>/ redirect_uri is accepted', { status: ok.status, location: ok.location });
      const noPkce = await request(null, `${base}authorize?${new URLSearchParams({
        response_type: 'code', client_id: CLIENT_ID, redirect_uri: REDIRECT_URI, scope: 'openid', state: 's',
      })}`);
      check(noPkce.status === 303 && new URL(noPkce.location).searchParams.get('error') === 'invalid_request', 'authorize without PKCE is rejected', noPkce.location);
    }

    // ---- alice: authorize with audience orders ---------------------------------------------
    const jar = new CookieJar();
    const alice = await authorize(base, jar, {
      login: 'alice', password: 'alice-password', audience: ORDERS, wrongPasswordFirst: true,
    });
    const code = alice.callback.searchParams.get('code');
    check(!!code, 'callback has code');
    check(alice.callback.searchParams.get('state') === alice.state, 'callback has the state');
    check(alice.callback.searchParams.get('iss') === base, 'callback has iss = issuer', alice.callback.searchParams.get('iss'));
    check(jar.names().includes('_session'), 'IdP session cookie set', jar.names());

    const exchanged = await token(base, {
      grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: alice.verifier,
    });
    must(exchanged.status === 200, 'code exchange succeeds', exchanged.body);
    const t = exchanged.body;
    for (const k of ['access_token', 'token_type', 'expires_in', 'id_token', 'refresh_token', 'scope']) {
      check(t[k] !== undefined, `token response has ${k}`);
    }
    check(t.token_type === 'Bearer', 'token_type Bearer', t.token_type);
    console.log(`     token response scope: "${t.scope}"`);

    const { payload: idt, protectedHeader: idh } = await jwtVerify(t.id_token, keySet, { issuer: base, audience: CLIENT_ID });
    check(idh.alg === 'RS256' && idh.kid === rsaKey.kid, 'ID token signed RS256 with the JWKS RSA key', idh);
    check(idt.iss === base, 'id_token iss with trailing slash', idt.iss);
    check(idt.sub === 'auth0|alice', 'id_token sub', idt.sub);
    check(idt.aud === CLIENT_ID || (Array.isArray(idt.aud) && idt.aud.includes(CLIENT_ID)), 'id_token aud = client id', idt.aud);
    check(idt.name === 'Alice Example' && idt.nickname === 'alice' && idt.given_name === 'Alice' && idt.family_name === 'Example', 'id_token profile claims', idt);
    check(idt.picture === 'https://example.com/alice.png', 'id_token picture');
    check(idt.email === 'alice@example.com' && idt.email_verified === true, 'id_token email claims');
    check(idt.org_id === 'org_123', 'id_token org_id', idt.org_id);
    check(JSON.stringify(idt['https://example.com/roles']) === '["admin","reader"]', 'id_token roles claim', idt['https://example.com/roles']);
    check(typeof idt.sid === 'string' && idt.sid.length > 0, 'id_token sid', idt.sid);
    check(idt.nonce === alice.nonce, 'id_token nonce', idt.nonce);

    const atHeader = decodeProtectedHeader(t.access_token);
    const { payload: at } = await jwtVerify(t.access_token, keySet, { issuer: base, audience: ORDERS });
    check(atHeader.alg === 'RS256', 'access token is an RS256 JWT', atHeader);
    check(at.aud === ORDERS, 'access token aud = orders API', at.aud);
    check(at.scope === 'read:orders write:orders', 'access token scope = orders scopes', at.scope);
    check(at.sub === 'auth0|alice' && at.client_id === CLIENT_ID, 'access token sub and client_id');
    console.log(`     access token header: ${JSON.stringify(atHeader)}`);

    // ---- refresh with another audience (rotation) -----------------------------------------
    const r1 = await token(base, {
      grant_type: 'refresh_token', refresh_token: t.refresh_token, audience: ANALYTICS, scope: 'read:analytics',
    });
    must(r1.status === 200, 'refresh with audience analytics succeeds', r1.body);
    const { payload: at2 } = await jwtVerify(r1.body.access_token, keySet, { issuer: base, audience: ANALYTICS });
    check(at2.aud === ANALYTICS && at2.scope === 'read:analytics', 'refreshed access token is for analytics', at2);
    check(r1.body.refresh_token && r1.body.refresh_token !== t.refresh_token, 'refresh token rotated');
    check(r1.body.token_type === 'Bearer' && r1.body.expires_in === 3600, 'refresh response token_type/expires_in', r1.body.expires_in);
    console.log(`     refresh (audience+scope) response scope: "${r1.body.scope}", id_token: ${r1.body.id_token ? 'yes' : 'no'}`);

    const r2 = await token(base, { grant_type: 'refresh_token', refresh_token: r1.body.refresh_token });
    must(r2.status === 200, 'refresh without audience succeeds', r2.body);
    check(decodeJwt(r2.body.access_token).aud === ORDERS, 'refresh without audience returns the login audience');
    check(!!r2.body.id_token && decodeJwt(r2.body.id_token).sub === 'auth0|alice', 'refresh without scope returns an id_token');
    check(r2.body.refresh_token !== r1.body.refresh_token, 'refresh token rotated again');

    // ---- tokenError fault --------------------------------------------------------------
    const setFault = await request(null, `${base}__test/faults`, { method: 'POST', json: { tokenError: 'invalid_grant' } });
    check(setFault.status === 204, 'POST /__test/faults tokenError -> 204', setFault.status);
    const faulted = await token(base, { grant_type: 'refresh_token', refresh_token: r2.body.refresh_token });
    check(faulted.status === 400 && faulted.body.error === 'invalid_grant', 'tokenError fault fails the next token call', faulted);
    const afterFault = await token(base, { grant_type: 'refresh_token', refresh_token: r2.body.refresh_token, audience: ANALYTICS });
    check(afterFault.status === 200, 'the fault fires once only', afterFault.body);
    await request(null, `${base}__test/faults`, { method: 'POST', json: { tokenError: 'invalid_grant' } });
    const cleared = await request(null, `${base}__test/faults`, { method: 'POST', json: { tokenError: null } });
    check(cleared.status === 204, 'tokenError null -> 204');
    const afterClear = await token(base, { grant_type: 'refresh_token', refresh_token: afterFault.body.refresh_token });
    check(afterClear.status === 200, 'tokenError null clears the fault', afterClear.body);

    const unknownAud = await token(base, { grant_type: 'refresh_token', refresh_token: afterClear.body.refresh_token, audience: 'https://unknown.example.com' });
    check(unknownAud.status === 400 && unknownAud.body.error === 'invalid_target', 'unknown audience on refresh -> invalid_target', unknownAud.body);
    const stillUsable = await token(base, { grant_type: 'refresh_token', refresh_token: afterClear.body.refresh_token });
    check(stillUsable.status === 200, 'refresh token still usable after an invalid_target', stillUsable.body);

    // JSON body (Auth0 accepts it on /oauth/token)
    const jsonRes = await request(null, `${base}oauth/token`, {
      method: 'POST',
      json: {
        grant_type: 'refresh_token', client_id: CLIENT_ID, client_secret: CLIENT_SECRET, refresh_token: stillUsable.body.refresh_token, audience: ANALYTICS,
      },
    });
    const jsonBody = JSON.parse(jsonRes.text);
    check(jsonRes.status === 200 && decodeJwt(jsonBody.access_token).aud === ANALYTICS, 'JSON token request body works', jsonBody);

    // DPoP-bound access token
    {
      const { publicKey, privateKey } = await generateKeyPair('ES256');
      const jwk = await exportJWK(publicKey);
      const proof = await new SignJWT({ htm: 'POST', htu: `${base}oauth/token`, jti: crypto.randomUUID() })
        .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk })
        .setIssuedAt()
        .sign(privateKey);
      const dpopRes = await request(null, `${base}oauth/token`, {
        method: 'POST',
        headers: { dpop: proof },
        form: {
          grant_type: 'refresh_token', client_id: CLIENT_ID, client_secret: CLIENT_SECRET, refresh_token: jsonBody.refresh_token,
        },
      });
      const dpopBody = JSON.parse(dpopRes.text);
      const dpopAt = dpopRes.status === 200 ? decodeJwt(dpopBody.access_token) : {};
      check(dpopRes.status === 200 && dpopBody.token_type === 'DPoP' && dpopAt.cnf?.jkt === await calculateJwkThumbprint(jwk), 'DPoP proof on /oauth/token gives a DPoP-bound JWT (cnf.jkt)', dpopBody);
      check(!!dpopRes.headers.get('dpop-nonce'), 'without --dpop-nonce a proof without nonce is accepted; the answer offers a DPoP-Nonce', dpopRes.headers.get('dpop-nonce'));
      const dpopAsBearer = await request(null, `${base}api/orders`, { headers: { authorization: `Bearer ${dpopBody.access_token}` } });
      check(dpopAsBearer.status === 401 && dpopAsBearer.headers.get('www-authenticate') === 'Bearer error="invalid_token"', '/api/orders refuses a DPoP-bound token sent as Bearer', dpopAsBearer.status);

      // revocation of the refresh token
      const rev = await request(null, `${base}oauth/revoke`, {
        method: 'POST',
        form: {
          client_id: CLIENT_ID, client_secret: CLIENT_SECRET, token: dpopBody.refresh_token, token_type_hint: 'refresh_token',
        },
      });
      check(rev.status === 200, 'POST /oauth/revoke -> 200', rev.status);
      const revoked = await token(base, { grant_type: 'refresh_token', refresh_token: dpopBody.refresh_token });
      check(revoked.status === 400 && revoked.body.error === 'invalid_grant', 'revoked refresh token is refused', revoked.body);
    }

    // response_mode=form_post on the existing session
    {
      const { challenge } = pkce();
      const fp = await follow(jar, base, await request(jar, `${base}authorize?${new URLSearchParams({
        response_type: 'code', response_mode: 'form_post', client_id: CLIENT_ID, redirect_uri: 'http://localhost:5556/signin-oidc', scope: 'openid profile', state: 'fp-state', nonce: 'n', code_challenge: challenge, code_challenge_method: 'S256',
      })}`));
      const fpForm = formFields(fp.text, /<form\b[\s\S]*?<\/form>/);
      check(fp.status === 200 && fpForm?.action === 'http://localhost:5556/signin-oidc' && fpForm.fields.code && fpForm.fields.state === 'fp-state' && fpForm.fields.iss === base, 'response_mode=form_post posts code, state and iss', fpForm);
    }

    // ---- second authorization on the same session: no login page, userinfo token --------
    const again = await authorize(base, jar, { login: 'alice', password: 'alice-password', scope: 'openid profile email' });
    const t2 = await token(base, {
      grant_type: 'authorization_code', code: again.callback.searchParams.get('code'), redirect_uri: REDIRECT_URI, code_verifier: again.verifier,
    });
    must(t2.status === 200, 'silent second authorization (existing session) works', t2.body);
    check(!t2.body.refresh_token, 'no refresh token without offline_access');
    const ui = await request(null, `${base}userinfo`, { headers: { authorization: `Bearer ${t2.body.access_token}` } });
    const uiBody = JSON.parse(ui.text);
    check(ui.status === 200 && uiBody.sub === 'auth0|alice' && uiBody.email === 'alice@example.com' && uiBody.org_id === 'org_123', 'userinfo with the no-audience access token', uiBody);
    check(decodeJwt(t2.body.id_token).sid === idt.sid, 'same sid for the same session');

    // ---- wrongJwks fault ---------------------------------------------------------------
    const onFault = await request(null, `${base}__test/faults`, { method: 'POST', json: { wrongJwks: true } });
    check(onFault.status === 204, 'POST /__test/faults wrongJwks:true -> 204');
    const wrongJwks = JSON.parse((await request(null, `${base}.well-known/jwks.json`)).text);
    const wrongRsa = wrongJwks.keys.find((k) => k.kty === 'RSA');
    check(wrongRsa.kid === rsaKey.kid && wrongRsa.n !== rsaKey.n, 'wrong JWKS: same kid, different RSA key');
    let verifyFailed = false;
    try {
      await jwtVerify(t.id_token, createLocalJWKSet(wrongJwks), { issuer: base, audience: CLIENT_ID });
    } catch (err) {
      verifyFailed = err.code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED';
    }
    check(verifyFailed, 'ID token signature fails against the wrong JWKS');
    await request(null, `${base}__test/faults`, { method: 'POST', json: { wrongJwks: false } });
    const restored = JSON.parse((await request(null, `${base}.well-known/jwks.json`)).text);
    check(restored.keys.find((k) => k.kty === 'RSA').n === rsaKey.n, 'wrongJwks:false restores the real key');

    // ---- RP-initiated logout -----------------------------------------------------------
    const logoutParams = new URLSearchParams({
      id_token_hint: t.id_token,
      logout_hint: idt.sid,
      client_id: CLIENT_ID,
      post_logout_redirect_uri: 'http://127.0.0.1:5555/signed-out',
      state: 'logout-state-1',
    });
    const lo = await request(jar, `${base}oidc/logout?${logoutParams}`);
    check(lo.status === 200, '/oidc/logout renders the confirmation page', { status: lo.status, text: lo.text.slice(0, 300) });
    const logoutForm = formFields(lo.text, /<form\b[^>]*id="op\.logoutForm"[\s\S]*?<\/form>/);
    must(logoutForm, 'logout page has form id op.logoutForm');
    check(logoutForm.action === `${base}oidc/logout/confirm`, 'logout form action is /oidc/logout/confirm', logoutForm.action);
    check(logoutForm.fields.xsrf && logoutForm.fields.logout === 'yes', 'logout form fields xsrf and logout=yes', logoutForm.fields);
    check(/\.submit\(\)/.test(lo.text), 'logout page auto-submits with a script');
    const confirmed = await request(jar, new URL(logoutForm.action, base).href, { method: 'POST', form: logoutForm.fields });
    check(confirmed.status === 303, 'logout confirm answers 303', confirmed.status);
    const after = confirmed.location ? new URL(confirmed.location) : undefined;
    check(after && after.origin + after.pathname === 'http://127.0.0.1:5555/signed-out', 'redirected to post_logout_redirect_uri', confirmed.location);
    check(after?.searchParams.get('state') === 'logout-state-1', 'post logout redirect carries state', confirmed.location);
    {
      const { challenge } = pkce();
      const silent = await follow(jar, base, await request(jar, `${base}authorize?${new URLSearchParams({
        response_type: 'code', client_id: CLIENT_ID, redirect_uri: REDIRECT_URI, scope: 'openid', prompt: 'none', state: 's', code_challenge: challenge, code_challenge_method: 'S256',
      })}`));
      check(silent.final && new URL(silent.final).searchParams.get('error') === 'login_required', 'IdP session is gone after logout', silent.final);
    }
    const plainLogout = await request(null, `${base}oidc/logout?${new URLSearchParams({ logout_hint: 'whoever', state: 'x' })}`);
    check(plainLogout.status === 200 && /op\.logoutForm|<form/.test(plainLogout.text), '/oidc/logout without session or client still answers with a form', plainLogout.status);

    // ---- bob and Auth0 /v2/logout --------------------------------------------------------
    const bobJar = new CookieJar();
    const bob = await authorize(base, bobJar, { login: 'bob', password: 'bob-password' });
    const bt = await token(base, {
      grant_type: 'authorization_code', code: bob.callback.searchParams.get('code'), redirect_uri: REDIRECT_URI, code_verifier: bob.verifier,
    });
    const bid = decodeJwt(bt.body.id_token);
    check(bid.sub === 'auth0|bob' && bid.email_verified === false && bid.org_id === 'org_456' && JSON.stringify(bid['https://example.com/roles']) === '["reader"]', 'bob id_token claims', bid);
    check(typeof bt.body.access_token === 'string' && bt.body.refresh_token, 'bob without audience gets an access token and a refresh token');
    const bobCookies = bobJar.header(`${base}authorize`);
    const v2 = await request(bobJar, `${base}v2/logout?${new URLSearchParams({ returnTo: 'http://localhost:5555/bye', client_id: CLIENT_ID })}`);
    check(v2.status === 302 && v2.location === 'http://localhost:5555/bye', '/v2/logout redirects to a loopback returnTo', { status: v2.status, location: v2.location });
    check(!bobJar.names().includes('_session'), '/v2/logout clears the session cookie', bobJar.names());
    {
      const { challenge } = pkce();
      const silent = await request(null, `${base}authorize?${new URLSearchParams({
        response_type: 'code', client_id: CLIENT_ID, redirect_uri: REDIRECT_URI, scope: 'openid', prompt: 'none', state: 's', code_challenge: challenge, code_challenge_method: 'S256',
      })}`, { headers: { cookie: bobCookies } });
      check(silent.location && new URL(silent.location).searchParams.get('error') === 'login_required', '/v2/logout ends the IdP session server-side (old cookie no longer works)', silent.location);
    }
    const v2bad = await request(null, `${base}v2/logout?${new URLSearchParams({ returnTo: 'https://example.org/' })}`);
    check(v2bad.status === 200 && !v2bad.location, '/v2/logout with a non-loopback returnTo shows a page', v2bad.status);

    // ---- big user ----------------------------------------------------------------------
    const bigJar = new CookieJar();
    const big = await authorize(base, bigJar, { login: 'big', password: 'big-password' });
    const bigT = await token(base, {
      grant_type: 'authorization_code', code: big.callback.searchParams.get('code'), redirect_uri: REDIRECT_URI, code_verifier: big.verifier,
    });
    must(bigT.status === 200, 'big user code exchange', bigT.body);
    const bigId = decodeJwt(bigT.body.id_token);
    check(bigT.body.id_token.length > 6000, `big user's id_token is > 6000 chars (${bigT.body.id_token.length})`);
    check(bigId.sub === 'auth0|big' && bigId['https://example.com/bio']?.length === 6000, 'big user bio claim has 6000 chars');

    // ---- prompt=login with another user on an existing session --------------------------
    const switched = await authorize(base, bigJar, {
      login: 'bob', password: 'bob-password', prompt: 'login', scope: 'openid profile',
    });
    const switchedT = await token(base, {
      grant_type: 'authorization_code', code: switched.callback.searchParams.get('code'), redirect_uri: REDIRECT_URI, code_verifier: switched.verifier,
    });
    check(switchedT.status === 200 && decodeJwt(switchedT.body.id_token).sub === 'auth0|bob', 'prompt=login can switch to another user with plain redirects', switchedT.body);
    check(decodeJwt(switchedT.body.id_token).sid !== bigId.sid, 'switching user starts a new session (new sid)');

    // ---- test stats ----------------------------------------------------------------------
    const getStats = async () => JSON.parse((await request(null, `${base}__test/stats`)).text);
    const setFaults = (body) => request(null, `${base}__test/faults`, { method: 'POST', json: body });
    const callApi = (name, accessToken) => request(null, `${base}api/${name}`, {
      headers: accessToken ? { authorization: `Bearer ${accessToken}` } : {},
    });
    const refresh = (refreshToken, extra = {}) => token(base, { grant_type: 'refresh_token', refresh_token: refreshToken, ...extra });

    const statsReset = await request(null, `${base}__test/stats/reset`, { method: 'POST' });
    check(statsReset.status === 204, 'POST /__test/stats/reset -> 204', statsReset.status);
    check(JSON.stringify(await getStats()) === JSON.stringify({
      tokenRequests: { authorization_code: 0, refresh_token: 0 },
      refreshTokenRequests: 0,
      apiRequests: { orders: 0, analytics: 0 },
      lastAudience: { orders: null, analytics: null },
      backchannelDeliveries: [],
      dpopProofs: { token: 0, api: 0 },
      useDpopNonceResponses: 0,
      dpopApiRequests: { orders: 0 },
      dpopApiLastError: { orders: null },
      cibaPolls: 0,
      connectionTokenRequests: 0,
      myAccountRequests: {
        connect: 0, complete: 0, list: 0, delete: 0,
      },
      lastConnectRequest: null,
      lastMyAccountAuthScheme: null,
    }), 'GET /__test/stats after reset is all zero', await getStats());

    const apiJar = new CookieJar();
    const ordersLogin = await login(base, apiJar, { login: 'alice', password: 'alice-password', audience: ORDERS });
    must(ordersLogin.status === 200, 'orders login for the API checks', ordersLogin.body);
    const ordersToken = ordersLogin.body.access_token;
    const analyticsRefresh = await refresh(ordersLogin.body.refresh_token, { audience: ANALYTICS, scope: 'read:analytics' });
    must(analyticsRefresh.status === 200, 'refresh for analytics', analyticsRefresh.body);
    const analyticsToken = analyticsRefresh.body.access_token;
    check(analyticsRefresh.body.scope === 'read:analytics' && !analyticsRefresh.body.id_token, 'refresh with audience+scope returns scope "read:analytics" and no id_token', analyticsRefresh.body.scope);
    const badRefresh = await refresh('not-a-refresh-token');
    check(badRefresh.status === 400 && badRefresh.body.error === 'invalid_grant', 'unknown refresh token -> invalid_grant', badRefresh.body);
    const badCode = await token(base, {
      grant_type: 'authorization_code', code: 'not-a-code', redirect_uri: REDIRECT_URI, code_verifier: 'x'.repeat(43),
    });
    check(badCode.status === 400, 'unknown code -> 400', badCode.body);
    const password = await token(base, { grant_type: 'password', username: 'alice', password: 'alice-password' });
    check(password.status === 400 && password.body.error === 'unsupported_grant_type', 'password grant -> unsupported_grant_type', password.body);
    const noGrantType = await token(base, {});
    check(noGrantType.status === 400, 'token request without grant_type -> 400', noGrantType.body);
    const afterTokens = await getStats();
    check(JSON.stringify(afterTokens.tokenRequests) === JSON.stringify({
      authorization_code: 2, refresh_token: 2, password: 1, unknown: 1,
    }), 'stats count token requests by grant_type, failed ones included', afterTokens.tokenRequests);
    check(afterTokens.refreshTokenRequests === 2, 'stats refreshTokenRequests', afterTokens.refreshTokenRequests);

    // ---- protected APIs --------------------------------------------------------------------
    {
      const none = await callApi('orders');
      check(none.status === 401 && none.headers.get('www-authenticate') === 'Bearer realm="orders"', '/api/orders without a token -> 401 Bearer realm="orders"', { status: none.status, h: none.headers.get('www-authenticate') });
      const basic = await request(null, `${base}api/orders`, { headers: { authorization: 'Basic YTpi' } });
      check(basic.status === 401 && basic.headers.get('www-authenticate') === 'Bearer realm="orders"', '/api/orders with Basic auth -> 401 Bearer realm="orders"', basic.status);
      const empty = await request(null, `${base}api/orders`, { headers: { authorization: 'Bearer ' } });
      check(empty.status === 401 && empty.headers.get('www-authenticate') === 'Bearer realm="orders"', '/api/orders with an empty Bearer -> 401 Bearer realm="orders"', empty.status);

      const ok = await callApi('orders', ordersToken);
      check(ok.status === 200 && ok.text === JSON.stringify({
        orders: [{ id: 'ord_1', item: 'Coffee beans', quantity: 2 }, { id: 'ord_2', item: 'Filter papers', quantity: 1 }],
        sub: 'auth0|alice',
        audience: ORDERS,
      }), '/api/orders with an orders token -> 200 orders', { status: ok.status, text: ok.text });

      const wrongAud = await callApi('orders', analyticsToken);
      check(wrongAud.status === 401 && wrongAud.headers.get('www-authenticate') === 'Bearer error="invalid_token"', '/api/orders with an analytics token -> 401 invalid_token', { status: wrongAud.status, h: wrongAud.headers.get('www-authenticate') });

      const [h, p, sig] = ordersToken.split('.');
      const flipped = `${sig[0] === 'A' ? 'B' : 'A'}${sig.slice(1)}`;
      const badSig = await callApi('orders', `${h}.${p}.${flipped}`);
      check(badSig.status === 401 && badSig.headers.get('www-authenticate') === 'Bearer error="invalid_token"', '/api/orders with a bad signature -> 401 invalid_token', badSig.status);
      const forged = await new SignJWT({ scope: 'read:orders' }).setProtectedHeader({ alg: 'RS256', kid: rsaKey.kid })
        .setIssuer(base).setAudience(ORDERS).setSubject('auth0|mallory').setIssuedAt().setExpirationTime('5m')
        .sign((await generateKeyPair('RS256')).privateKey);
      const forgedRes = await callApi('orders', forged);
      check(forgedRes.status === 401 && forgedRes.headers.get('www-authenticate') === 'Bearer error="invalid_token"', '/api/orders with a token signed by another key -> 401 invalid_token', forgedRes.status);
      const opaque = await callApi('orders', t2.body.access_token);
      check(opaque.status === 401 && opaque.headers.get('www-authenticate') === 'Bearer error="invalid_token"', '/api/orders with an opaque access token -> 401 invalid_token', opaque.status);
      const idAsAt = await callApi('orders', t.id_token);
      check(idAsAt.status === 401, '/api/orders with an ID token -> 401', idAsAt.status);

      const analyticsOk = await callApi('analytics', analyticsToken);
      check(analyticsOk.status === 200 && analyticsOk.text === JSON.stringify({ visits: 42, sub: 'auth0|alice', audience: ANALYTICS }), '/api/analytics with an analytics token -> 200', { status: analyticsOk.status, text: analyticsOk.text });
      const analyticsNone = await callApi('analytics');
      check(analyticsNone.status === 401 && analyticsNone.headers.get('www-authenticate') === 'Bearer realm="analytics"', '/api/analytics without a token -> 401 Bearer realm="analytics"', analyticsNone.headers.get('www-authenticate'));

      const writeOnly = await login(base, new CookieJar(), {
        login: 'alice', password: 'alice-password', audience: ORDERS, scope: 'openid offline_access write:orders',
      });
      must(writeOnly.status === 200, 'login with only write:orders', writeOnly.body);
      check(decodeJwt(writeOnly.body.access_token).scope === 'write:orders', 'write:orders login gives an orders token with scope write:orders only', decodeJwt(writeOnly.body.access_token).scope);
      const noScope = await callApi('orders', writeOnly.body.access_token);
      check(noScope.status === 403 && noScope.headers.get('www-authenticate') === 'Bearer error="insufficient_scope", scope="read:orders"', '/api/orders without read:orders -> 403 insufficient_scope', { status: noScope.status, h: noScope.headers.get('www-authenticate') });

      const analyticsWithOrders = await callApi('analytics', ordersToken);
      check(analyticsWithOrders.status === 401, '/api/analytics with an orders token -> 401', analyticsWithOrders.status);

      const post = await request(null, `${base}api/orders`, { method: 'POST', headers: { authorization: `Bearer ${ordersToken}` } });
      check(post.status === 405, 'POST /api/orders -> 405', post.status);

      const apiStats = await getStats();
      check(JSON.stringify(apiStats.apiRequests) === JSON.stringify({ orders: 11, analytics: 3 }), 'stats count API requests per API', apiStats.apiRequests);
      check(JSON.stringify(apiStats.lastAudience) === JSON.stringify({ orders: ORDERS, analytics: ORDERS }), 'stats lastAudience holds the aud of the last token per API', apiStats.lastAudience);
      check(!JSON.stringify(apiStats).includes(ordersToken.split('.')[2]), 'stats do not contain tokens');
    }

    // ---- accessTokenTtl fault ------------------------------------------------------------
    {
      const invalid = await setFaults({ accessTokenTtl: 'soon' });
      check(invalid.status === 400, 'accessTokenTtl must be a number -> 400', invalid.status);
      check((await setFaults({ accessTokenTtl: 2 })).status === 204, 'POST /__test/faults accessTokenTtl:2 -> 204');
      const shown = JSON.parse((await request(null, `${base}__test/faults`)).text);
      check(shown.accessTokenTtl === 2 && shown.refreshDelayMs === null, 'GET /__test/faults shows accessTokenTtl', shown);

      const jwtLogin = await login(base, apiJar, { login: 'alice', password: 'alice-password', audience: ORDERS });
      const jwtAt = decodeJwt(jwtLogin.body.access_token);
      check(jwtLogin.status === 200 && jwtLogin.body.expires_in === 2 && jwtAt.exp - jwtAt.iat === 2, 'ttl fault: code exchange (JWT) expires_in = 2 and exp - iat = 2', { expires_in: jwtLogin.body.expires_in, lifetime: jwtAt.exp - jwtAt.iat });
      const jwtRefresh = await refresh(jwtLogin.body.refresh_token, { audience: ANALYTICS });
      const jwtRefreshAt = decodeJwt(jwtRefresh.body.access_token);
      check(jwtRefresh.status === 200 && jwtRefresh.body.expires_in === 2 && jwtRefreshAt.exp - jwtRefreshAt.iat === 2, 'ttl fault: refresh (JWT, other audience) expires_in = 2', jwtRefresh.body.expires_in);

      const opaqueLogin = await login(base, apiJar, { login: 'alice', password: 'alice-password', scope: 'openid profile offline_access' });
      check(opaqueLogin.status === 200 && opaqueLogin.body.expires_in === 2 && opaqueLogin.body.access_token.split('.').length === 1, 'ttl fault: code exchange (opaque) expires_in = 2', opaqueLogin.body.expires_in);
      const opaqueRefresh = await refresh(opaqueLogin.body.refresh_token);
      check(opaqueRefresh.status === 200 && opaqueRefresh.body.expires_in === 2, 'ttl fault: refresh (opaque) expires_in = 2', opaqueRefresh.body.expires_in);

      const fresh = await callApi('orders', jwtLogin.body.access_token);
      check(fresh.status === 200, 'short-lived orders token works at first', fresh.status);
      const userinfoFresh = await request(null, `${base}userinfo`, { headers: { authorization: `Bearer ${opaqueRefresh.body.access_token}` } });
      check(userinfoFresh.status === 200, 'short-lived opaque token works at /userinfo at first', userinfoFresh.status);
      await sleep(3100);
      const expired = await callApi('orders', jwtLogin.body.access_token);
      check(expired.status === 401 && expired.headers.get('www-authenticate') === 'Bearer error="invalid_token"', 'expired orders token -> 401 invalid_token', { status: expired.status, text: expired.text });
      const userinfoExpired = await request(null, `${base}userinfo`, { headers: { authorization: `Bearer ${opaqueRefresh.body.access_token}` } });
      check(userinfoExpired.status === 401, 'expired opaque token is refused at /userinfo', userinfoExpired.status);

      check((await setFaults({ accessTokenTtl: null })).status === 204, 'accessTokenTtl:null -> 204');
      const restoredTtl = await refresh(jwtRefresh.body.refresh_token);
      check(restoredTtl.status === 200 && restoredTtl.body.expires_in === 3600, 'accessTokenTtl:null restores expires_in 3600', restoredTtl.body.expires_in);
      const restoredOpaque = await refresh(opaqueRefresh.body.refresh_token);
      check(restoredOpaque.status === 200 && restoredOpaque.body.expires_in === 3600, 'accessTokenTtl:null restores 3600 for opaque tokens', restoredOpaque.body.expires_in);
    }

    // ---- login without audience: the refresh token reaches every API (multi-resource) -------
    {
      const verifyAt = async (accessToken, audience) => {
        const { payload, protectedHeader } = await jwtVerify(accessToken, keySet, { issuer: base, audience });
        return { ...payload, typ: protectedHeader.typ };
      };
      const plainLogin = await login(base, new CookieJar(), { login: 'alice', password: 'alice-password' });
      must(plainLogin.status === 200, 'login without audience: code exchange succeeds', plainLogin.body);
      const p0 = plainLogin.body;
      check(p0.access_token.split('.').length === 1 && !!p0.id_token && !!p0.refresh_token, 'login without audience: opaque access token, id_token and refresh_token', p0);
      check(p0.scope === 'openid profile email offline_access', 'login without audience: token response scope = the OpenID scopes', p0.scope);
      const ui0 = await request(null, `${base}userinfo`, { headers: { authorization: `Bearer ${p0.access_token}` } });
      check(ui0.status === 200 && JSON.parse(ui0.text).sub === 'auth0|alice', 'login without audience: the access token works at /userinfo', ui0.status);

      const m1 = await refresh(p0.refresh_token, { audience: ORDERS, scope: 'read:orders' });
      must(m1.status === 200, 'no-audience refresh token + audience orders&scope=read:orders -> 200', m1.body);
      const m1At = await verifyAt(m1.body.access_token, ORDERS);
      check(m1At.aud === ORDERS && m1At.scope === 'read:orders' && m1At.typ === 'at+jwt' && m1At.sub === 'auth0|alice' && m1At.azp === CLIENT_ID, 'refresh for orders: JWT with aud orders, scope read:orders', m1At);
      check(m1.body.scope === 'read:orders' && !m1.body.id_token, 'refresh for orders: response scope read:orders, no id_token', m1.body);
      check(!!m1.body.refresh_token && m1.body.refresh_token !== p0.refresh_token, 'refresh for orders rotates the refresh token');
      check((await callApi('orders', m1.body.access_token)).status === 200, 'refresh for orders: /api/orders accepts the token');

      const m2 = await refresh(m1.body.refresh_token, { audience: ANALYTICS });
      must(m2.status === 200, 'rotated token + audience analytics (no scope) -> 200', m2.body);
      const m2At = await verifyAt(m2.body.access_token, ANALYTICS);
      check(m2At.aud === ANALYTICS && m2At.scope === 'read:analytics', 'refresh for analytics: JWT with aud analytics, scope read:analytics', m2At);
      check(m2.body.scope === 'read:analytics' && !!m2.body.id_token, 'refresh for analytics without scope: response scope read:analytics, with id_token', m2.body);
      check((await callApi('analytics', m2.body.access_token)).status === 200, 'refresh for analytics: /api/analytics accepts the token');

      const m3 = await refresh(m2.body.refresh_token, { audience: ORDERS });
      must(m3.status === 200, 'rotated again + audience orders (no scope) -> 200', m3.body);
      const m3At = await verifyAt(m3.body.access_token, ORDERS);
      check(m3At.aud === ORDERS && m3At.scope === 'read:orders write:orders', 'refresh for orders without scope: all orders scopes', m3At);
      check((await callApi('orders', m3.body.access_token)).status === 200, 'second orders token works at /api/orders');

      const m4 = await refresh(m3.body.refresh_token);
      must(m4.status === 200, 'refresh without audience after API refreshes -> 200', m4.body);
      check(m4.body.access_token.split('.').length === 1 && m4.body.scope === 'openid profile email offline_access' && !!m4.body.id_token, 'refresh without audience still gives the opaque userinfo token', m4.body);
      const ui4 = await request(null, `${base}userinfo`, { headers: { authorization: `Bearer ${m4.body.access_token}` } });
      check(ui4.status === 200, 'that token works at /userinfo', ui4.status);

      const unknown = await refresh(m4.body.refresh_token, { audience: 'https://unknown.example.com' });
      check(unknown.status === 400 && unknown.body.error === 'invalid_target', 'no-audience refresh token + unknown audience -> invalid_target', unknown.body);
      const wrongScope = await refresh(m4.body.refresh_token, { audience: ORDERS, scope: 'read:analytics' });
      check(wrongScope.status === 400 && wrongScope.body.error === 'invalid_scope', 'audience orders with an analytics scope -> invalid_scope', wrongScope.body);
      const apiScopeNoAudience = await refresh(m4.body.refresh_token, { scope: 'read:orders' });
      check(apiScopeNoAudience.status === 400 && apiScopeNoAudience.body.error === 'invalid_scope', 'API scope without audience -> invalid_scope (as before)', apiScopeNoAudience.body);
      const m5 = await refresh(m4.body.refresh_token, { audience: ORDERS, scope: 'openid read:orders' });
      must(m5.status === 200, 'the refresh token still works after those errors', m5.body);
      const m5At = await verifyAt(m5.body.access_token, ORDERS);
      check(m5At.scope === 'read:orders' && m5.body.scope === 'read:orders' && !!m5.body.id_token, 'scope=openid read:orders: orders JWT (read:orders) and an id_token', { at: m5At, body: m5.body });

      const reusedPlain = await refresh(m4.body.refresh_token, { audience: ANALYTICS });
      check(reusedPlain.status === 400 && reusedPlain.body.error === 'invalid_grant', 'reusing a rotated no-audience refresh token with an audience -> invalid_grant', reusedPlain.body);
      const afterReuse = await refresh(m5.body.refresh_token, { audience: ORDERS });
      check(afterReuse.status === 400 && afterReuse.body.error === 'invalid_grant', 'that reuse revokes the whole grant', afterReuse.body);

      // a login with audience keeps its narrower scopes
      const writeOnlyLogin = await login(base, new CookieJar(), {
        login: 'alice', password: 'alice-password', audience: ORDERS, scope: 'openid offline_access write:orders',
      });
      const writeOnlyRefresh = await refresh(writeOnlyLogin.body.refresh_token, { audience: ORDERS, scope: 'read:orders' });
      check(writeOnlyRefresh.status === 400 && writeOnlyRefresh.body.error === 'invalid_scope', 'login with audience and write:orders only: refresh asking read:orders -> invalid_scope', writeOnlyRefresh.body);
    }

    // ---- reuse of a rotated refresh token --------------------------------------------------
    {
      const reuseLogin = await login(base, new CookieJar(), { login: 'alice', password: 'alice-password', audience: ORDERS });
      const rt0 = reuseLogin.body.refresh_token;
      const first = await refresh(rt0);
      check(first.status === 200 && first.body.refresh_token !== rt0, 'refresh rotates the refresh token', first.body);
      const reused = await refresh(rt0);
      check(reused.status === 400 && reused.body.error === 'invalid_grant', 'reusing a rotated refresh token -> invalid_grant', reused.body);
      const latest = await refresh(first.body.refresh_token);
      check(latest.status === 400 && latest.body.error === 'invalid_grant', 'reuse revokes the whole grant: the newest refresh token fails too', latest.body);
    }

    // ---- refreshDelayMs fault and a concurrent refresh race --------------------------------
    {
      const invalid = await setFaults({ refreshDelayMs: -1 });
      check(invalid.status === 400, 'refreshDelayMs must be >= 0 -> 400', invalid.status);
      const raceLogin = await login(base, new CookieJar(), { login: 'alice', password: 'alice-password', audience: ORDERS });
      check((await setFaults({ refreshDelayMs: 400 })).status === 204, 'POST /__test/faults refreshDelayMs:400 -> 204');
      const started = Date.now();
      const slow = await refresh(raceLogin.body.refresh_token);
      const took = Date.now() - started;
      check(slow.status === 200 && took >= 400, `refresh_token response is delayed (${took} ms)`, slow.body);
      const codeStarted = Date.now();
      const codeLogin = await login(base, new CookieJar(), { login: 'bob', password: 'bob-password' });
      check(codeLogin.status === 200 && Date.now() - codeStarted < 400, 'authorization_code responses are not delayed', Date.now() - codeStarted);

      const [a, b] = await Promise.all([refresh(slow.body.refresh_token), refresh(slow.body.refresh_token)]);
      const winners = [a, b].filter((r) => r.status === 200);
      const losers = [a, b].filter((r) => r.status === 400 && r.body.error === 'invalid_grant');
      check(winners.length === 1 && losers.length === 1, 'two concurrent refreshes with one refresh token: one 200, one invalid_grant', [a, b]);
      check((await setFaults({ refreshDelayMs: null })).status === 204, 'refreshDelayMs:null -> 204');
      if (winners.length === 1) {
        const afterRace = await refresh(winners[0].body.refresh_token);
        check(afterRace.status === 400 && afterRace.body.error === 'invalid_grant', 'after the race the winner\'s refresh token is revoked too', afterRace.body);
      }
    }

    // ---- revoke every refresh token of a user --------------------------------------------------
    {
      const aliceJar = new CookieJar();
      const aliceA = await login(base, aliceJar, { login: 'alice', password: 'alice-password', audience: ORDERS });
      const aliceB = await login(base, new CookieJar(), { login: 'alice', password: 'alice-password' });
      const bobT = await login(base, new CookieJar(), { login: 'bob', password: 'bob-password' });
      must(aliceA.body.refresh_token && aliceB.body.refresh_token && bobT.body.refresh_token, 'refresh tokens for alice (two sessions) and bob');
      const badSub = await request(null, `${base}__test/revoke-refresh-tokens`, { method: 'POST', json: { sub: 5 } });
      check(badSub.status === 400, 'revoke-refresh-tokens with a non-string sub -> 400', badSub.status);
      const revokeAlice = await request(null, `${base}__test/revoke-refresh-tokens`, { method: 'POST', json: { sub: 'auth0|alice' } });
      check(revokeAlice.status === 204, 'POST /__test/revoke-refresh-tokens {sub} -> 204', revokeAlice.status);
      const a1 = await refresh(aliceA.body.refresh_token);
      const a2 = await refresh(aliceB.body.refresh_token);
      check(a1.status === 400 && a1.body.error === 'invalid_grant' && a2.status === 400 && a2.body.error === 'invalid_grant', 'every refresh token of alice -> invalid_grant', [a1.body, a2.body]);
      const bob1 = await refresh(bobT.body.refresh_token);
      check(bob1.status === 200, 'bob\'s refresh token is not affected', bob1.body);
      const aliceAgain = await login(base, aliceJar, { login: 'alice', password: 'alice-password', audience: ORDERS });
      check(aliceAgain.status === 200 && (await refresh(aliceAgain.body.refresh_token)).status === 200, 'alice gets a working refresh token again on her existing session', aliceAgain.body);
      const revokeAll = await request(null, `${base}__test/revoke-refresh-tokens`, { method: 'POST', json: {} });
      check(revokeAll.status === 204, 'POST /__test/revoke-refresh-tokens {} -> 204', revokeAll.status);
      const bob2 = await refresh(bob1.body.refresh_token);
      check(bob2.status === 400 && bob2.body.error === 'invalid_grant', '{} revokes the refresh tokens of every user', bob2.body);
    }

    // ---- OIDC Back-Channel Logout ----------------------------------------------------------
    {
      receiver = await startBackchannelReceiver();
      const setUri = (uri) => request(null, `${base}__test/backchannel-logout-uri`, { method: 'POST', json: { uri } });
      const logoutUser = async (body) => {
        const res = await request(null, `${base}__test/logout-user`, { method: 'POST', json: body });
        let parsed;
        try {
          parsed = JSON.parse(res.text);
        } catch {
          parsed = { raw: res.text };
        }
        return { status: res.status, body: parsed };
      };
      const silentResult = async (cookieJar) => {
        const { challenge } = pkce();
        const res = await request(cookieJar, `${base}authorize?${new URLSearchParams({
          response_type: 'code', client_id: CLIENT_ID, redirect_uri: REDIRECT_URI, scope: 'openid', prompt: 'none', state: 's', code_challenge: challenge, code_challenge_method: 'S256',
        })}`);
        const done = await follow(cookieJar, base, res);
        const cb = done.final ? new URL(done.final) : undefined;
        return cb?.searchParams.get('code') ? 'code' : (cb?.searchParams.get('error') ?? `status ${done.status}`);
      };
      const seenJtis = new Set();
      // Verifies one received delivery as an RP must, and checks the token shape exactly.
      const checkDelivery = async (delivery, { sub, sids, pathName, label }) => {
        check(delivery.method === 'POST' && delivery.path === pathName, `${label}: POST to ${pathName}`, { method: delivery.method, path: delivery.path });
        check(/^application\/x-www-form-urlencoded\b/.test(delivery.contentType ?? ''), `${label}: form-encoded body`, delivery.contentType);
        check(delivery.form.length === 1 && delivery.form[0][0] === 'logout_token', `${label}: the body is exactly logout_token=<JWT>`, delivery.body.slice(0, 80));
        const logoutToken = delivery.form[0]?.[1] ?? '';
        let verified;
        try {
          verified = await jwtVerify(logoutToken, keySet, {
            issuer: base, audience: CLIENT_ID, algorithms: ['RS256'], typ: 'logout+jwt',
          });
        } catch (err) {
          check(false, `${label}: logout token verifies against the JWKS (iss, aud, typ logout+jwt)`, err.message);
          return undefined;
        }
        check(true, `${label}: logout token verifies against the JWKS (iss, aud, typ logout+jwt)`);
        const { payload, protectedHeader } = verified;
        check(JSON.stringify(protectedHeader) === JSON.stringify({ alg: 'RS256', kid: rsaKey.kid, typ: 'logout+jwt' }), `${label}: header {alg RS256, kid of the signing key, typ logout+jwt}`, protectedHeader);
        check(JSON.stringify(Object.keys(payload).sort()) === JSON.stringify(['aud', 'events', 'exp', 'iat', 'iss', 'jti', 'sid', 'sub']), `${label}: claims are exactly iss aud iat exp jti sid sub events`, Object.keys(payload));
        check(!('nonce' in payload), `${label}: no nonce`);
        check(payload.aud === CLIENT_ID && payload.iss === base, `${label}: aud = client id (string), iss = issuer`, { aud: payload.aud, iss: payload.iss });
        check(JSON.stringify(payload.events) === JSON.stringify({ [BACKCHANNEL_EVENT]: {} }), `${label}: events holds the back-channel-logout member ({})`, payload.events);
        check(payload.sub === sub, `${label}: sub ${sub}`, payload.sub);
        check(sids.includes(payload.sid), `${label}: sid is the sid of the session's ID token`, { sid: payload.sid, expected: sids });
        check(payload.exp - payload.iat === 120 && Math.abs(payload.iat - Date.now() / 1000) < 30, `${label}: iat is now, exp = iat + 120`, { iat: payload.iat, exp: payload.exp });
        check(typeof payload.jti === 'string' && payload.jti.length >= 16 && !seenJtis.has(payload.jti), `${label}: unique jti`, payload.jti);
        seenJtis.add(payload.jti);
        return payload;
      };

      check(discovery.backchannel_logout_supported === true && discovery.backchannel_logout_session_supported === true, 'discovery: backchannel_logout_supported and backchannel_logout_session_supported');

      for (const bad of ['not a url', 'ftp://127.0.0.1/x', 'http://127.0.0.1:9/x#frag', 5, '']) {
        const res = await setUri(bad);
        check(res.status === 400, `POST /__test/backchannel-logout-uri ${JSON.stringify(bad)} -> 400`, res.status);
      }
      // The earlier checks left sessions behind; end them while no URI is registered.
      {
        const cleanup = [];
        for (const sub of ['auth0|alice', 'auth0|bob', 'auth0|big']) cleanup.push(await logoutUser({ sub }));
        check(cleanup.every((r) => r.status === 200 && r.body.deliveries?.length === 0) && cleanup[0].body.sessions > 0, 'logout-user without a backchannel_logout_uri ends the sessions, delivers nothing', cleanup.map((r) => r.body));
      }
      const noUri = await request(null, `${base}__test/backchannel-logout-uri`, { method: 'POST', json: {} });
      check(noUri.status === 400, 'POST /__test/backchannel-logout-uri without uri -> 400', noUri.status);
      check((await setUri(receiver.url('/backchannel-logout'))).status === 204, 'POST /__test/backchannel-logout-uri {uri} -> 204');
      check((await request(null, `${base}__test/stats/reset`, { method: 'POST' })).status === 204, 'stats reset before the back-channel checks');

      // Two IdP sessions of alice, one of bob.
      const aliceJar1 = new CookieJar();
      const aliceJar2 = new CookieJar();
      const bobJar2 = new CookieJar();
      const a1 = await login(base, aliceJar1, { login: 'alice', password: 'alice-password' });
      const a2 = await login(base, aliceJar2, { login: 'alice', password: 'alice-password', audience: ORDERS });
      const b1 = await login(base, bobJar2, { login: 'bob', password: 'bob-password', scope: 'openid profile' });
      must(a1.status === 200 && a2.status === 200 && b1.status === 200, 'logins for the back-channel checks', [a1.body, a2.body, b1.body]);
      const aliceSids = [decodeJwt(a1.body.id_token).sid, decodeJwt(a2.body.id_token).sid];
      const bobSid = decodeJwt(b1.body.id_token).sid;
      check(aliceSids.every((x) => typeof x === 'string' && x) && aliceSids[0] !== aliceSids[1], 'two sessions of alice have two different sids', aliceSids);
      check(receiver.take().length === 0, 'logging in sends no back-channel logout');

      const started = Date.now();
      const out = await logoutUser({ sub: 'auth0|alice' });
      check(out.status === 200 && out.body.sessions === 2, 'POST /__test/logout-user alice -> 200, sessions: 2', out);
      const outSids = (out.body.deliveries ?? []).map((d) => d.sid).sort();
      check(out.body.deliveries?.length === 2 && out.body.deliveries.every((d) => d.status === 200), 'logout-user reports two deliveries, status 200', out.body.deliveries);
      check(JSON.stringify(outSids) === JSON.stringify([...aliceSids].sort()), 'logout-user deliveries carry the sids of both sessions', { outSids, aliceSids });
      console.log(`     logout-user with 2 deliveries took ${Date.now() - started} ms`);
      const gotAlice = receiver.take();
      must(gotAlice.length === 2, 'the fake RP received two logout tokens (delivered before logout-user answered)', gotAlice.length);
      const alicePayloads = [];
      for (const [i, delivery] of gotAlice.entries()) {
        alicePayloads.push(await checkDelivery(delivery, {
          sub: 'auth0|alice', sids: aliceSids, pathName: '/backchannel-logout', label: `logout-user token ${i + 1}`,
        }));
      }
      check(new Set(alicePayloads.map((p) => p?.sid)).size === 2, 'one logout token per session (different sids)', alicePayloads.map((p) => p?.sid));
      console.log(`     logout token header: ${JSON.stringify(decodeProtectedHeader(gotAlice[0].form[0][1]))}`);
      console.log(`     logout token claims: ${JSON.stringify(alicePayloads[0])}`);

      check(await silentResult(aliceJar1) === 'login_required' && await silentResult(aliceJar2) === 'login_required', 'both IdP sessions of alice are gone (prompt=none -> login_required)');
      check(await silentResult(bobJar2) === 'code', 'bob\'s IdP session is untouched');

      const bclStats = (await getStats()).backchannelDeliveries;
      check(Array.isArray(bclStats) && bclStats.length === 2 && bclStats.every((d) => d.sub === 'auth0|alice' && d.status === 200 && aliceSids.includes(d.sid)
        && typeof d.at === 'string' && Math.abs(Date.parse(d.at) - Date.now()) < 60000), 'GET /__test/stats backchannelDeliveries records sid, sub, status and at', bclStats);

      const none = await logoutUser({ sub: 'auth0|alice' });
      check(none.status === 200 && none.body.sessions === 0 && none.body.deliveries?.length === 0, 'logout-user again -> sessions 0, no deliveries', none.body);
      const nobody = await logoutUser({ sub: 'auth0|nobody' });
      check(nobody.status === 200 && nobody.body.sessions === 0, 'logout-user of an unknown sub -> sessions 0', nobody.body);
      const badSub = await logoutUser({});
      check(badSub.status === 400, 'logout-user without sub -> 400', badSub.status);
      check(receiver.take().length === 0, 'nothing delivered for sessions that do not exist');

      // RP-initiated logout (/oidc/logout + confirm), the app answers 204.
      receiver.answer = 204;
      {
        const params = new URLSearchParams({
          id_token_hint: b1.body.id_token, client_id: CLIENT_ID, post_logout_redirect_uri: 'http://127.0.0.1:5555/signed-out', state: 'bcl',
        });
        const page = await request(bobJar2, `${base}oidc/logout?${params}`);
        const form = formFields(page.text, /<form\b[^>]*id="op\.logoutForm"[\s\S]*?<\/form>/);
        must(page.status === 200 && form, 'RP-initiated logout page for bob', page.status);
        const confirmedBcl = await request(bobJar2, new URL(form.action, base).href, { method: 'POST', form: form.fields });
        check(confirmedBcl.status === 303 && (confirmedBcl.location ?? '').startsWith('http://127.0.0.1:5555/signed-out'), 'RP-initiated logout still redirects to post_logout_redirect_uri', confirmedBcl.location);
        const gotBob = receiver.take();
        check(gotBob.length === 1, 'RP-initiated logout delivered one logout token (before its redirect)', gotBob.length);
        if (gotBob[0]) {
          await checkDelivery(gotBob[0], {
            sub: 'auth0|bob', sids: [bobSid], pathName: '/backchannel-logout', label: 'RP-initiated logout token',
          });
        }
        const last = (await getStats()).backchannelDeliveries.at(-1);
        check(last?.sid === bobSid && last.sub === 'auth0|bob' && last.status === 204, 'stats record the 204 of the RP-initiated logout delivery', last);
        check(await silentResult(bobJar2) === 'login_required', 'bob\'s IdP session is gone');
      }

      // Auth0 /v2/logout, URI with a host name (localhost), the app answers 400.
      receiver.answer = 400;
      {
        check((await setUri(`http://localhost:${receiver.port}/bcl-v2?tenant=x`)).status === 204, 'backchannel_logout_uri can be changed at runtime (localhost, with query)');
        const v2Jar = new CookieJar();
        const v2Login = await login(base, v2Jar, { login: 'alice', password: 'alice-password' });
        const v2Sid = decodeJwt(v2Login.body.id_token).sid;
        const v2Res = await request(v2Jar, `${base}v2/logout?${new URLSearchParams({ returnTo: 'http://localhost:5555/bye', client_id: CLIENT_ID })}`);
        check(v2Res.status === 302 && v2Res.location === 'http://localhost:5555/bye', '/v2/logout still redirects to returnTo', { status: v2Res.status, location: v2Res.location });
        const gotV2 = receiver.take();
        check(gotV2.length === 1, '/v2/logout delivered one logout token (via localhost)', gotV2.length);
        if (gotV2[0]) {
          await checkDelivery(gotV2[0], {
            sub: 'auth0|alice', sids: [v2Sid], pathName: '/bcl-v2?tenant=x', label: '/v2/logout token',
          });
        }
        const last = (await getStats()).backchannelDeliveries.at(-1);
        check(last?.sid === v2Sid && last.status === 400 && typeof last.error === 'string', 'stats record the 400 the app answered (with an error text)', last);
        check(await silentResult(v2Jar) === 'login_required', '/v2/logout ended the session');
      }

      // prompt=login with another user ends the old session: its application is told.
      receiver.answer = 200;
      {
        check((await setUri(receiver.url('/backchannel-logout'))).status === 204, 'backchannel_logout_uri back to 127.0.0.1');
        const switchJar = new CookieJar();
        const bigLogin = await login(base, switchJar, { login: 'big', password: 'big-password', scope: 'openid' });
        const bigSid = decodeJwt(bigLogin.body.id_token).sid;
        const bobLogin = await login(base, switchJar, {
          login: 'bob', password: 'bob-password', prompt: 'login', scope: 'openid',
        });
        check(bobLogin.status === 200 && decodeJwt(bobLogin.body.id_token).sub === 'auth0|bob', 'prompt=login switches to bob');
        const gotSwitch = receiver.take();
        check(gotSwitch.length === 1, 'switching user delivered one logout token for the old session', gotSwitch.length);
        if (gotSwitch[0]) {
          await checkDelivery(gotSwitch[0], {
            sub: 'auth0|big', sids: [bigSid], pathName: '/backchannel-logout', label: 'user switch token',
          });
        }
        await logoutUser({ sub: 'auth0|bob' });
        receiver.take();
      }

      // Non-loopback targets are refused. 0.0.0.0 is not loopback, yet on Linux a connection to
      // it reaches this host, i.e. the fake RP: so an unguarded delivery would arrive there.
      {
        let reachable = false;
        try {
          await fetch(`http://0.0.0.0:${receiver.port}/probe`, { method: 'POST', body: 'probe=1', signal: AbortSignal.timeout(2000) });
          reachable = receiver.take().some((r) => r.path === '/probe');
        } catch {
          reachable = false;
        }
        console.log(`     http://0.0.0.0:${receiver.port}/ reaches the fake RP from this process: ${reachable ? 'yes (so the refusal below is meaningful)' : 'no'}`);
        for (const target of [`http://0.0.0.0:${receiver.port}/blocked`, `http://[::ffff:0.0.0.0]:${receiver.port}/blocked`, `http://[::]:${receiver.port}/blocked`]) {
          check((await setUri(target)).status === 204, `a non-loopback backchannel_logout_uri can be registered (${target})`);
          const blockedJar = new CookieJar();
          await login(base, blockedJar, { login: 'alice', password: 'alice-password', scope: 'openid' });
          const blockedStarted = Date.now();
          const blocked = await logoutUser({ sub: 'auth0|alice' });
          const d = blocked.body.deliveries?.[0];
          check(blocked.status === 200 && blocked.body.sessions === 1 && d?.status === null && /loopback/.test(d?.error ?? ''), `delivery to ${target} is refused (status null, error)`, blocked.body);
          check(Date.now() - blockedStarted < 2000, 'the refusal is immediate (no connection attempt, no timeout)', Date.now() - blockedStarted);
          check(receiver.take().length === 0, `the fake RP was not called through ${target}`);
          check(await silentResult(blockedJar) === 'login_required', 'the session is ended even though the delivery was refused');
        }
        const last = (await getStats()).backchannelDeliveries.at(-1);
        check(last?.status === null && /loopback/.test(last?.error ?? ''), 'stats record the refused delivery (status null)', last);
      }

      // Cleared: sessions end without deliveries.
      {
        check((await setUri(null)).status === 204, 'POST /__test/backchannel-logout-uri {uri:null} -> 204');
        const clearedJar = new CookieJar();
        await login(base, clearedJar, { login: 'alice', password: 'alice-password', scope: 'openid' });
        const cleared = await logoutUser({ sub: 'auth0|alice' });
        check(cleared.status === 200 && cleared.body.sessions === 1 && cleared.body.deliveries?.length === 0, 'without backchannel_logout_uri: the session ends, nothing is delivered', cleared.body);
        check(receiver.take().length === 0, 'the fake RP got nothing');
        check((await request(null, `${base}__test/stats/reset`, { method: 'POST' })).status === 204 && (await getStats()).backchannelDeliveries.length === 0, 'stats reset clears backchannelDeliveries');
      }

      // sign-logout-token: a corpus of (bad) logout tokens.
      {
        const sign = async (body) => {
          const res = await request(null, `${base}__test/sign-logout-token`, { method: 'POST', json: body });
          return { status: res.status, type: res.headers.get('content-type'), jwt: res.text };
        };
        const parts = (jwt) => {
          const [h, p, sig] = jwt.split('.');
          return {
            header: JSON.parse(Buffer.from(h, 'base64url').toString()),
            payload: JSON.parse(Buffer.from(p, 'base64url').toString()),
            sig,
          };
        };
        const signatureValid = async (jwt, key = keySet) => {
          try {
            await compactVerify(jwt, key);
            return true;
          } catch {
            return false;
          }
        };
        const now = Math.floor(Date.now() / 1000);
        const good = {
          iss: base, aud: CLIENT_ID, iat: now, exp: now + 120, jti: crypto.randomUUID(), sub: 'auth0|alice', sid: 'sid-123', events: { [BACKCHANNEL_EVENT]: {} },
        };

        const s1 = await sign({ claims: good });
        check(s1.status === 200 && /^text\/plain/.test(s1.type ?? ''), 'POST /__test/sign-logout-token -> 200 text/plain', { status: s1.status, type: s1.type });
        const v1 = await jwtVerify(s1.jwt, keySet, {
          issuer: base, audience: CLIENT_ID, typ: 'logout+jwt', algorithms: ['RS256'],
        }).catch((err) => err);
        check(!(v1 instanceof Error) && JSON.stringify(v1.payload) === JSON.stringify(good), 'signed with the real key: verifies against the JWKS, claims exactly as given', v1 instanceof Error ? v1.message : v1.payload);
        check(JSON.stringify(parts(s1.jwt).header) === JSON.stringify({ alg: 'RS256', kid: rsaKey.kid, typ: 'logout+jwt' }), 'default header {alg RS256, kid of the JWKS key, typ logout+jwt}', parts(s1.jwt).header);

        const nulls = await sign({
          claims: good, alg: 'RS256', kid: null, header: null,
        });
        check(nulls.status === 200 && JSON.stringify(parts(nulls.jwt).header) === JSON.stringify({ alg: 'RS256', kid: rsaKey.kid, typ: 'logout+jwt' }) && await signatureValid(nulls.jwt), 'kid: null and header: null mean "not given"', nulls.status === 200 ? parts(nulls.jwt).header : nulls.jwt);

        const { events, ...noEvents } = good;
        const { sid, sub, ...noSidSub } = good;
        const corpus = {
          'wrong aud': { ...good, aud: 'some-other-client' },
          expired: { ...good, iat: now - 600, exp: now - 300 },
          'with nonce': { ...good, nonce: 'n-0S6_WzA2Mj' },
          '`event` instead of `events`': { ...noEvents, event: { [BACKCHANNEL_EVENT]: {} } },
          'events without the member': { ...good, events: { 'http://schemas.openid.net/event/other': {} } },
          'no sid, no sub': noSidSub,
        };
        for (const [name, claims] of Object.entries(corpus)) {
          const r = await sign({ claims });
          check(r.status === 200 && await signatureValid(r.jwt) && JSON.stringify(parts(r.jwt).payload) === JSON.stringify(claims), `sign-logout-token (${name}): valid signature, exactly the given claims`, r.status === 200 ? parts(r.jwt).payload : r.jwt);
        }
        const expiredRes = await jwtVerify((await sign({ claims: corpus.expired })).jwt, keySet).catch((err) => err.code);
        check(expiredRes === 'ERR_JWT_EXPIRED', 'the expired one fails validation with ERR_JWT_EXPIRED', expiredRes);

        const h1 = await sign({ claims: good, header: { typ: 'JWT', cty: 'logout' } });
        check(JSON.stringify(parts(h1.jwt).header) === JSON.stringify({ alg: 'RS256', kid: rsaKey.kid, typ: 'JWT', cty: 'logout' }) && await signatureValid(h1.jwt), 'header fields are merged over the defaults (typ JWT, cty)', parts(h1.jwt).header);
        const h2 = await sign({ claims: good, header: { typ: null } });
        check(JSON.stringify(parts(h2.jwt).header) === JSON.stringify({ alg: 'RS256', kid: rsaKey.kid }), 'a header field set to null is left out (no typ)', parts(h2.jwt).header);

        const unsigned = await sign({ claims: good, alg: 'none' });
        const up = parts(unsigned.jwt);
        check(unsigned.status === 200 && JSON.stringify(up.header) === JSON.stringify({ alg: 'none', typ: 'logout+jwt' }) && up.sig === '' && unsigned.jwt.endsWith('.'), 'alg none: header {alg none, typ logout+jwt}, empty signature', unsigned.jwt.slice(0, 60));
        check(JSON.stringify(up.payload) === JSON.stringify(good) && !await signatureValid(unsigned.jwt), 'alg none: same claims, does not verify', up.payload);

        const unknownKid = await sign({ claims: good, kid: 'unknown' });
        const uk = parts(unknownKid.jwt);
        check(unknownKid.status === 200 && JSON.stringify(uk.header) === JSON.stringify({ alg: 'RS256', kid: 'unknown', typ: 'logout+jwt' }), 'kid unknown: header kid "unknown"', uk.header);
        const ukResult = await jwtVerify(unknownKid.jwt, keySet).catch((err) => err.code);
        check(!jwks.keys.some((k) => k.kid === 'unknown') && ukResult === 'ERR_JWKS_NO_MATCHING_KEY', 'kid unknown: not in the JWKS, no matching key', ukResult);
        const ukAsReal = `${Buffer.from(JSON.stringify({ ...uk.header, kid: rsaKey.kid })).toString('base64url')}.${unknownKid.jwt.split('.').slice(1).join('.')}`;
        check(!await signatureValid(ukAsReal), 'kid unknown: signed by a key other than the real one');

        const hs = await sign({ claims: good, alg: 'HS256' });
        check(hs.status === 200 && JSON.stringify(parts(hs.jwt).header) === JSON.stringify({ alg: 'HS256', typ: 'logout+jwt' }), 'alg HS256: header {alg HS256, typ logout+jwt}', parts(hs.jwt).header);
        check(await signatureValid(hs.jwt, new TextEncoder().encode(CLIENT_SECRET)) && !await signatureValid(hs.jwt), 'alg HS256: HMAC with the client secret (not verifiable with the JWKS)');

        for (const [name, body] of Object.entries({
          'no claims': {}, 'claims an array': { claims: [] }, 'alg ES256': { claims: good, alg: 'ES256' }, 'header a string': { claims: good, header: 'x' }, 'kid a number': { claims: good, kid: 7 },
        })) {
          const r = await sign(body);
          check(r.status === 400, `sign-logout-token with ${name} -> 400`, r.status);
        }
      }
    }

    // ---- CIBA and federated connection token exchange ------------------------------------
    await cibaSuite(base, keySet);
    await connectionSuite(base);

    // ---- My Account API: connected accounts -------------------------------------------------
    await myAccountSuite(base, keySet);

    // ---- exit on stdin close -----------------------------------------------------------
    server.child.stdin.end();
    const result = await Promise.race([
      server.exited,
      new Promise((resolve) => { setTimeout(() => resolve('timeout'), 5000).unref(); }),
    ]);
    exitChecked = true;
    check(result !== 'timeout' && result.code === 0, 'server exits (0) when stdin closes', result);

    // ---- without --test-controls: no /__test routes, the APIs are still there --------------
    // (also: --backchannel-logout-uri given on the command line)
    plainServer = startServer(['--backchannel-logout-uri', receiver.url('/from-flag')]);
    const plain = (await plainServer.ready).issuer;
    check((await request(null, `${plain}__test/stats`)).status === 404, 'without --test-controls GET /__test/stats -> 404');
    check((await request(null, `${plain}__test/revoke-refresh-tokens`, { method: 'POST', json: {} })).status === 404, 'without --test-controls POST /__test/revoke-refresh-tokens -> 404');
    for (const control of ['backchannel-logout-uri', 'logout-user', 'sign-logout-token', 'connected-accounts']) {
      const res = await request(null, `${plain}__test/${control}`, { method: 'POST', json: { uri: null, sub: 'auth0|alice', claims: {} } });
      check(res.status === 404, `without --test-controls POST /__test/${control} -> 404`, res.status);
    }
    {
      const flagJar = new CookieJar();
      const flagLogin = await login(plain, flagJar, { login: 'alice', password: 'alice-password', scope: 'openid' });
      must(flagLogin.status === 200, 'login on the server started with --backchannel-logout-uri', flagLogin.body);
      const flagSid = decodeJwt(flagLogin.body.id_token).sid;
      const flagLogout = await request(flagJar, `${plain}v2/logout?${new URLSearchParams({ returnTo: 'http://localhost:5555/bye' })}`);
      check(flagLogout.status === 302, '/v2/logout on that server -> 302', flagLogout.status);
      const gotFlag = receiver.take();
      const flagToken = gotFlag[0]?.form[0]?.[1];
      const plainJwks = createLocalJWKSet(JSON.parse((await request(null, `${plain}.well-known/jwks.json`)).text));
      const flagVerified = flagToken ? await jwtVerify(flagToken, plainJwks, { issuer: plain, audience: CLIENT_ID, typ: 'logout+jwt' }).catch((err) => err) : undefined;
      check(gotFlag.length === 1 && gotFlag[0].path === '/from-flag' && flagVerified && !(flagVerified instanceof Error) && flagVerified.payload.sid === flagSid, '--backchannel-logout-uri: the logout token of /v2/logout arrives there, verifies, sid matches', { n: gotFlag.length, path: gotFlag[0]?.path, err: flagVerified?.message });
    }
    const plainNone = await request(null, `${plain}api/orders`);
    check(plainNone.status === 401 && plainNone.headers.get('www-authenticate') === 'Bearer realm="orders"', 'without --test-controls /api/orders is on (401 without a token)', plainNone.status);
    const plainForeign = await request(null, `${plain}api/orders`, { headers: { authorization: `Bearer ${ordersToken}` } });
    check(plainForeign.status === 401 && plainForeign.headers.get('www-authenticate') === 'Bearer error="invalid_token"', 'a token of another issuer/key -> 401 invalid_token', plainForeign.status);
    const plainDpop = await request(null, `${plain}api/dpop/orders`);
    check(plainDpop.status === 401 && /^DPoP realm="orders"/.test(plainDpop.headers.get('www-authenticate') ?? ''), 'without --test-controls /api/dpop/orders is on (401 DPoP challenge without a token)', plainDpop.status);
    const plainMe = await meRequest(plain, { path: 'accounts' });
    check(plainMe.status === 401 && /^Bearer realm="my-account"/.test(plainMe.challenge ?? ''), 'without --test-controls the My Account API is on (401 without a token)', plainMe.status);
    check((await request(null, `${plain}__test/connected-accounts`, { method: 'DELETE' })).status === 404, 'without --test-controls DELETE /__test/connected-accounts -> 404');
    plainServer.child.kill('SIGTERM');
    const plainExit = await Promise.race([plainServer.exited, sleep(5000).then(() => 'timeout')]);
    check(plainExit !== 'timeout' && plainExit.code === 0, 'second server exits 0 on SIGTERM', plainExit);

    // ---- DPoP: --dpop-nonce --dpop-bound ------------------------------------------------
    dpopServer = startServer(['--test-controls', '--dpop-nonce', '--dpop-bound']);
    await dpopSuite((await dpopServer.ready).issuer);
    await myAccountDpopSuite((await dpopServer.ready).issuer);
    dpopServer.child.kill('SIGTERM');
    const dpopExit = await Promise.race([dpopServer.exited, sleep(5000).then(() => 'timeout')]);
    check(dpopExit !== 'timeout' && dpopExit.code === 0, 'DPoP server exits 0 on SIGTERM', dpopExit);
  } catch (err) {
    failed += 1;
    console.log(`FAIL ${err.stack || err}`);
  } finally {
    if (!exitChecked || server.child.exitCode === null) {
      server.child.kill('SIGTERM');
      await Promise.race([server.exited, new Promise((r) => { setTimeout(r, 3000).unref(); })]);
    }
    if (plainServer && plainServer.child.exitCode === null && plainServer.child.signalCode === null) {
      plainServer.child.kill('SIGTERM');
      await Promise.race([plainServer.exited, sleep(3000)]);
    }
    if (dpopServer && dpopServer.child.exitCode === null && dpopServer.child.signalCode === null) {
      dpopServer.child.kill('SIGTERM');
      await Promise.race([dpopServer.exited, sleep(3000)]);
    }
    if (receiver) await receiver.close();
    if (failed) {
      console.log('--- server stderr ---');
      console.log(Buffer.concat(server.stderr).toString());
      if (dpopServer) {
        console.log('--- DPoP server stderr ---');
        console.log(Buffer.concat(dpopServer.stderr).toString());
      }
    }
  }

  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main();
