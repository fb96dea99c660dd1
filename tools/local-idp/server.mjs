#!/usr/bin/env node
// Local Auth0-like OpenID provider for tests and the sample app.
//
// Built on oidc-provider 8.x. Everything is kept in memory: keys, sessions, grants and tokens
// are created at start-up and are gone when the process exits.
//
// Usage: node server.mjs [--port 0] [--host 127.0.0.1] [--client-id ID] [--client-secret SECRET]
//                        [--backchannel-logout-uri URL] [--dpop-nonce] [--dpop-bound]
//                        [--test-controls] [--exit-on-stdin-close]
//
// When listening, exactly one line is written to stdout:
//   LOCAL_IDP_READY {"issuer":"http://127.0.0.1:PORT/","port":PORT}
// Everything else goes to stderr.

import { AsyncLocalStorage } from 'node:async_hooks';
import * as crypto from 'node:crypto';
import * as dns from 'node:dns';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import * as querystring from 'node:querystring';
import { parseArgs } from 'node:util';

import {
  calculateJwkThumbprint, createLocalJWKSet, decodeJwt, decodeProtectedHeader, EmbeddedJWK, jwtVerify,
} from 'jose';
import Provider, { errors, interactionPolicy } from 'oidc-provider';

// ---------------------------------------------------------------------------------------------
// stdout carries only the ready line; oidc-provider prints notices with console.info.
// ---------------------------------------------------------------------------------------------
const log = (...args) => console.error('[local-idp]', ...args);
console.log = console.error;
console.info = console.error;
const originalWarn = console.warn;
console.warn = (...args) => {
  // The audience/JSON body rewriting below hands oidc-provider an already read body on purpose.
  if (typeof args[0] === 'string' && args[0].includes('already parsed request body detected')) return;
  originalWarn(...args);
};

// ---------------------------------------------------------------------------------------------
// Command line
// ---------------------------------------------------------------------------------------------
const DEFAULT_CLIENT_ID = 'auth0-minimal-sample';
const DEFAULT_CLIENT_SECRET = 'local-dev-client-secret-0123456789abcdef';

function parseCommandLine(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      'client-id': { type: 'string' },
      'client-secret': { type: 'string' },
      'backchannel-logout-uri': { type: 'string' },
      'dpop-nonce': { type: 'boolean', default: false },
      'dpop-bound': { type: 'boolean', default: false },
      'test-controls': { type: 'boolean', default: false },
      'exit-on-stdin-close': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });

  if (values.help) {
    process.stderr.write(`Usage: node server.mjs [--port 0] [--host 127.0.0.1] [--client-id ID]
                      [--client-secret SECRET] [--backchannel-logout-uri URL]
                      [--dpop-nonce] [--dpop-bound] [--test-controls] [--exit-on-stdin-close]
Environment: LOCAL_IDP_PORT, LOCAL_IDP_CLIENT_ID, LOCAL_IDP_CLIENT_SECRET,
             LOCAL_IDP_BACKCHANNEL_LOGOUT_URI (flags win).
`);
    process.exit(0);
  }

  const portText = values.port ?? process.env.LOCAL_IDP_PORT ?? '0';
  const port = Number.parseInt(portText, 10);
  if (!Number.isInteger(port) || port < 0 || port > 65535 || String(port) !== portText.trim()) {
    throw new Error(`invalid port: ${portText}`);
  }

  const backchannelLogoutUri = values['backchannel-logout-uri'] ?? (process.env.LOCAL_IDP_BACKCHANNEL_LOGOUT_URI || null);
  if (backchannelLogoutUri !== null) {
    const problem = backchannelLogoutUriProblem(backchannelLogoutUri);
    if (problem) throw new Error(`invalid --backchannel-logout-uri: ${problem}`);
  }

  return {
    port,
    host: values.host ?? '127.0.0.1',
    clientId: values['client-id'] ?? process.env.LOCAL_IDP_CLIENT_ID ?? DEFAULT_CLIENT_ID,
    clientSecret: values['client-secret'] ?? process.env.LOCAL_IDP_CLIENT_SECRET ?? DEFAULT_CLIENT_SECRET,
    backchannelLogoutUri,
    dpopNonce: values['dpop-nonce'],
    dpopBound: values['dpop-bound'],
    testControls: values['test-controls'],
    exitOnStdinClose: values['exit-on-stdin-close'],
  };
}

// ---------------------------------------------------------------------------------------------
// Users
// ---------------------------------------------------------------------------------------------
const ROLES_CLAIM = 'https://example.com/roles';
const BIO_CLAIM = 'https://example.com/bio';

function bigBio(length) {
  const sentence = 'Big Claims writes a long biography so that the session cookie has to be split into several chunks. ';
  let text = '';
  let i = 0;
  while (text.length < length) {
    text += `${i} ${sentence}`;
    i += 1;
  }
  return text.slice(0, length);
}

const USERS = [
  {
    login: 'alice',
    password: 'alice-password',
    claims: {
      sub: 'auth0|alice',
      name: 'Alice Example',
      nickname: 'alice',
      given_name: 'Alice',
      family_name: 'Example',
      picture: 'https://example.com/alice.png',
      email: 'alice@example.com',
      email_verified: true,
      org_id: 'org_123',
      [ROLES_CLAIM]: ['admin', 'reader'],
    },
  },
  {
    login: 'bob',
    password: 'bob-password',
    claims: {
      sub: 'auth0|bob',
      name: 'Bob Builder',
      nickname: 'bob',
      given_name: 'Bob',
      family_name: 'Builder',
      email: 'bob@example.com',
      email_verified: false,
      org_id: 'org_456',
      [ROLES_CLAIM]: ['reader'],
    },
  },
  {
    login: 'big',
    password: 'big-password',
    claims: {
      sub: 'auth0|big',
      name: 'Big Claims',
      nickname: 'big',
      email: 'big@example.com',
      email_verified: true,
      [ROLES_CLAIM]: ['reader'],
      [BIO_CLAIM]: bigBio(6000),
    },
  },
];

const USERS_BY_LOGIN = new Map(USERS.map((u) => [u.login, u]));
const USERS_BY_SUB = new Map(USERS.map((u) => [u.claims.sub, u]));

function checkCredentials(login, password) {
  const user = USERS_BY_LOGIN.get(String(login ?? '').trim().toLowerCase());
  if (!user) return undefined;
  const a = Buffer.from(String(password ?? ''));
  const b = Buffer.from(user.password);
  if (a.length !== b.length || !crypto.timingSafeEqual(a, b)) return undefined;
  return user;
}

async function findAccount(ctx, sub) {
  const user = USERS_BY_SUB.get(sub);
  if (!user) return undefined;
  return {
    accountId: sub,
    // oidc-provider filters these by the granted scopes and the `claims` configuration.
    async claims() {
      return structuredClone(user.claims);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// APIs (resource servers), addressed with Auth0's `audience` parameter
// ---------------------------------------------------------------------------------------------
const APIS = new Map([
  ['https://orders.example.com', { scope: 'read:orders write:orders' }],
  ['https://analytics.example.com', { scope: 'read:analytics' }],
]);
const ACCESS_TOKEN_TTL = 3600;

// Protected resource servers in the same process ("sample APIs"), always on. They accept only
// RS256 JWT access tokens of this provider for their audience, and require one scope.
const RESOURCE_APIS = [
  {
    name: 'orders',
    path: '/api/orders',
    audience: 'https://orders.example.com',
    scope: 'read:orders',
    body: (payload, audience) => ({
      orders: [
        { id: 'ord_1', item: 'Coffee beans', quantity: 2 },
        { id: 'ord_2', item: 'Filter papers', quantity: 1 },
      ],
      sub: payload.sub,
      audience,
    }),
  },
  {
    name: 'analytics',
    path: '/api/analytics',
    audience: 'https://analytics.example.com',
    scope: 'read:analytics',
    body: (payload, audience) => ({ visits: 42, sub: payload.sub, audience }),
  },
];
const RESOURCE_APIS_BY_PATH = new Map(RESOURCE_APIS.map((api) => [api.path, api]));

// DPoP-protected resource servers (RFC 9449 section 7), always on: they accept only DPoP-bound
// JWT access tokens (`Authorization: DPoP <token>` plus a `DPoP` proof) and require their own
// server-provided nonce in the proof.
const DPOP_APIS = [
  {
    name: 'orders',
    path: '/api/dpop/orders',
    audience: 'https://orders.example.com',
    scope: 'read:orders',
    body: (payload, jkt) => ({
      orders: [
        { id: 'ord_1', item: 'Coffee beans', quantity: 2 },
        { id: 'ord_2', item: 'Filter papers', quantity: 1 },
      ],
      sub: payload.sub,
      jkt,
    }),
  },
];
const DPOP_APIS_BY_PATH = new Map(DPOP_APIS.map((api) => [api.path, api]));

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

function isLoopbackUrl(value) {
  let url;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  return (url.protocol === 'http:' || url.protocol === 'https:')
    && LOOPBACK_HOSTS.has(url.hostname)
    && !url.username
    && !url.password
    && !url.hash
    && !String(value).includes('#');
}

function isLoopbackOrigin(origin) {
  return typeof origin === 'string' && isLoopbackUrl(`${origin}/`);
}

// ---------------------------------------------------------------------------------------------
// Outgoing requests (back-channel logout, and anything oidc-provider fetches itself) may only
// go to loopback addresses: 127.0.0.0/8 and ::1 (also written as ::ffff:127.x.x.x). Everything
// else is refused before a connection is attempted, including 0.0.0.0 / :: (which Linux would
// route to this host) and host names that resolve to any other address.
// ---------------------------------------------------------------------------------------------
const LOOPBACK_ADDRESSES = new net.BlockList();
LOOPBACK_ADDRESSES.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK_ADDRESSES.addAddress('::1', 'ipv6');

function isLoopbackAddress(address) {
  const family = net.isIP(address);
  return family !== 0 && LOOPBACK_ADDRESSES.check(address, family === 6 ? 'ipv6' : 'ipv4');
}

function notLoopbackError(message) {
  const err = new Error(message);
  err.code = 'ERR_NOT_LOOPBACK';
  return err;
}

// Throws unless `url` is http(s) and, when its host is an IP address, a loopback one. (Node
// does not call `lookup` for IP literals, so they are checked here; names are checked by
// loopbackOnlyLookup.)
function assertLoopbackTarget(value) {
  const url = value instanceof URL ? value : new URL(value);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw notLoopbackError(`refused to call ${url.protocol} URL ${url.href}: only http(s) is allowed`);
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (net.isIP(host) && !isLoopbackAddress(host)) {
    throw notLoopbackError(`refused to call ${url.href}: ${host} is not a loopback address (only 127.0.0.0/8 and ::1 are allowed)`);
  }
  return url;
}

// A dns.lookup() that only ever answers loopback addresses (for http.request's `lookup` and
// oidc-provider's `httpOptions().dnsLookup`).
function loopbackOnlyLookup(hostname, options, callback) {
  let opts = options;
  let cb = callback;
  if (typeof opts === 'function') {
    cb = opts;
    opts = {};
  } else if (typeof opts === 'number') {
    opts = { family: opts };
  }
  dns.lookup(hostname, { ...opts, all: true }, (err, addresses) => {
    if (err) {
      cb(err);
      return;
    }
    const allowed = addresses.filter((a) => isLoopbackAddress(a.address));
    if (!allowed.length) {
      cb(notLoopbackError(`refused to call ${hostname}: it resolves to ${addresses.map((a) => a.address).join(', ') || 'nothing'}, not to a loopback address (only 127.0.0.0/8 and ::1 are allowed)`));
      return;
    }
    if (opts.all) cb(null, allowed);
    else cb(null, allowed[0].address, allowed[0].family);
  });
}

// undefined when `value` can be a client's backchannel_logout_uri (an absolute http(s) URL
// without fragment, OIDC Back-Channel Logout 1.0 section 2.2), else what is wrong with it.
// Non-loopback URLs are accepted here; calling them is refused (see assertLoopbackTarget).
function backchannelLogoutUriProblem(value) {
  if (typeof value !== 'string' || !value) return 'must be a non-empty string';
  let url;
  try {
    url = new URL(value);
  } catch {
    return `not an absolute URL: ${value}`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `must be an http(s) URL: ${value}`;
  if (url.hash || value.includes('#')) return `must not have a fragment: ${value}`;
  if (url.username || url.password) return `must not have user info: ${value}`;
  return undefined;
}

function escapeHtml(value) {
  return String(value ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

function page(title, body) {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font-family:system-ui,sans-serif;margin:40px auto;max-width:420px;padding:0 16px;color:#222}
label{display:block;margin:12px 0 4px}input{width:100%;padding:8px;box-sizing:border-box}
button{margin-top:16px;padding:8px 16px}.error{color:#b00020}code{background:#eee;padding:0 3px}
</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
${body}
</body>
</html>`;
}

async function readRawBody(ctx, limit = 64 * 1024) {
  const chunks = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += chunk.length;
    if (size > limit) ctx.throw(413, 'request body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

// Reads a form (or JSON, as Auth0 accepts it on /oauth/token) body into a plain object.
async function readForm(ctx) {
  const raw = await readRawBody(ctx);
  if (ctx.is('application/json')) {
    let parsed;
    try {
      parsed = raw ? JSON.parse(raw) : {};
    } catch {
      ctx.throw(400, 'invalid JSON body');
    }
    const out = {};
    for (const [k, v] of Object.entries(parsed ?? {})) {
      if (v === null || v === undefined) continue;
      out[k] = Array.isArray(v) ? v.map(String) : String(v);
    }
    return out;
  }
  return { ...querystring.parse(raw) };
}

// Hands a (possibly rewritten) form body to oidc-provider, which then uses it instead of the
// already consumed request stream.
function setForm(ctx, form) {
  const body = querystring.stringify(form);
  ctx.req.headers['content-type'] = 'application/x-www-form-urlencoded';
  ctx.req.headers['content-length'] = String(Buffer.byteLength(body));
  ctx.req.body = body;
}

function splitScope(value) {
  return new Set(String(value ?? '').split(' ').filter(Boolean));
}

// Auth0's `audience` on /authorize becomes a resource indicator. The other APIs are requested
// as well (with all their scopes), so that the refresh token can later be exchanged for an
// access token of a different audience, like Auth0's multi-resource refresh tokens. The
// requested audience comes first: it is the one used when the code is exchanged.
// Without `audience` nothing is added: the code exchange gives the opaque userinfo token, and
// the refresh token reaches the APIs through allowAnyApiForRefreshTokensWithoutAudience.
// `offline_access` is kept without the client having to send prompt=consent.
function rewriteAuthorizationParams(params) {
  const get = (k) => (Array.isArray(params[k]) ? params[k][0] : params[k]);
  const audience = get('audience');
  delete params.audience;

  const scopes = splitScope(get('scope'));

  if (audience && params.resource === undefined) {
    const resources = [audience];
    const api = APIS.get(audience);
    if (api) {
      const own = [...splitScope(api.scope)];
      if (!own.some((s) => scopes.has(s))) own.forEach((s) => scopes.add(s));
      for (const [id, other] of APIS) {
        if (id === audience) continue;
        resources.push(id);
        splitScope(other.scope).forEach((s) => scopes.add(s));
      }
    }
    params.resource = resources;
  }

  if (scopes.has('offline_access')) {
    // oidc-provider drops offline_access unless prompt contains consent (OIDC Core 11). The
    // consent prompt itself never shows (see the interaction policy below).
    const prompts = splitScope(get('prompt'));
    if (!prompts.has('none') && !prompts.has('consent')) {
      prompts.add('consent');
      params.prompt = [...prompts].join(' ');
    }
  }

  if (scopes.size) params.scope = [...scopes].join(' ');
  return params;
}

// Multi-resource refresh tokens for logins without `audience`. Such a refresh token has no
// resource indicator and only the OpenID scopes, so oidc-provider would refuse any `resource`
// on the refresh_token grant (invalid_target) and any API scope (invalid_scope). Here it may
// name any API: its resource indicators are all APIs, and while a refresh_token request for one
// API is handled (refreshAudience, set by the /oauth/token middleware) its scopes include that
// API's scopes. Only these getters change, not the stored `resource`/`scope`: the token answers
// a refresh without `audience` with the opaque userinfo token as before, and its rotated
// successor (which copies `resource` and `scope`) keeps exactly the same abilities. Refresh
// tokens of logins with `audience` already list every API and are left alone.
const refreshAudience = new AsyncLocalStorage();

function allowAnyApiForRefreshTokensWithoutAudience(provider) {
  const hasResource = (token) => (Array.isArray(token.resource) ? token.resource.length > 0 : !!token.resource);
  Object.defineProperties(provider.RefreshToken.prototype, {
    resourceIndicators: {
      configurable: true,
      get() {
        if (hasResource(this)) return new Set(Array.isArray(this.resource) ? this.resource : [this.resource]);
        return new Set(APIS.keys());
      },
    },
    scopes: {
      configurable: true,
      get() {
        const own = splitScope(this.scope);
        const api = hasResource(this) ? undefined : APIS.get(refreshAudience.getStore());
        if (api) splitScope(api.scope).forEach((s) => own.add(s));
        return own;
      },
    },
  });
}

// ---------------------------------------------------------------------------------------------
// Keys
// ---------------------------------------------------------------------------------------------
function generateKeys() {
  const suffix = crypto.randomBytes(6).toString('hex');
  const rsaKid = `local-idp-rsa-${suffix}`;
  const ecKid = `local-idp-ec-${suffix}`;

  const rsa = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  // Served instead of the real RSA key (same kid) when the wrongJwks fault is on.
  const other = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });

  const rsaJwk = { ...rsa.privateKey.export({ format: 'jwk' }), kid: rsaKid, alg: 'RS256', use: 'sig' };
  const ecJwk = { ...ec.privateKey.export({ format: 'jwk' }), kid: ecKid, alg: 'ES256', use: 'sig' };

  const publicOnly = (key, kid, alg) => ({ ...key.export({ format: 'jwk' }), kid, alg, use: 'sig' });

  return {
    signing: { keys: [rsaJwk, ecJwk] },
    // The RS256 signing key (the first key, the one ID tokens use), for logout tokens.
    rsa: { kid: rsaKid, privateKey: rsa.privateKey },
    // The real public keys; the APIs verify access tokens with these (never with wrongPublic).
    public: {
      keys: [
        publicOnly(rsa.publicKey, rsaKid, 'RS256'),
        publicOnly(ec.publicKey, ecKid, 'ES256'),
      ],
    },
    wrongPublic: {
      keys: [
        publicOnly(other.publicKey, rsaKid, 'RS256'),
        publicOnly(ec.publicKey, ecKid, 'ES256'),
      ],
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Provider configuration
// ---------------------------------------------------------------------------------------------
function buildConfiguration({
  clientId, clientSecret, backchannelLogoutUri, dpopBound, keys, faults, ciba,
}) {
  const policy = interactionPolicy.base();
  // Consent is automatic. An explicit (or added, see above) prompt=consent does not force an
  // interaction; missing scopes never cause one because loadExistingGrant grants them.
  policy.get('consent').checks.remove('consent_prompt');

  return {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        client_name: 'Auth0 Minimal Sample (local)',
        application_type: 'web',
        token_endpoint_auth_method: 'client_secret_post',
        grant_types: ['authorization_code', 'refresh_token', CIBA_GRANT_TYPE],
        // CIBA (poll mode only, like Auth0).
        backchannel_token_delivery_mode: 'poll',
        response_types: ['code'],
        redirect_uris: [
          'http://localhost:3000/auth/callback',
          'http://127.0.0.1:3000/auth/callback',
        ],
        post_logout_redirect_uris: [
          'http://localhost:3000/',
          'http://127.0.0.1:3000/',
        ],
        id_token_signed_response_alg: 'RS256',
        // Auth0 always puts `sid` into logout tokens (and ID tokens). The URI can also be set
        // and cleared at runtime (POST /__test/backchannel-logout-uri).
        backchannel_logout_session_required: true,
        ...(backchannelLogoutUri ? { backchannel_logout_uri: backchannelLogoutUri } : undefined),
        // --dpop-bound; switched at runtime by the dpopBound fault (see setDpopBound).
        dpop_bound_access_tokens: dpopBound === true,
      },
    ],

    jwks: keys.signing,

    cookies: {
      keys: [crypto.randomBytes(32).toString('hex')],
      // SameSite=None needs Secure, which plain http cannot have.
      long: { httpOnly: true, sameSite: 'lax' },
      short: { httpOnly: true, sameSite: 'lax' },
    },

    findAccount,

    claims: {
      openid: ['sub', 'org_id'],
      profile: [
        'name', 'nickname', 'given_name', 'family_name', 'picture', 'updated_at',
        ROLES_CLAIM, BIO_CLAIM,
      ],
      email: ['email', 'email_verified'],
    },
    scopes: ['openid', 'offline_access', 'profile', 'email'],
    responseTypes: ['code'],
    // Like Auth0: profile and email claims go into the ID token.
    conformIdTokenClaims: false,

    pkce: {
      methods: ['S256'],
      required: () => true,
    },

    routes: {
      authorization: '/authorize',
      token: '/oauth/token',
      userinfo: '/userinfo',
      jwks: '/.well-known/jwks.json',
      revocation: '/oauth/revoke',
      end_session: '/oidc/logout',
      pushed_authorization_request: '/oauth/par',
      backchannel_authentication: '/bc-authorize',
    },

    interactions: {
      policy,
      url: (ctx, interaction) => `/interaction/${interaction.uid}`,
    },

    features: {
      devInteractions: { enabled: false },
      revocation: { enabled: true },
      userinfo: { enabled: true },
      dPoP: {
        enabled: true,
        // Server-provided nonces (RFC 9449 section 8) are always available, so that the
        // dpopNonce fault can switch the requirement on and off at runtime. The nonce is only
        // required at the token endpoint, while --dpop-nonce / the fault is on.
        nonceSecret: crypto.randomBytes(32),
        requireNonce: (ctx) => faults.dpopNonce === true && ctx.oidc?.route === 'token',
      },
      // OpenID CIBA, poll mode (see createCiba for the state kept next to oidc-provider's).
      ciba: {
        enabled: true,
        deliveryModes: ['poll'],
        processLoginHint: ciba.processLoginHint,
        validateBindingMessage: ciba.validateBindingMessage,
        validateRequestContext: async () => {},
        verifyUserCode: async () => {},
        triggerAuthenticationDevice: ciba.triggerAuthenticationDevice,
      },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource,
        postLogoutSuccessSource,
      },
      // The logout tokens themselves are made and delivered by createBackchannelLogout (it
      // replaces Client#backchannelLogout); the feature makes the client metadata
      // backchannel_logout_uri known, and has the end_session endpoint call it.
      backchannelLogout: { enabled: true },
      resourceIndicators: {
        enabled: true,
        // No audience on /authorize: an opaque access token for /userinfo (also on refresh
        // without audience; with one, see allowAnyApiForRefreshTokensWithoutAudience).
        // On code/refresh exchange pick the first (= originally requested) audience.
        defaultResource: async (ctx, client, oneOf) => (oneOf ? oneOf[0] : undefined),
        useGrantedResource: async () => true,
        getResourceServerInfo: async (ctx, resourceIndicator) => {
          const api = APIS.get(resourceIndicator);
          if (!api) throw new errors.InvalidTarget(`unknown audience: ${resourceIndicator}`);
          return {
            scope: api.scope,
            audience: resourceIndicator,
            accessTokenTTL: ACCESS_TOKEN_TTL,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },

    extraTokenClaims: async (ctx, token) => (token.resourceServer ? { azp: token.clientId } : undefined),

    // Always a refresh token when offline_access is requested (no prompt=consent needed), rotated
    // on every use.
    issueRefreshToken: async (ctx, client, code) => client.grantTypeAllowed('refresh_token')
      && code.scopes.has('offline_access'),
    rotateRefreshToken: true,

    loadExistingGrant,

    // Everything runs on one host: no clock skew to allow for. With the default (15 s) expired
    // opaque access tokens would still work at /userinfo, which defeats the accessTokenTtl fault.
    clockTolerance: 0,

    clientBasedCORS: (ctx, origin) => isLoopbackOrigin(origin),

    // oidc-provider's own outgoing requests (none are configured today: no jwks_uri,
    // sector_identifier_uri, request_uri, and CIBA is poll mode only) are held to loopback as well. Throwing
    // here fails the request before it is made.
    httpOptions: (url) => {
      assertLoopbackTarget(url);
      return { dnsLookup: loopbackOnlyLookup, signal: AbortSignal.timeout(BACKCHANNEL_TIMEOUT_MS) };
    },

    ttl: {
      // A number here would also override the resource servers' accessTokenTTL. The
      // accessTokenTtl fault (test controls) applies to opaque and JWT access tokens alike.
      AccessToken: (ctx, token) => faults.accessTokenTtl
        ?? token.resourceServer?.accessTokenTTL
        ?? ACCESS_TOKEN_TTL,
      AuthorizationCode: 60,
      // requested_expiry (1..300, checked by the /bc-authorize middleware) or 30 s.
      BackchannelAuthenticationRequest: (ctx) => (ctx?.oidc?.params.requested_expiry
        ? Number(ctx.oidc.params.requested_expiry)
        : CIBA_DEFAULT_EXPIRY),
      IdToken: 3600,
      Interaction: 3600,
      RefreshToken: 14 * 24 * 3600,
      Session: 14 * 24 * 3600,
      Grant: 14 * 24 * 3600,
    },

    renderError,
  };
}

// Auto-consent: every authorization request extends the grant with the requested OpenID scopes
// and claims, and with all scopes of all APIs.
async function loadExistingGrant(ctx) {
  const { oidc } = ctx;
  const accountId = oidc.account.accountId;
  const { clientId } = oidc.client;
  const grantId = oidc.result?.consent?.grantId || oidc.session.grantIdFor(clientId);

  let grant = grantId ? await oidc.provider.Grant.find(grantId) : undefined;
  if (!grant || grant.accountId !== accountId || grant.clientId !== clientId) {
    grant = new oidc.provider.Grant({ accountId, clientId });
  }

  const oidcScopes = [...oidc.requestParamOIDCScopes];
  if (oidcScopes.length) grant.addOIDCScope(oidcScopes.join(' '));
  const claims = [...oidc.requestParamClaims];
  if (claims.length) grant.addOIDCClaims(claims);
  for (const [identifier, api] of APIS) grant.addResourceScope(identifier, api.scope);

  await grant.save();
  return grant;
}

async function logoutSource(ctx, form) {
  // `form` is `<form id="op.logoutForm" method="post" action="…/oidc/logout/confirm">` with a
  // hidden `xsrf` input. Add logout=yes so that submitting it ends the whole session, a
  // noscript button, and a script that submits it right away.
  const completed = form.replace(
    '</form>',
    '<input type="hidden" name="logout" value="yes"/><noscript><button type="submit">Sign out</button></noscript></form>',
  );
  ctx.type = 'html';
  ctx.body = page('Signing out', `<p>Signing you out of ${escapeHtml(ctx.host)}…</p>
${completed}
<script>document.getElementById('op.logoutForm').submit();</script>`);
}

async function postLogoutSuccessSource(ctx) {
  ctx.type = 'html';
  ctx.body = page('Signed out', '<p id="signed-out">You have been signed out.</p>');
}

async function renderError(ctx, out) {
  ctx.type = 'html';
  const rows = Object.entries(out)
    .map(([k, v]) => `<p><strong>${escapeHtml(k)}</strong>: <span class="${escapeHtml(k)}">${escapeHtml(v)}</span></p>`)
    .join('\n');
  ctx.body = page('Error', rows);
}

// ---------------------------------------------------------------------------------------------
// Login page
// ---------------------------------------------------------------------------------------------
function loginPage(uid, { login = '', error, clientName } = {}) {
  const users = USERS.map((u) => `<code>${escapeHtml(u.login)}</code> / <code>${escapeHtml(u.password)}</code>`).join(', ');
  return page('Log in', `${clientName ? `<p>to continue to ${escapeHtml(clientName)}</p>` : ''}
${error ? `<p class="error" id="error">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/interaction/${escapeHtml(uid)}/login" id="login-form">
<label for="login">Username</label>
<input id="login" name="login" type="text" autocomplete="username" value="${escapeHtml(login)}" autofocus>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password">
<button type="submit" id="submit">Log in</button>
</form>
<p><small>Test users: ${users}</small></p>`);
}

// ---------------------------------------------------------------------------------------------
// Request counters (served by GET /__test/stats)
// ---------------------------------------------------------------------------------------------
function createStats() {
  const stats = {
    reset() {
      this.tokenRequests = new Map([['authorization_code', 0], ['refresh_token', 0]]);
      this.apiRequests = Object.fromEntries(RESOURCE_APIS.map((api) => [api.name, 0]));
      this.lastAudience = Object.fromEntries(RESOURCE_APIS.map((api) => [api.name, null]));
      this.backchannelDeliveries = [];
      this.dpopProofs = { token: 0, api: 0 };
      this.useDpopNonceResponses = 0;
      this.dpopApiRequests = Object.fromEntries(DPOP_APIS.map((api) => [api.name, 0]));
      this.dpopApiLastError = Object.fromEntries(DPOP_APIS.map((api) => [api.name, null]));
      this.cibaPolls = 0;
      this.connectionTokenRequests = 0;
      this.myAccountRequests = {
        connect: 0, complete: 0, list: 0, delete: 0,
      };
      this.lastConnectRequest = null;
      this.lastMyAccountAuthScheme = null;
    },
    countTokenRequest(grantType) {
      this.tokenRequests.set(grantType, (this.tokenRequests.get(grantType) ?? 0) + 1);
    },
    recordBackchannelDelivery(delivery) {
      this.backchannelDeliveries.push(delivery);
      if (this.backchannelDeliveries.length > MAX_RECORDED_DELIVERIES) {
        this.backchannelDeliveries.splice(0, this.backchannelDeliveries.length - MAX_RECORDED_DELIVERIES);
      }
    },
    toJSON() {
      return {
        tokenRequests: Object.fromEntries(this.tokenRequests),
        refreshTokenRequests: this.tokenRequests.get('refresh_token') ?? 0,
        apiRequests: { ...this.apiRequests },
        lastAudience: structuredClone(this.lastAudience),
        backchannelDeliveries: structuredClone(this.backchannelDeliveries),
        dpopProofs: { ...this.dpopProofs },
        useDpopNonceResponses: this.useDpopNonceResponses,
        dpopApiRequests: { ...this.dpopApiRequests },
        dpopApiLastError: structuredClone(this.dpopApiLastError),
        cibaPolls: this.cibaPolls,
        connectionTokenRequests: this.connectionTokenRequests,
        myAccountRequests: { ...this.myAccountRequests },
        lastConnectRequest: structuredClone(this.lastConnectRequest),
        lastMyAccountAuthScheme: this.lastMyAccountAuthScheme,
      };
    },
  };
  stats.reset();
  return stats;
}

// ---------------------------------------------------------------------------------------------
// OIDC Back-Channel Logout 1.0
// ---------------------------------------------------------------------------------------------
const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
const LOGOUT_TOKEN_TTL = 120;
const BACKCHANNEL_TIMEOUT_MS = 2500;
const MAX_RECORDED_DELIVERIES = 50;

const b64url = (value) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

// A compact JWS with exactly this header and payload. `alg` picks how it is signed, whatever
// header.alg says: RS256 with `key` (a KeyObject), HS256 with `key` (the secret), none unsigned.
function signCompactJws(header, payload, alg, key) {
  const input = `${b64url(header)}.${b64url(payload)}`;
  let signature;
  if (alg === 'RS256') signature = crypto.sign('sha256', Buffer.from(input), key);
  else if (alg === 'HS256') signature = crypto.createHmac('sha256', key).update(input).digest();
  else if (alg === 'none') signature = Buffer.alloc(0);
  else throw new TypeError(`unsupported alg ${alg}`);
  return `${input}.${signature.toString('base64url')}`;
}

// POSTs `logout_token=<JWT>` and resolves with the HTTP status the app answered (redirects are
// not followed). Rejects when the target is not loopback, on network errors and on timeout.
function postLogoutToken(uri, logoutToken) {
  return new Promise((resolve, reject) => {
    let url;
    try {
      url = assertLoopbackTarget(uri);
    } catch (err) {
      reject(err);
      return;
    }
    const body = querystring.stringify({ logout_token: logoutToken });
    const transport = url.protocol === 'https:' ? https : http;
    const req = transport.request(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'content-length': Buffer.byteLength(body),
        accept: '*/*',
      },
      agent: false,
      lookup: loopbackOnlyLookup,
      signal: AbortSignal.timeout(BACKCHANNEL_TIMEOUT_MS),
      rejectUnauthorized: process.env.NODE_TLS_REJECT_UNAUTHORIZED !== '0',
    }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('error', reject);
    req.end(body);
  });
}

// Which sessions belong to whom (for "log out everywhere"), logout tokens, deliveries.
function createBackchannelLogout({
  provider, options, keys, stats, issuer,
}) {
  const accountBySessionUid = new Map(); // session uid -> accountId
  provider.on('session.saved', (session) => {
    if (typeof session.uid !== 'string') return;
    if (typeof session.accountId === 'string') accountBySessionUid.set(session.uid, session.accountId);
    else accountBySessionUid.delete(session.uid);
  });
  provider.on('session.destroyed', (session) => {
    if (typeof session.uid === 'string') accountBySessionUid.delete(session.uid);
  });

  const logoutToken = (clientId, sub, sid) => {
    const iat = Math.floor(Date.now() / 1000);
    return signCompactJws(
      { alg: 'RS256', kid: keys.rsa.kid, typ: 'logout+jwt' },
      {
        iss: issuer,
        aud: clientId,
        iat,
        exp: iat + LOGOUT_TOKEN_TTL,
        jti: crypto.randomUUID(),
        sub,
        sid,
        events: { [BACKCHANNEL_LOGOUT_EVENT]: {} },
      },
      'RS256',
      keys.rsa.privateKey,
    );
  };

  // Sends one logout token to the client's backchannel_logout_uri and records the outcome.
  // Never throws: { sid, sub, status, at, uri, error } (status null when there was no answer).
  async function deliver(client, sub, sid) {
    const uri = client.backchannelLogoutUri;
    let status = null;
    let error = null;
    try {
      status = await postLogoutToken(uri, logoutToken(client.clientId, sub, sid));
      if (status < 200 || status > 299) error = `${uri} answered ${status} ${http.STATUS_CODES[status] ?? ''}`.trim();
    } catch (err) {
      error = err.name === 'TimeoutError' || err.name === 'AbortError'
        ? `${uri} did not answer within ${BACKCHANNEL_TIMEOUT_MS} ms`
        : `${err.code ? `${err.code}: ` : ''}${err.message}`;
    }
    const delivery = {
      sid, sub, status, at: new Date().toISOString(), uri, error,
    };
    stats.recordBackchannelDelivery(delivery);
    log(`back-channel logout sid=${sid} sub=${sub} -> ${uri}: ${error ?? status}`);
    return delivery;
  }

  // The (client, sid) pairs of a session that have a backchannel_logout_uri, as oidc-provider's
  // end_session endpoint picks them: every client the session holds an authorization for.
  async function targetsOf(session) {
    const targets = [];
    for (const [clientId, authorization] of Object.entries(session.authorizations ?? {})) {
      const client = await provider.Client.find(clientId);
      if (client?.backchannelLogoutUri && authorization?.sid) targets.push({ client, sid: authorization.sid });
    }
    return targets;
  }

  // Ends an IdP session, then sends its back-channel logouts; resolves with the deliveries.
  async function endSession(session) {
    const sub = session.accountId;
    const targets = typeof sub === 'string' ? await targetsOf(session) : [];
    await session.destroy();
    if (typeof session.uid === 'string') accountBySessionUid.delete(session.uid);
    return Promise.all(targets.map(({ client, sid }) => deliver(client, sub, sid)));
  }

  // Ends every IdP session of `sub`.
  async function endSessionsOf(sub) {
    const uids = [...accountBySessionUid].filter(([, accountId]) => accountId === sub).map(([uid]) => uid);
    let sessions = 0;
    const deliveries = [];
    for (const uid of uids) {
      const session = await provider.Session.findByUid(uid);
      if (!session || session.accountId !== sub) {
        accountBySessionUid.delete(uid);
        continue;
      }
      sessions += 1;
      deliveries.push(...await endSession(session));
    }
    return { sessions, deliveries };
  }

  // RP-initiated logout (/oidc/logout/confirm) goes through oidc-provider's end_session
  // endpoint, which calls this for every client of the session that has a
  // backchannel_logout_uri; it reports a rejection as `backchannel.error`.
  provider.Client.prototype.backchannelLogout = async function backchannelLogout(sub, sid) {
    const delivery = await deliver(this, sub, sid);
    if (delivery.error) throw new Error(delivery.error);
  };

  return {
    endSession,
    endSessionsOf,
    async setUri(uri) {
      const client = await provider.Client.find(options.clientId);
      client.backchannelLogoutUri = uri ?? undefined;
      log(`backchannel_logout_uri of ${options.clientId}: ${uri ?? '(none)'}`);
    },
  };
}

// Test control: a logout-token-shaped JWT with exactly the given claims (see README).
const SIGN_LOGOUT_TOKEN_ALGS = new Set(['RS256', 'HS256', 'none']);
let throwawayRsaKey;

function signTestLogoutToken(body, { keys, clientSecret }) {
  const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
  const alg = body.alg ?? 'RS256';
  if (!isObject(body.claims)) throw new TypeError('claims must be a JSON object');
  if (body.header !== undefined && body.header !== null && !isObject(body.header)) throw new TypeError('header must be a JSON object');
  if (!SIGN_LOGOUT_TOKEN_ALGS.has(alg)) throw new TypeError('alg must be one of RS256, HS256, none');
  if (body.kid !== undefined && body.kid !== null && (typeof body.kid !== 'string' || !body.kid)) throw new TypeError('kid must be a non-empty string');

  let key;
  const base = { alg };
  if (alg === 'RS256') {
    const kid = body.kid ?? keys.rsa.kid;
    if (kid === keys.rsa.kid) {
      key = keys.rsa.privateKey;
    } else {
      // Any other kid: a key that is in no JWKS of this provider.
      throwawayRsaKey ??= crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
      key = throwawayRsaKey;
    }
    base.kid = kid;
  } else if (alg === 'HS256') {
    key = clientSecret;
    if (body.kid) base.kid = body.kid;
  } else if (body.kid) {
    base.kid = body.kid;
  }
  base.typ = 'logout+jwt';

  const header = { ...base, ...(body.header ?? {}) };
  for (const [name, value] of Object.entries(header)) if (value === null) delete header[name];
  return signCompactJws(header, body.claims, alg, key);
}

// ---------------------------------------------------------------------------------------------
// Grants by user, so that all refresh tokens of a user can be revoked
// ---------------------------------------------------------------------------------------------
function trackGrants(provider) {
  const accountByGrant = new Map(); // grantId -> accountId

  const track = (accountId, grantId) => {
    if (typeof accountId === 'string' && typeof grantId === 'string') accountByGrant.set(grantId, accountId);
  };
  provider.on('grant.saved', (grant) => track(grant.accountId, grant.jti));
  provider.on('refresh_token.saved', (token) => track(token.accountId, token.grantId));
  provider.on('grant.revoked', (ctx, grantId) => accountByGrant.delete(grantId));
  provider.on('grant.destroyed', (grant) => accountByGrant.delete(grant.jti));

  // Destroys the refresh tokens, opaque access tokens and authorization codes of every grant of
  // `sub` (of every user when `sub` is undefined) and the grants themselves.
  return async function revokeGrantsOf(sub) {
    const grantIds = [...accountByGrant]
      .filter(([, accountId]) => sub === undefined || accountId === sub)
      .map(([grantId]) => grantId);
    for (const grantId of grantIds) {
      await Promise.all([
        provider.RefreshToken.revokeByGrantId(grantId),
        provider.AccessToken.revokeByGrantId(grantId),
        provider.AuthorizationCode.revokeByGrantId(grantId),
        provider.Grant.adapter.destroy(grantId),
      ]);
      accountByGrant.delete(grantId);
    }
    return grantIds.length;
  };
}

// ---------------------------------------------------------------------------------------------
// OpenID CIBA (Client-Initiated Backchannel Authentication), poll mode, as Auth0 offers it.
// oidc-provider's features.ciba handles /bc-authorize and the urn:openid:params:grant-type:ciba
// grant; kept here: what the test controls list and decide, the polling interval (slow_down),
// authorization_details (echoed in the token response), and expiry (the memory adapter drops an
// expired request, which oidc-provider would report as invalid_grant instead of expired_token).
// ---------------------------------------------------------------------------------------------
const CIBA_GRANT_TYPE = 'urn:openid:params:grant-type:ciba';
const CIBA_DEFAULT_EXPIRY = 30; // seconds
const CIBA_MAX_EXPIRY = 300; // seconds, like Auth0
const CIBA_INTERVAL = 1; // seconds
const CIBA_SLOW_DOWN_STEP = 5; // seconds added to the interval by every slow_down
const CIBA_POLL_SLACK_MS = 50; // timers fire a little early now and then
const CIBA_KEEP_MS = 10 * 60 * 1000; // how long an expired request is remembered
const CIBA_AUTHORIZATION_DETAILS = Symbol('cibaAuthorizationDetails');
// Auth0: up to 64 characters, alphanumerics, whitespace and +-_.,:#
const BINDING_MESSAGE = /^[A-Za-z0-9\s+\-_.,:#]{1,64}$/;
const OIDC_SCOPES = new Set(['openid', 'offline_access', 'profile', 'email']);

function createCiba({ issuer }) {
  const requests = new Map(); // auth_req_id -> entry
  let provider;

  const prune = () => {
    const now = Date.now();
    for (const [id, entry] of requests) if (entry.expiresAt + CIBA_KEEP_MS <= now) requests.delete(id);
  };
  const isPending = (entry) => entry?.state === 'pending' && entry.expiresAt > Date.now();
  const loginHintFormat = 'login_hint must be a JSON object {"format":"iss_sub","iss":"<issuer>","sub":"<user id>"}';

  async function decide(authReqId, result) {
    const entry = requests.get(authReqId);
    if (!isPending(entry)) return false;
    const request = await provider.BackchannelAuthenticationRequest.find(authReqId);
    if (!request) return false;
    await provider.backchannelResult(request, await result(request), { authTime: Math.floor(Date.now() / 1000) });
    return true;
  }

  return {
    attach(p) {
      provider = p;
    },

    // features.ciba.processLoginHint: Auth0's iss_sub login_hint. Unknown users get
    // unknown_user_id from oidc-provider (no accountId / no account).
    async processLoginHint(ctx, loginHint) {
      let hint;
      try {
        hint = JSON.parse(loginHint);
      } catch {
        throw new errors.InvalidRequest(loginHintFormat);
      }
      if (hint === null || typeof hint !== 'object' || Array.isArray(hint) || hint.format !== 'iss_sub'
        || typeof hint.iss !== 'string' || typeof hint.sub !== 'string') {
        throw new errors.InvalidRequest(loginHintFormat);
      }
      if (hint.iss !== issuer) throw new errors.InvalidRequest(`login_hint iss must be ${issuer}`);
      return USERS_BY_SUB.has(hint.sub) ? hint.sub : undefined;
    },

    // features.ciba.validateBindingMessage: required, as at Auth0.
    async validateBindingMessage(ctx, bindingMessage) {
      if (bindingMessage === undefined || bindingMessage === '') throw new errors.InvalidRequest('binding_message is required');
      if (!BINDING_MESSAGE.test(bindingMessage)) {
        throw new errors.InvalidBindingMessage('binding_message must be 1 to 64 characters: letters, digits, whitespace and +-_.,:#');
      }
    },

    // features.ciba.triggerAuthenticationDevice: the request is saved and ctx.body is set.
    async triggerAuthenticationDevice(ctx, request, account) {
      prune();
      const authReqId = ctx.body.auth_req_id;
      requests.set(authReqId, {
        authReqId,
        sub: account.accountId,
        bindingMessage: ctx.oidc.params.binding_message,
        scope: request.scope,
        // the exp oidc-provider gave the request (epoch seconds)
        expiresAt: (Math.floor(Date.now() / 1000) + request.expiration) * 1000,
        state: 'pending', // -> approved / denied -> done
        interval: CIBA_INTERVAL,
        lastPoll: null,
        authorizationDetails: ctx.state[CIBA_AUTHORIZATION_DETAILS],
      });
      log(`ciba: ${authReqId} for ${account.accountId} (${ctx.oidc.params.binding_message}), expires in ${request.expiration} s`);
    },

    get: (authReqId) => (typeof authReqId === 'string' ? requests.get(authReqId) : undefined),

    pending() {
      return [...requests.values()].filter(isPending).map((entry) => ({
        auth_req_id: entry.authReqId,
        sub: entry.sub,
        binding_message: entry.bindingMessage,
        scope: entry.scope,
      }));
    },

    // Like the user approving on their device: a grant with the requested OpenID scopes and (as
    // every login here) all scopes of all APIs.
    async approve(authReqId) {
      const done = await decide(authReqId, async (request) => {
        const grant = new provider.Grant({ accountId: request.accountId, clientId: request.clientId });
        const oidcScopes = [...request.scopes].filter((scope) => OIDC_SCOPES.has(scope));
        if (oidcScopes.length) grant.addOIDCScope(oidcScopes.join(' '));
        for (const [identifier, api] of APIS) grant.addResourceScope(identifier, api.scope);
        await grant.save();
        return grant;
      });
      if (done) requests.get(authReqId).state = 'approved';
      return done;
    },

    async deny(authReqId) {
      const done = await decide(authReqId, async () => new errors.AccessDenied('the user denied the request'));
      if (done) requests.get(authReqId).state = 'denied';
      return done;
    },
  };
}

// Auth0 "token exchange for federated connections" (Token Vault): a refresh token or access
// token of this provider buys an access token of an upstream identity provider.
const FEDERATED_GRANT_TYPE = 'urn:auth0:params:oauth:grant-type:token-exchange:federated-connection-access-token';
const FEDERATED_TOKEN_TYPE = 'http://auth0.com/oauth/token-type/federated-connection-access-token';
const SUBJECT_TOKEN_TYPES = new Set([
  'urn:ietf:params:oauth:token-type:refresh_token',
  'urn:ietf:params:oauth:token-type:access_token',
]);
const CONNECTIONS = new Map([
  ['google-oauth2', { scope: 'https://www.googleapis.com/auth/calendar.readonly' }],
  ['github', { scope: 'read:user repo' }],
]);

const secretsEqual = (a, b) => {
  const x = Buffer.from(String(a ?? ''));
  const y = Buffer.from(String(b ?? ''));
  return x.length === y.length && crypto.timingSafeEqual(x, y);
};

// ---------------------------------------------------------------------------------------------
// Protected resource servers (/api/orders, /api/analytics)
// ---------------------------------------------------------------------------------------------
const BEARER = /^Bearer[ ]+([A-Za-z0-9\-._~+/]+=*)[ ]*$/i;

function apiCors(ctx) {
  const origin = ctx.get('origin');
  if (!origin || !isLoopbackOrigin(origin)) return false;
  ctx.set('Access-Control-Allow-Origin', origin);
  ctx.vary('Origin');
  ctx.set('Access-Control-Expose-Headers', 'WWW-Authenticate');
  return true;
}

async function handleApi(ctx, api, { issuer, keySet, stats }) {
  ctx.set('Cache-Control', 'no-store');
  const corsAllowed = apiCors(ctx);
  if (ctx.method === 'OPTIONS') {
    if (corsAllowed) {
      ctx.set('Access-Control-Allow-Methods', 'GET, HEAD');
      ctx.set('Access-Control-Allow-Headers', 'Authorization');
      ctx.set('Access-Control-Max-Age', '600');
    }
    ctx.set('Allow', 'GET, HEAD, OPTIONS');
    ctx.status = 204;
    return;
  }

  stats.apiRequests[api.name] += 1;

  if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
    ctx.set('Allow', 'GET, HEAD, OPTIONS');
    ctx.status = 405;
    ctx.body = { error: 'method_not_allowed', error_description: `${ctx.method} is not allowed on ${api.path}` };
    return;
  }

  const deny = (status, challenge, error, description) => {
    ctx.status = status;
    ctx.set('WWW-Authenticate', challenge);
    ctx.body = { error, error_description: description };
  };
  const invalidToken = (description) => deny(401, 'Bearer error="invalid_token"', 'invalid_token', description);

  const header = ctx.get('authorization').trim();
  if (!/^Bearer(?:[ ]|$)/i.test(header) || /^Bearer$/i.test(header)) {
    deny(401, `Bearer realm="${api.name}"`, 'unauthorized', 'an Authorization: Bearer <access token> header is required');
    return;
  }
  const token = BEARER.exec(header)?.[1];
  if (!token) {
    invalidToken('malformed Authorization header');
    return;
  }

  let claimedAudience = null;
  try {
    claimedAudience = decodeJwt(token).aud ?? null;
  } catch {
    // not a JWT
  }
  stats.lastAudience[api.name] = claimedAudience;

  let payload;
  try {
    ({ payload } = await jwtVerify(token, keySet, {
      algorithms: ['RS256'],
      issuer,
      audience: api.audience,
      requiredClaims: ['exp', 'sub'],
    }));
  } catch (err) {
    invalidToken(err.code === 'ERR_JWT_EXPIRED' ? 'the access token expired' : `the access token is not valid: ${err.message}`);
    return;
  }
  if (payload.cnf?.jkt) {
    invalidToken('a DPoP-bound access token cannot be used as a bearer token');
    return;
  }

  const scopes = typeof payload.scope === 'string' ? splitScope(payload.scope) : new Set();
  if (!scopes.has(api.scope)) {
    deny(403, `Bearer error="insufficient_scope", scope="${api.scope}"`, 'insufficient_scope', `the access token needs the scope ${api.scope}`);
    return;
  }

  ctx.status = 200;
  ctx.body = api.body(payload, api.audience);
}

// ---------------------------------------------------------------------------------------------
// DPoP-protected resource server (/api/dpop/orders), RFC 9449 sections 4.3, 7 and 9
// ---------------------------------------------------------------------------------------------
const DPOP_API_ALGS = ['ES256', 'RS256', 'PS256', 'EdDSA'];
const DPOP_IAT_WINDOW = 60; // seconds, either way
const DPOP_API_NONCE_TTL = 300; // seconds
const DPOP_API_MAX_ENTRIES = 10000;
const DPOP_AUTHORIZATION = /^DPoP[ ]+([A-Za-z0-9\-._~+/]+=*)[ ]*$/i;
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

const randomNonce = () => crypto.randomBytes(18).toString('base64url');
const sha256Base64url = (value) => crypto.createHash('sha256').update(value).digest('base64url');

// The resource server's own nonces and its jti replay cache (both in memory).
function createDpopApiState() {
  const nonces = new Map(); // nonce -> expiry (epoch ms)
  const jtis = new Map(); // jti -> expiry (epoch ms)
  const prune = (map, now) => {
    for (const [key, expiry] of map) if (expiry <= now) map.delete(key);
    // Map iteration order is insertion order: drop the oldest entries beyond the cap.
    for (const key of map.keys()) {
      if (map.size <= DPOP_API_MAX_ENTRIES) break;
      map.delete(key);
    }
  };
  return {
    // A new nonce, valid for DPOP_API_NONCE_TTL seconds, any number of times.
    issueNonce() {
      const now = Date.now();
      prune(nonces, now);
      const nonce = randomNonce();
      nonces.set(nonce, now + DPOP_API_NONCE_TTL * 1000);
      return nonce;
    },
    nonceValid(nonce) {
      const expiry = nonces.get(nonce);
      return expiry !== undefined && expiry > Date.now();
    },
    // false when the jti was seen before. A proof is accepted while |now - iat| <= 60 s, so a jti
    // is remembered for longer than any proof carrying it can be accepted.
    firstUseOfJti(jti) {
      const now = Date.now();
      prune(jtis, now);
      if (jtis.has(jti)) return false;
      jtis.set(jti, now + (2 * DPOP_IAT_WINDOW + 5) * 1000);
      return true;
    },
  };
}

// Text that can go into a quoted-string of WWW-Authenticate as is (printable ASCII without quotes
// and backslashes), so that the header and the JSON body carry the same description.
const challengeSafe = (value) => String(value).replace(/[\\"]/g, "'").replace(/[^\x20-\x7e]/g, '?');

// `<scheme> k1="v1", k2="v2"`
function authChallenge(scheme, fields) {
  const quoted = Object.entries(fields)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key}="${challengeSafe(value)}"`);
  return `${scheme} ${quoted.join(', ')}`;
}

// `DPoP k1="v1", k2="v2"`
const dpopChallenge = (fields) => authChallenge('DPoP', fields);

const clip = (value, max = 120) => {
  const text = String(value);
  return text.length > max ? `${text.slice(0, max)}...` : text;
};

// What checkDpopRequest resolves with when a check fails.
const dpopFailure = (status, error, description, extra) => ({
  failure: {
    status, error, description, extra, useNonce: false,
  },
});
const nonceFailure = (description) => ({
  failure: {
    status: 401, error: 'use_dpop_nonce', description, useNonce: true,
  },
});

// The checks of a request that carries `Authorization: DPoP <accessToken>` (RFC 9449 sections
// 4.3, 7 and 9), shared by the DPoP-protected resource servers (/api/dpop/orders, /me/v1): the
// proof (`proofs` = the DPoP header lines), the access token (an RS256 JWT of this provider for
// `audience`) and its binding, the `scope` it needs, then the resource server's own nonce
// (`state`) and jti replay. Resolves { claims, jkt }, or for the first check that fails
// { failure: { status, error, description, extra, useNonce } } (useNonce: the answer needs a
// new DPoP-Nonce of `state`; extra: more WWW-Authenticate parameters).
async function checkDpopRequest(ctx, {
  issuer, keySet, state, audience, scope, accessToken, proofs,
}) {
  // ---- the proof on its own ------------------------------------------------------------
  if (!proofs.length || !proofs[0].trim()) {
    return dpopFailure(401, 'invalid_dpop_proof', 'DPoP proof missing (no DPoP header)');
  }
  if (proofs.length > 1) {
    return dpopFailure(401, 'invalid_dpop_proof', 'more than one DPoP header');
  }
  const proof = proofs[0].trim();
  let header;
  try {
    if (proof.split('.').length !== 3) throw new TypeError('not a compact JWS');
    header = decodeProtectedHeader(proof);
  } catch {
    return dpopFailure(401, 'invalid_dpop_proof', 'DPoP proof is not a JWT (compact JWS)');
  }
  if (header.typ !== 'dpop+jwt') {
    return dpopFailure(401, 'invalid_dpop_proof', `typ must be dpop+jwt (got ${clip(header.typ ?? 'none', 40)})`);
  }
  if (!DPOP_API_ALGS.includes(header.alg)) {
    return dpopFailure(401, 'invalid_dpop_proof', `alg ${clip(header.alg ?? 'none', 20)} not allowed (allowed: ${DPOP_API_ALGS.join(', ')})`);
  }
  if (header.jwk === null || typeof header.jwk !== 'object' || Array.isArray(header.jwk)) {
    return dpopFailure(401, 'invalid_dpop_proof', 'jwk header missing (the public key of the proof)');
  }
  const privateMembers = PRIVATE_JWK_MEMBERS.filter((member) => member in header.jwk);
  if (privateMembers.length) {
    return dpopFailure(401, 'invalid_dpop_proof', `jwk must be a public key (it has the private member(s) ${privateMembers.join(', ')})`);
  }
  let proofClaims;
  try {
    ({ payload: proofClaims } = await jwtVerify(proof, EmbeddedJWK, { algorithms: DPOP_API_ALGS, typ: 'dpop+jwt' }));
  } catch (err) {
    return dpopFailure(401, 'invalid_dpop_proof', err.code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED'
      ? 'signature invalid (does not verify with the jwk of the proof)'
      : `proof invalid: ${clip(err.message)}`);
  }
  for (const claim of ['jti', 'htm', 'htu']) {
    if (typeof proofClaims[claim] !== 'string' || !proofClaims[claim]) {
      return dpopFailure(401, 'invalid_dpop_proof', `${claim} missing (must be a non-empty string)`);
    }
  }
  if (typeof proofClaims.iat !== 'number') {
    return dpopFailure(401, 'invalid_dpop_proof', 'iat missing (must be a number)');
  }
  if (proofClaims.htm !== ctx.method) {
    return dpopFailure(401, 'invalid_dpop_proof', `htm mismatch (expected ${ctx.method}, got ${clip(proofClaims.htm, 20)})`);
  }
  // The target URI as this server sees it: scheme, Host header (host and port), path.
  const expectedHtu = new URL(`${ctx.protocol}://${ctx.host || new URL(issuer).host}${ctx.path}`).href;
  let htu;
  try {
    htu = new URL(proofClaims.htu);
  } catch {
    htu = undefined;
  }
  if (!htu || /[?#]/.test(proofClaims.htu) || htu.href !== expectedHtu) {
    return dpopFailure(401, 'invalid_dpop_proof', `htu mismatch (expected ${expectedHtu}, without query or fragment; got ${clip(proofClaims.htu)})`);
  }
  const now = Math.floor(Date.now() / 1000);
  if (Math.abs(now - proofClaims.iat) > DPOP_IAT_WINDOW) {
    return dpopFailure(401, 'invalid_dpop_proof', `iat out of window (must be within ${DPOP_IAT_WINDOW} s of the server time ${now}, got ${proofClaims.iat})`);
  }
  if (proofClaims.ath === undefined) {
    return dpopFailure(401, 'invalid_dpop_proof', 'ath missing (must be base64url(SHA-256(access token)))');
  }
  if (proofClaims.ath !== sha256Base64url(accessToken)) {
    return dpopFailure(401, 'invalid_dpop_proof', 'ath mismatch (must be base64url(SHA-256(access token)))');
  }

  // ---- the access token and its binding --------------------------------------------------
  let claims;
  try {
    ({ payload: claims } = await jwtVerify(accessToken, keySet, {
      algorithms: ['RS256'],
      issuer,
      audience,
      requiredClaims: ['exp', 'sub'],
    }));
  } catch (err) {
    return dpopFailure(401, 'invalid_token', err.code === 'ERR_JWT_EXPIRED' ? 'access token expired' : `access token invalid: ${clip(err.message)}`);
  }
  if (typeof claims.cnf?.jkt !== 'string') {
    return dpopFailure(401, 'invalid_token', 'access token is not DPoP-bound (no cnf.jkt)');
  }
  const jkt = await calculateJwkThumbprint(header.jwk, 'sha256');
  if (claims.cnf.jkt !== jkt) {
    return dpopFailure(401, 'invalid_token', 'cnf.jkt mismatch (the DPoP proof key is not the key the access token is bound to)');
  }
  const scopes = typeof claims.scope === 'string' ? splitScope(claims.scope) : new Set();
  if (!scopes.has(scope)) {
    return dpopFailure(403, 'insufficient_scope', `insufficient scope (the access token needs the scope ${scope})`, { scope });
  }

  // ---- the server-provided nonce, then replay -------------------------------------------
  if (proofClaims.nonce === undefined) {
    return nonceFailure('nonce required (retry with a proof that carries the DPoP-Nonce of this response)');
  }
  if (typeof proofClaims.nonce !== 'string' || !state.nonceValid(proofClaims.nonce)) {
    return nonceFailure('nonce invalid or expired (retry with the DPoP-Nonce of this response)');
  }
  if (!state.firstUseOfJti(proofClaims.jti)) {
    return dpopFailure(401, 'invalid_dpop_proof', 'jti replay (a proof with this jti was already used)');
  }

  return { claims, jkt };
}

async function handleDpopApi(ctx, api, {
  issuer, keySet, stats, state, faults, testControls,
}) {
  ctx.set('Cache-Control', 'no-store');
  const corsAllowed = apiCors(ctx);
  if (corsAllowed) ctx.set('Access-Control-Expose-Headers', 'WWW-Authenticate, DPoP-Nonce');
  if (ctx.method === 'OPTIONS') {
    if (corsAllowed) {
      ctx.set('Access-Control-Allow-Methods', 'GET, HEAD');
      ctx.set('Access-Control-Allow-Headers', 'Authorization, DPoP');
      ctx.set('Access-Control-Max-Age', '600');
    }
    ctx.set('Allow', 'GET, HEAD, OPTIONS');
    ctx.status = 204;
    return;
  }

  stats.dpopApiRequests[api.name] += 1;
  const proofs = ctx.req.headersDistinct.dpop ?? [];
  if (proofs.length) stats.dpopProofs.api += 1;

  const record = (status, error, description) => {
    stats.dpopApiLastError[api.name] = { status, error, error_description: description };
  };
  const fail = (status, error, text, extra) => {
    const description = challengeSafe(text);
    ctx.status = status;
    ctx.set('WWW-Authenticate', dpopChallenge({ error, error_description: description, ...extra }));
    ctx.body = { error, error_description: description };
    record(status, error, description);
  };
  const useNonce = (description) => {
    ctx.set('DPoP-Nonce', state.issueNonce());
    stats.useDpopNonceResponses += 1;
    fail(401, 'use_dpop_nonce', description);
  };
  const invalidToken = (description) => fail(401, 'invalid_token', description);

  if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
    const description = `${ctx.method} is not allowed on ${api.path}`;
    ctx.set('Allow', 'GET, HEAD, OPTIONS');
    ctx.status = 405;
    ctx.body = { error: 'method_not_allowed', error_description: description };
    record(405, 'method_not_allowed', description);
    return;
  }

  if (testControls && faults.alwaysUseDpopNonce) {
    useNonce('nonce invalid or expired (alwaysUseDpopNonce fault: every request gets a new nonce)');
    return;
  }

  // ---- Authorization: DPoP <access token> ------------------------------------------------
  const authorization = ctx.get('authorization').trim();
  if (!authorization) {
    const description = 'an Authorization: DPoP <access token> header and a DPoP proof are required';
    ctx.status = 401;
    ctx.set('WWW-Authenticate', dpopChallenge({ realm: api.name, algs: DPOP_API_ALGS.join(' ') }));
    ctx.body = { error: 'unauthorized', error_description: description };
    record(401, 'unauthorized', description);
    return;
  }
  const scheme = authorization.split(/[ ]+/)[0];
  if (scheme.toLowerCase() !== 'dpop') {
    invalidToken(`Authorization scheme must be DPoP, not ${clip(scheme, 20)}`);
    return;
  }
  const accessToken = DPOP_AUTHORIZATION.exec(authorization)?.[1];
  if (!accessToken) {
    invalidToken('malformed Authorization header (expected DPoP <access token>)');
    return;
  }

  const result = await checkDpopRequest(ctx, {
    issuer, keySet, state, audience: api.audience, scope: api.scope, accessToken, proofs,
  });
  if (result.failure) {
    const { failure } = result;
    if (failure.useNonce) useNonce(failure.description);
    else fail(failure.status, failure.error, failure.description, failure.extra);
    return;
  }

  ctx.status = 200;
  ctx.body = api.body(result.claims, result.jkt);
}

// ---------------------------------------------------------------------------------------------
// Auth0 My Account API: connected accounts (/me/v1/connected-accounts/*), always on. Audience
// `<issuer>me/` (an API of APIS, added at start-up once the issuer is known), so its access
// tokens come from a refresh with audience=<issuer>me/ like those of the other APIs. Bearer
// tokens, or DPoP-bound tokens with `Authorization: DPoP` + proof + this API's own nonce.
// `GET /connect/authorize` plays the upstream identity provider's consent page.
// ---------------------------------------------------------------------------------------------
const MY_ACCOUNT_PATH = 'me/';
const MY_ACCOUNT_SCOPES = {
  create: 'create:me:connected_accounts',
  read: 'read:me:connected_accounts',
  delete: 'delete:me:connected_accounts',
};
const MY_ACCOUNT_REALM = 'my-account';
const CONNECT_TTL = 300; // seconds: ticket, auth_session and connect_code of one connect
const CONNECT_KEEP_MS = 10 * 60 * 1000; // how long an expired connect is remembered
const CONNECTED_ACCOUNT_TTL = 3600; // seconds, expires_at - created_at
const CONNECTED_ACCOUNTS_PAGE_SIZE = 2;
const MAX_CURSORS = 10000;
const CODE_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;
const PROBLEM_TYPE = 'urn:local-idp:problem:';
const PROBLEM_TITLES = {
  400: 'Invalid request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
};

const isPlainObject = (value) => value !== null && typeof value === 'object' && !Array.isArray(value);
const randomId = (bytes = 24) => crypto.randomBytes(bytes).toString('base64url');
const connectionScopes = (name) => [...splitScope(CONNECTIONS.get(name)?.scope)];

function myAccountRoute(path) {
  const base = '/me/v1/connected-accounts';
  if (path === `${base}/connect`) return { name: 'connect', methods: ['POST'], scope: MY_ACCOUNT_SCOPES.create };
  if (path === `${base}/complete`) return { name: 'complete', methods: ['POST'], scope: MY_ACCOUNT_SCOPES.create };
  if (path === `${base}/accounts`) return { name: 'list', methods: ['GET'], scope: MY_ACCOUNT_SCOPES.read };
  const match = /^\/me\/v1\/connected-accounts\/accounts\/([^/]+)$/.exec(path);
  if (!match) return undefined;
  let id = match[1];
  try {
    id = decodeURIComponent(id);
  } catch {
    // keep it as sent
  }
  return {
    name: 'delete', methods: ['DELETE'], scope: MY_ACCOUNT_SCOPES.delete, id,
  };
}

// Auth0's My Account error body (RFC 7807 problem details):
// {"type","title","detail","status"} + "validation_errors":[{"detail","field"}] when given.
function sendProblem(ctx, status, code, detail, { title, validationErrors } = {}) {
  const body = {
    type: `${PROBLEM_TYPE}${code}`,
    title: title ?? PROBLEM_TITLES[status] ?? http.STATUS_CODES[status] ?? 'Error',
    detail,
    status,
  };
  if (validationErrors) body.validation_errors = validationErrors;
  ctx.status = status;
  ctx.body = JSON.stringify(body);
  ctx.type = 'application/problem+json';
}

const invalidRequest = (ctx, detail, validationErrors) => sendProblem(ctx, 400, 'invalid_request', detail, { validationErrors });

// Pending connects, connected accounts and list cursors, in memory.
function createConnectedAccounts() {
  const connects = new Map(); // auth_session -> entry
  const tickets = new Map(); // ticket -> auth_session
  let accounts = []; // { seq, sub, account }, in creation order
  const cursors = new Map(); // cursor -> { sub, connection, afterSeq }
  const repeatCursors = new Map(); // `${sub}\n${connection}` -> cursor (connectedAccountsRepeatNext)
  let seq = 0;

  const prune = () => {
    const now = Date.now();
    for (const [authSession, entry] of connects) {
      if (entry.expiresAt + CONNECT_KEEP_MS <= now) {
        connects.delete(authSession);
        tickets.delete(entry.ticket);
      }
    }
  };
  const newCursor = (value) => {
    const cursor = randomId(18);
    cursors.set(cursor, value);
    for (const key of cursors.keys()) {
      if (cursors.size <= MAX_CURSORS) break;
      cursors.delete(key);
    }
    return cursor;
  };

  function add(sub, connection, scopes) {
    const created = new Date();
    const account = {
      id: `cac_${randomId(12)}`,
      connection,
      access_type: 'offline',
      scopes: [...scopes],
      created_at: created.toISOString(),
      expires_at: new Date(created.getTime() + CONNECTED_ACCOUNT_TTL * 1000).toISOString(),
    };
    seq += 1;
    accounts.push({ seq, sub, account });
    return structuredClone(account);
  }

  return {
    add,

    // POST /connect: remembers the request; the ticket goes to GET /connect/authorize.
    start(request) {
      prune();
      const entry = {
        ...request,
        ticket: randomId(),
        authSession: randomId(),
        expiresAt: Date.now() + CONNECT_TTL * 1000,
        phase: 'started', // -> code_issued / denied (ticket used) -> done (code used)
        connectCode: null,
      };
      connects.set(entry.authSession, entry);
      tickets.set(entry.ticket, entry.authSession);
      return entry;
    },

    // GET /connect/authorize: { entry } with a new connect_code (or denied), or { problem }.
    useTicket(ticket, { deny }) {
      const entry = typeof ticket === 'string' ? connects.get(tickets.get(ticket)) : undefined;
      if (!entry) return { problem: 'unknown ticket' };
      if (entry.expiresAt <= Date.now()) return { problem: 'the ticket expired' };
      if (entry.phase !== 'started') return { problem: 'the ticket was already used' };
      if (deny) {
        entry.phase = 'denied';
      } else {
        entry.phase = 'code_issued';
        entry.connectCode = randomId();
      }
      return { entry };
    },

    // POST /complete: { account } or { field, detail } (the first check that failed).
    complete(sub, {
      auth_session: authSession, connect_code: connectCode, redirect_uri: redirectUri, code_verifier: codeVerifier,
    }) {
      const entry = connects.get(authSession);
      if (!entry) return { field: 'auth_session', detail: 'auth_session is unknown' };
      if (entry.expiresAt <= Date.now()) return { field: 'auth_session', detail: 'auth_session expired' };
      if (entry.sub !== sub) return { field: 'auth_session', detail: 'auth_session was started by another user (the sub of the access token differs)' };
      if (entry.phase === 'started') return { field: 'connect_code', detail: 'no connect_code was issued for this auth_session yet (the connect_uri was not visited)' };
      if (entry.phase === 'denied') return { field: 'connect_code', detail: 'no connect_code was issued for this auth_session (the user denied the connection)' };
      if (entry.phase === 'done') return { field: 'connect_code', detail: 'connect_code was already used' };
      if (!secretsEqual(connectCode, entry.connectCode)) return { field: 'connect_code', detail: 'connect_code does not match the auth_session' };
      // From here on the code is spent, whatever the remaining checks say.
      entry.phase = 'done';
      if (redirectUri !== entry.redirectUri) return { field: 'redirect_uri', detail: 'redirect_uri does not match the redirect_uri of the connect request' };
      if (sha256Base64url(codeVerifier) !== entry.codeChallenge) return { field: 'code_verifier', detail: 'code_verifier does not match the code_challenge (base64url(SHA-256(code_verifier)))' };
      const scopes = entry.scopes?.length ? entry.scopes : connectionScopes(entry.connection);
      return { account: add(sub, entry.connection, scopes) };
    },

    // GET /accounts: { accounts, next } or { problem } (for the cursor).
    list(sub, {
      cursor, connection, pageSize, repeatNext,
    }) {
      let after = 0;
      let filter = connection;
      if (cursor !== undefined) {
        const position = cursors.get(cursor);
        if (!position || position.sub !== sub) return { problem: 'next is not a cursor of this list (unknown cursor)' };
        if (filter !== undefined && filter !== position.connection) return { problem: 'next is a cursor of a list with another connection filter' };
        after = position.afterSeq;
        filter = position.connection;
      }
      const all = accounts.filter((a) => a.sub === sub && a.seq > after && (filter === undefined || a.account.connection === filter));
      const page = all.slice(0, pageSize);
      const last = page.length ? page.at(-1).seq : after;
      let next;
      if (repeatNext) {
        const key = `${sub}\n${filter ?? ''}`;
        next = repeatCursors.get(key);
        if (!next || !cursors.has(next)) {
          next = newCursor({ sub, connection: filter, afterSeq: last });
          repeatCursors.set(key, next);
        }
      } else if (all.length > page.length) {
        next = newCursor({ sub, connection: filter, afterSeq: last });
      }
      return { accounts: page.map((a) => structuredClone(a.account)), next };
    },

    remove(sub, id) {
      const index = accounts.findIndex((a) => a.sub === sub && a.account.id === id);
      if (index < 0) return false;
      accounts.splice(index, 1);
      return true;
    },

    clear() {
      connects.clear();
      tickets.clear();
      accounts = [];
      cursors.clear();
      repeatCursors.clear();
    },
  };
}

// Problems of a POST /connect body, as validation_errors.
function connectRequestProblems(body) {
  const problems = [];
  const add = (field, detail) => problems.push({ detail, field });
  if (typeof body.connection !== 'string' || !body.connection) {
    add('connection', 'connection is required (a non-empty string)');
  } else if (!CONNECTIONS.has(body.connection)) {
    add('connection', `connection ${clip(body.connection, 64)} is not enabled for this client (known: ${[...CONNECTIONS.keys()].join(', ')})`);
  }
  if (typeof body.redirect_uri !== 'string' || !body.redirect_uri) {
    add('redirect_uri', 'redirect_uri is required (a non-empty string)');
  } else if (!isLoopbackUrl(body.redirect_uri)) {
    add('redirect_uri', 'redirect_uri must be a loopback http(s) URL (127.0.0.1, localhost or [::1]) without fragment or user info');
  }
  if (typeof body.state !== 'string' || !body.state) add('state', 'state is required (a non-empty string)');
  if (typeof body.code_challenge !== 'string' || !CODE_CHALLENGE.test(body.code_challenge)) {
    add('code_challenge', 'code_challenge is required: 43 base64url characters (base64url(SHA-256(code_verifier)))');
  }
  if (body.code_challenge_method !== 'S256') add('code_challenge_method', 'code_challenge_method must be S256');
  if (body.scopes !== undefined && body.scopes !== null
    && !(Array.isArray(body.scopes) && body.scopes.every((s) => typeof s === 'string' && s))) {
    add('scopes', 'scopes must be an array of non-empty strings');
  }
  if (body.authorization_params !== undefined && body.authorization_params !== null
    && !(isPlainObject(body.authorization_params) && Object.values(body.authorization_params).every((v) => typeof v === 'string'))) {
    add('authorization_params', 'authorization_params must be an object of string values');
  }
  return problems;
}

async function handleMyAccount(ctx, {
  issuer, keySet, state, stats, faults, testControls, store, audience,
}) {
  ctx.set('Cache-Control', 'no-store');
  const corsAllowed = apiCors(ctx);
  if (corsAllowed) ctx.set('Access-Control-Expose-Headers', 'WWW-Authenticate, DPoP-Nonce');
  const route = myAccountRoute(ctx.path);
  if (ctx.method === 'OPTIONS') {
    if (corsAllowed && route) {
      ctx.set('Access-Control-Allow-Methods', route.methods.join(', '));
      ctx.set('Access-Control-Allow-Headers', 'Authorization, DPoP, Content-Type');
      ctx.set('Access-Control-Max-Age', '600');
    }
    if (route) ctx.set('Allow', [...route.methods, 'OPTIONS'].join(', '));
    ctx.status = route ? 204 : 404;
    return;
  }
  if (!route) {
    sendProblem(ctx, 404, 'not_found', `no such My Account API endpoint: ${ctx.method} ${clip(ctx.path)}`);
    return;
  }
  stats.myAccountRequests[route.name] += 1;
  if (!route.methods.includes(ctx.method)) {
    ctx.set('Allow', [...route.methods, 'OPTIONS'].join(', '));
    sendProblem(ctx, 405, 'method_not_allowed', `${ctx.method} is not allowed on ${ctx.path}`);
    return;
  }
  // The POST bodies are read first, so that every connect request is recorded.
  let body;
  if (ctx.method === 'POST') {
    const raw = await readRawBody(ctx);
    try {
      body = raw.trim() ? JSON.parse(raw) : undefined;
    } catch {
      body = undefined;
    }
    if (route.name === 'connect') stats.lastConnectRequest = body ?? null;
  }

  // ---- authentication ------------------------------------------------------------------
  const authorization = ctx.get('authorization').trim();
  const scheme = authorization.split(/[ ]+/)[0].toLowerCase();
  stats.lastMyAccountAuthScheme = { bearer: 'Bearer', dpop: 'DPoP' }[scheme] ?? null;
  const deny = (status, code, challenge, description) => {
    ctx.set('WWW-Authenticate', challenge);
    sendProblem(ctx, status, code, description);
  };
  let claims;
  if (scheme === 'dpop') {
    const useNonce = (description) => {
      ctx.set('DPoP-Nonce', state.issueNonce());
      stats.useDpopNonceResponses += 1;
      deny(401, 'use_dpop_nonce', dpopChallenge({ error: 'use_dpop_nonce', error_description: challengeSafe(description) }), challengeSafe(description));
    };
    if (testControls && faults.alwaysUseDpopNonce) {
      useNonce('nonce invalid or expired (alwaysUseDpopNonce fault: every request gets a new nonce)');
      return;
    }
    const accessToken = DPOP_AUTHORIZATION.exec(authorization)?.[1];
    if (!accessToken) {
      const description = 'malformed Authorization header (expected DPoP <access token>)';
      deny(401, 'invalid_token', dpopChallenge({ error: 'invalid_token', error_description: description }), description);
      return;
    }
    const result = await checkDpopRequest(ctx, {
      issuer, keySet, state, audience, scope: route.scope, accessToken, proofs: ctx.req.headersDistinct.dpop ?? [],
    });
    if (result.failure) {
      const { failure } = result;
      if (failure.useNonce) {
        useNonce(failure.description);
      } else {
        const description = challengeSafe(failure.description);
        deny(failure.status, failure.error, dpopChallenge({ error: failure.error, error_description: description, ...failure.extra }), description);
      }
      return;
    }
    ({ claims } = result);
  } else {
    const token = scheme === 'bearer' ? BEARER.exec(authorization)?.[1] : undefined;
    const bearerChallenge = (fields) => authChallenge('Bearer', fields);
    if (!token && (scheme !== 'bearer' || /^Bearer$/i.test(authorization))) {
      deny(401, 'unauthorized', `${bearerChallenge({ realm: MY_ACCOUNT_REALM })}, ${dpopChallenge({ realm: MY_ACCOUNT_REALM, algs: DPOP_API_ALGS.join(' ') })}`,
        'an Authorization: Bearer <access token> header (or DPoP <access token> with a DPoP proof) is required');
      return;
    }
    const invalidToken = (description) => deny(401, 'invalid_token', bearerChallenge({ error: 'invalid_token', error_description: description }), description);
    if (!token) {
      invalidToken('malformed Authorization header (expected Bearer <access token>)');
      return;
    }
    try {
      ({ payload: claims } = await jwtVerify(token, keySet, {
        algorithms: ['RS256'], issuer, audience, requiredClaims: ['exp', 'sub'],
      }));
    } catch (err) {
      invalidToken(challengeSafe(err.code === 'ERR_JWT_EXPIRED' ? 'access token expired' : `access token invalid: ${clip(err.message)}`));
      return;
    }
    if (claims.cnf?.jkt) {
      invalidToken('a DPoP-bound access token cannot be used as a bearer token (use Authorization: DPoP with a DPoP proof)');
      return;
    }
    const scopes = typeof claims.scope === 'string' ? splitScope(claims.scope) : new Set();
    if (!scopes.has(route.scope)) {
      const description = `insufficient scope (the access token needs the scope ${route.scope})`;
      deny(403, 'insufficient_scope', bearerChallenge({ error: 'insufficient_scope', error_description: description, scope: route.scope }), description);
      return;
    }
  }
  const { sub } = claims;

  // ---- the endpoints ---------------------------------------------------------------------
  const injected = (name) => {
    const status = testControls ? faults[name] : null;
    if (!status) return false;
    faults[name] = null;
    sendProblem(ctx, status, 'injected_fault', `injected ${name} fault`);
    return true;
  };

  if (route.name === 'connect') {
    if (injected('connectError')) return;
    if (!isPlainObject(body)) {
      invalidRequest(ctx, 'the body must be a JSON object', [{ detail: 'the body must be a JSON object', field: 'body' }]);
      return;
    }
    const problems = connectRequestProblems(body);
    if (problems.length) {
      invalidRequest(ctx, problems.map((p) => p.detail).join('; '), problems);
      return;
    }
    const entry = store.start({
      sub,
      connection: body.connection,
      redirectUri: body.redirect_uri,
      state: body.state,
      codeChallenge: body.code_challenge,
      scopes: body.scopes ?? null,
      authorizationParams: body.authorization_params ?? null,
    });
    log(`my account: connect ${body.connection} for ${sub}, auth_session ${entry.authSession}`);
    ctx.status = 201;
    ctx.body = {
      connect_uri: `${issuer}connect/authorize`,
      connect_params: { ticket: entry.ticket },
      auth_session: entry.authSession,
      expires_in: CONNECT_TTL,
    };
    return;
  }

  if (route.name === 'complete') {
    if (injected('completeError')) return;
    if (!isPlainObject(body)) {
      invalidRequest(ctx, 'the body must be a JSON object', [{ detail: 'the body must be a JSON object', field: 'body' }]);
      return;
    }
    const problems = ['auth_session', 'connect_code', 'redirect_uri', 'code_verifier']
      .filter((field) => typeof body[field] !== 'string' || !body[field])
      .map((field) => ({ detail: `${field} is required (a non-empty string)`, field }));
    if (problems.length) {
      invalidRequest(ctx, problems.map((p) => p.detail).join('; '), problems);
      return;
    }
    const result = store.complete(sub, body);
    if (!result.account) {
      log(`my account: complete for ${sub} refused: ${result.detail}`);
      invalidRequest(ctx, result.detail, [{ detail: result.detail, field: result.field }]);
      return;
    }
    log(`my account: connected ${result.account.connection} for ${sub} (${result.account.id})`);
    ctx.status = 201;
    ctx.body = result.account;
    return;
  }

  if (route.name === 'list') {
    const problems = [];
    for (const name of ['next', 'connection']) {
      if (Array.isArray(ctx.query[name])) problems.push({ detail: `${name} must be given at most once`, field: name });
    }
    if (problems.length) {
      invalidRequest(ctx, problems.map((p) => p.detail).join('; '), problems);
      return;
    }
    const result = store.list(sub, {
      cursor: ctx.query.next || undefined,
      connection: ctx.query.connection || undefined,
      pageSize: (testControls && faults.connectedAccountsPageSize) || CONNECTED_ACCOUNTS_PAGE_SIZE,
      repeatNext: testControls && faults.connectedAccountsRepeatNext,
    });
    if (result.problem) {
      invalidRequest(ctx, result.problem, [{ detail: result.problem, field: 'next' }]);
      return;
    }
    ctx.status = 200;
    ctx.body = result.next === undefined ? { accounts: result.accounts } : { accounts: result.accounts, next: result.next };
    return;
  }

  // delete
  if (injected('disconnectError')) return;
  if (!store.remove(sub, route.id)) {
    sendProblem(ctx, 404, 'not_found', `the user has no connected account ${clip(route.id, 64)}`);
    return;
  }
  log(`my account: deleted connected account ${route.id} of ${sub}`);
  ctx.status = 204;
}

// GET /connect/authorize?ticket=…: the upstream provider's consent page. No login; approves at
// once (or denies, connectDeny fault) and redirects to the redirect_uri of the connect request.
function handleConnectAuthorize(ctx, { store, faults, testControls }) {
  ctx.set('Cache-Control', 'no-store');
  const { ticket } = ctx.query;
  const deny = testControls && faults.connectDeny === true;
  const result = store.useTicket(typeof ticket === 'string' ? ticket : undefined, { deny });
  if (!result.entry) {
    ctx.status = 400;
    ctx.type = 'text/plain';
    ctx.body = `Invalid connect request: ${ticket === undefined ? 'ticket is required' : result.problem}.`;
    return;
  }
  if (deny) faults.connectDeny = false;
  const { entry } = result;
  const params = deny
    ? new URLSearchParams({ error: 'access_denied', error_description: 'The user denied the connection', state: entry.state })
    : new URLSearchParams({ connect_code: entry.connectCode, state: entry.state });
  const uri = entry.redirectUri;
  const separator = uri.includes('?') ? (/[?&]$/.test(uri) ? '' : '&') : '?';
  log(`my account: ${deny ? 'denied' : 'approved'} the connection ${entry.connection} of ${entry.sub}`);
  ctx.status = 302;
  ctx.redirect(`${uri}${separator}${params}`);
}

// ---------------------------------------------------------------------------------------------
// Middleware that runs before oidc-provider's own routes
// ---------------------------------------------------------------------------------------------
const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

// ctx.state key under which the grant.error listener leaves the token endpoint's error.
const TOKEN_ERROR = Symbol('tokenError');

function validateFaults(body) {
  const problems = [];
  if ('accessTokenTtl' in body && body.accessTokenTtl !== null
    && !(Number.isInteger(body.accessTokenTtl) && body.accessTokenTtl > 0)) {
    problems.push('accessTokenTtl must be a positive integer (seconds) or null');
  }
  if ('refreshDelayMs' in body && body.refreshDelayMs !== null
    && !(Number.isInteger(body.refreshDelayMs) && body.refreshDelayMs >= 0 && body.refreshDelayMs <= 600000)) {
    problems.push('refreshDelayMs must be an integer from 0 to 600000 (milliseconds) or null');
  }
  for (const key of ['dpopNonce', 'dpopBound', 'alwaysUseDpopNonce']) {
    if (key in body && typeof body[key] !== 'boolean') problems.push(`${key} must be true or false`);
  }
  if ('cibaRetryAfter' in body && body.cibaRetryAfter !== null
    && !(Number.isInteger(body.cibaRetryAfter) && body.cibaRetryAfter > 0 && body.cibaRetryAfter <= 3600)) {
    problems.push('cibaRetryAfter must be an integer from 1 to 3600 (seconds) or null');
  }
  if ('connectionTokenError' in body && body.connectionTokenError !== null
    && !(typeof body.connectionTokenError === 'string' && body.connectionTokenError)) {
    problems.push('connectionTokenError must be a non-empty string (an OAuth error code) or null');
  }
  for (const key of ['connectError', 'completeError', 'disconnectError']) {
    if (key in body && body[key] !== null && !(Number.isInteger(body[key]) && body[key] >= 400 && body[key] <= 599)) {
      problems.push(`${key} must be an HTTP status from 400 to 599 or null`);
    }
  }
  for (const key of ['connectDeny', 'connectedAccountsRepeatNext']) {
    if (key in body && typeof body[key] !== 'boolean') problems.push(`${key} must be true or false`);
  }
  if ('connectedAccountsPageSize' in body && body.connectedAccountsPageSize !== null
    && !(Number.isInteger(body.connectedAccountsPageSize) && body.connectedAccountsPageSize > 0)) {
    problems.push('connectedAccountsPageSize must be a positive integer or null');
  }
  return problems;
}

function buildMiddleware({
  provider, options, keys, faults, stats, revokeGrantsOf, backchannel, ciba,
}) {
  const interactionRoute = /^\/interaction\/([A-Za-z0-9_-]+)$/;
  const loginRoute = /^\/interaction\/([A-Za-z0-9_-]+)\/login$/;
  const apiKeySet = createLocalJWKSet(keys.public);
  const dpopApiState = createDpopApiState();
  // The My Account API is a resource server of its own: its own nonces and jti cache.
  const myAccountDpopState = createDpopApiState();
  const connectedAccounts = createConnectedAccounts();

  // Answers like oidc-provider does when a DPoP nonce is needed, with a new random nonce (one
  // the token endpoint never accepts): the alwaysUseDpopNonce fault.
  function alwaysUseDpopNonce(ctx) {
    stats.useDpopNonceResponses += 1;
    ctx.status = 400;
    ctx.set('Cache-Control', 'no-store');
    ctx.set('Pragma', 'no-cache');
    ctx.set('DPoP-Nonce', randomNonce());
    const origin = ctx.get('origin');
    if (origin && isLoopbackOrigin(origin)) {
      ctx.set('Access-Control-Allow-Origin', origin);
      ctx.vary('Origin');
      ctx.set('Access-Control-Expose-Headers', 'DPoP-Nonce, WWW-Authenticate');
    }
    ctx.body = {
      error: 'use_dpop_nonce',
      error_description: 'invalid nonce in DPoP proof (alwaysUseDpopNonce fault: every token request gets a new nonce)',
    };
  }

  // Looks at oidc-provider's token endpoint error (TOKEN_ERROR, set by the grant.error listener):
  // counts use_dpop_nonce; reports a missing proof of a client that requires DPoP
  // (dpop_bound_access_tokens) as invalid_dpop_proof rather than oidc-provider's invalid_grant;
  // and shows the reason of DPoP-related invalid_grant errors, which oidc-provider replaces with
  // "grant request is invalid".
  function afterTokenEndpoint(ctx) {
    const err = ctx.state[TOKEN_ERROR];
    if (!err) return;
    if (err.error === 'use_dpop_nonce') stats.useDpopNonceResponses += 1;
    const body = ctx.body && typeof ctx.body === 'object' && ctx.body.error === err.error ? ctx.body : undefined;
    if (!body || err.error !== 'invalid_grant' || typeof err.error_detail !== 'string') return;
    if (err.error_detail === 'DPoP proof JWT not provided') {
      ctx.body = {
        error: 'invalid_dpop_proof',
        error_description: 'DPoP proof JWT not provided (this client requires DPoP-bound access tokens)',
      };
    } else if (/dpop|jkt/i.test(err.error_detail)) {
      ctx.body = { ...body, error_description: err.error_detail };
    }
  }

  async function setDpopBound(value) {
    const client = await provider.Client.find(options.clientId);
    client.dpopBoundAccessTokens = value;
    faults.dpopBound = value;
  }

  // Test-control bodies: a JSON object, or empty (= {}). Answers 400 itself otherwise.
  async function readJsonObject(ctx) {
    let body;
    try {
      const raw = await readRawBody(ctx);
      body = raw.trim() ? JSON.parse(raw) : {};
    } catch {
      body = undefined;
    }
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      ctx.status = 400;
      ctx.body = { error: 'invalid_request', error_description: 'body must be a JSON object' };
      return undefined;
    }
    return body;
  }

  const tokenError = (ctx, status, error, description) => {
    ctx.status = status;
    ctx.set('Cache-Control', 'no-store');
    ctx.set('Pragma', 'no-cache');
    ctx.body = { error, error_description: description };
  };

  // POST /bc-authorize: Auth0's `audience` becomes a resource indicator (with all scopes of that
  // API when none of them is requested), requested_expiry is held to 1..300 s, and
  // authorization_details is taken out (oidc-provider refuses it at this endpoint) and kept for
  // the token response. The answer gets `interval`.
  async function backchannelAuthentication(ctx, next) {
    const form = await readForm(ctx);
    const get = (k) => (Array.isArray(form[k]) ? form[k][0] : form[k]);
    const expiry = get('requested_expiry');
    if (expiry !== undefined && !(/^[0-9]+$/.test(expiry) && Number(expiry) >= 1 && Number(expiry) <= CIBA_MAX_EXPIRY)) {
      tokenError(ctx, 400, 'invalid_request', `requested_expiry must be an integer from 1 to ${CIBA_MAX_EXPIRY} (seconds)`);
      return;
    }
    let authorizationDetails;
    if (form.authorization_details !== undefined) {
      try {
        authorizationDetails = JSON.parse(get('authorization_details'));
      } catch {
        authorizationDetails = undefined;
      }
      if (!Array.isArray(authorizationDetails) || !authorizationDetails.every((d) => d !== null
        && typeof d === 'object' && !Array.isArray(d) && typeof d.type === 'string' && d.type)) {
        tokenError(ctx, 400, 'invalid_request', 'authorization_details must be a JSON array of objects, each with a "type" string');
        return;
      }
      delete form.authorization_details;
    }
    const audience = get('audience');
    delete form.audience;
    if (audience && form.resource === undefined) {
      form.resource = audience;
      const api = APIS.get(audience);
      const scopes = splitScope(get('scope'));
      if (api && ![...splitScope(api.scope)].some((s) => scopes.has(s))) {
        splitScope(api.scope).forEach((s) => scopes.add(s));
        form.scope = [...scopes].join(' ');
      }
    }
    ctx.state[CIBA_AUTHORIZATION_DETAILS] = authorizationDetails;
    setForm(ctx, form);
    await next();
    if (ctx.status === 200 && ctx.body && typeof ctx.body === 'object' && ctx.body.auth_req_id) {
      ctx.body = { ...ctx.body, interval: CIBA_INTERVAL };
    }
  }

  // grant_type=urn:openid:params:grant-type:ciba: the Retry-After fault, slow_down, then
  // oidc-provider; afterwards expired_token for a request the adapter already dropped, and
  // authorization_details in the token response.
  async function cibaPoll(ctx, next, form) {
    if (options.testControls && faults.cibaRetryAfter) {
      const seconds = faults.cibaRetryAfter;
      faults.cibaRetryAfter = null;
      ctx.set('Retry-After', String(seconds));
      tokenError(ctx, 503, 'temporarily_unavailable', `injected cibaRetryAfter fault: retry after ${seconds} s`);
      return;
    }
    const authReqId = Array.isArray(form.auth_req_id) ? form.auth_req_id[0] : form.auth_req_id;
    const entry = ciba.get(authReqId);
    const now = Date.now();
    if (entry && entry.state !== 'done' && entry.expiresAt > now) {
      const tooSoon = entry.lastPoll !== null && now - entry.lastPoll < entry.interval * 1000 - CIBA_POLL_SLACK_MS;
      entry.lastPoll = now;
      if (tooSoon) {
        entry.interval += CIBA_SLOW_DOWN_STEP;
        tokenError(ctx, 400, 'slow_down', `polling too fast: wait at least ${entry.interval} s between polls of this auth_req_id`);
        return;
      }
    }
    setForm(ctx, form);
    await next();
    afterTokenEndpoint(ctx);
    if (!entry) return;
    if (ctx.status === 200) {
      entry.state = 'done';
      if (entry.authorizationDetails && ctx.body && typeof ctx.body === 'object') {
        ctx.body = { ...ctx.body, authorization_details: entry.authorizationDetails };
      }
    } else if (ctx.body?.error === 'access_denied') {
      entry.state = 'done';
    } else if (ctx.body?.error === 'invalid_grant' && entry.state !== 'done' && Date.now() >= entry.expiresAt) {
      ctx.body = { error: 'expired_token', error_description: 'backchannel authentication request is expired' };
    }
  }

  // The subject of a federated connection exchange: the user (sub) of a refresh token or access
  // token of this provider, issued to this client, or an error description.
  async function federatedSubject(subjectTokenType, value) {
    if (subjectTokenType === 'urn:ietf:params:oauth:token-type:refresh_token') {
      let rt;
      try {
        rt = await provider.RefreshToken.find(value);
      } catch {
        rt = undefined;
      }
      if (!rt) return { problem: 'subject_token is not a valid refresh token (unknown, expired or revoked)' };
      if (rt.consumed) return { problem: 'subject_token is a refresh token that was already used (rotated)' };
      if (rt.clientId !== options.clientId) return { problem: 'subject_token was issued to another client' };
      if (!rt.grantId || !await provider.Grant.find(rt.grantId)) return { problem: 'the grant of the subject_token was revoked' };
      return { sub: rt.accountId };
    }
    if (value.split('.').length === 3) {
      try {
        const { payload } = await jwtVerify(value, apiKeySet, {
          algorithms: ['RS256'], issuer: provider.issuer, requiredClaims: ['exp', 'sub'],
        });
        if (payload.client_id !== options.clientId) return { problem: 'subject_token was issued to another client' };
        return { sub: payload.sub };
      } catch (err) {
        return { problem: err.code === 'ERR_JWT_EXPIRED' ? 'subject_token (access token) expired' : `subject_token is not a valid access token: ${err.message}` };
      }
    }
    let at;
    try {
      at = await provider.AccessToken.find(value);
    } catch {
      at = undefined;
    }
    if (!at) return { problem: 'subject_token is not a valid access token (unknown, expired or revoked)' };
    if (at.clientId !== options.clientId) return { problem: 'subject_token was issued to another client' };
    return { sub: at.accountId };
  }

  // grant_type=urn:auth0:params:oauth:grant-type:token-exchange:federated-connection-access-token
  async function federatedConnectionExchange(ctx, form) {
    const get = (k) => (Array.isArray(form[k]) ? form[k][0] : form[k]);

    let clientId = get('client_id');
    let clientSecret = get('client_secret');
    const basic = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(ctx.get('authorization'));
    if (basic && clientSecret === undefined) {
      const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon > 0) {
        try {
          clientId = decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' '));
          clientSecret = decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' '));
        } catch {
          clientSecret = undefined;
        }
      }
    }
    if (clientId !== options.clientId || !secretsEqual(clientSecret, options.clientSecret)) {
      tokenError(ctx, 401, 'invalid_client', 'client authentication failed');
      return;
    }
    if (options.testControls && faults.connectionTokenError) {
      const error = faults.connectionTokenError;
      faults.connectionTokenError = null;
      tokenError(ctx, 400, error, `injected ${error} fault (connectionTokenError)`);
      return;
    }
    for (const name of ['subject_token', 'subject_token_type', 'requested_token_type', 'connection']) {
      if (typeof get(name) !== 'string' || !get(name)) {
        tokenError(ctx, 400, 'invalid_request', `missing required parameter '${name}'`);
        return;
      }
    }
    const subjectTokenType = get('subject_token_type');
    if (!SUBJECT_TOKEN_TYPES.has(subjectTokenType)) {
      tokenError(ctx, 400, 'invalid_request', `subject_token_type must be one of ${[...SUBJECT_TOKEN_TYPES].join(', ')}`);
      return;
    }
    if (get('requested_token_type') !== FEDERATED_TOKEN_TYPE) {
      tokenError(ctx, 400, 'invalid_request', `requested_token_type must be ${FEDERATED_TOKEN_TYPE}`);
      return;
    }
    const connectionName = get('connection');
    const connection = CONNECTIONS.get(connectionName);
    if (!connection) {
      tokenError(ctx, 400, 'invalid_request', `connection ${connectionName} is not enabled for this client (known: ${[...CONNECTIONS.keys()].join(', ')})`);
      return;
    }
    const { sub, problem } = await federatedSubject(subjectTokenType, get('subject_token'));
    if (problem || !USERS_BY_SUB.has(sub)) {
      log(`federated connection exchange: invalid_grant: ${problem ?? `unknown user ${sub}`}`);
      tokenError(ctx, 400, 'invalid_grant', problem ?? 'the user of subject_token is not known');
      return;
    }
    const expiresIn = faults.accessTokenTtl ?? ACCESS_TOKEN_TTL;
    log(`federated connection exchange: ${connectionName} token for ${sub} (${subjectTokenType.split(':').pop()})`);
    ctx.status = 200;
    ctx.set('Cache-Control', 'no-store');
    ctx.set('Pragma', 'no-cache');
    ctx.body = {
      access_token: `conn_${connectionName}_${crypto.randomBytes(24).toString('base64url')}`,
      token_type: 'Bearer',
      expires_in: expiresIn,
      scope: connection.scope,
      issued_token_type: FEDERATED_TOKEN_TYPE,
    };
  }

  async function tokenEndpoint(ctx, next) {
    if (ctx.get('dpop')) stats.dpopProofs.token += 1;
    let form;
    if (ctx.is('application/x-www-form-urlencoded', 'application/json')) {
      try {
        form = await readForm(ctx);
      } catch (err) {
        stats.countTokenRequest('unknown');
        throw err;
      }
    }
    const rawGrantType = Array.isArray(form?.grant_type) ? form.grant_type[0] : form?.grant_type;
    const grantType = typeof rawGrantType === 'string' && rawGrantType ? rawGrantType : 'unknown';
    stats.countTokenRequest(grantType);
    if (grantType === CIBA_GRANT_TYPE) stats.cibaPolls += 1;
    if (grantType === FEDERATED_GRANT_TYPE) stats.connectionTokenRequests += 1;

    // The response is held back; the grant itself is processed at once.
    const delay = options.testControls && grantType === 'refresh_token' ? faults.refreshDelayMs : null;
    try {
      if (options.testControls && faults.alwaysUseDpopNonce) {
        alwaysUseDpopNonce(ctx);
        return;
      }
      if (options.testControls && faults.tokenError) {
        const error = faults.tokenError;
        faults.tokenError = null;
        ctx.status = 400;
        ctx.set('Cache-Control', 'no-store');
        ctx.set('Pragma', 'no-cache');
        ctx.body = { error, error_description: `injected ${error} fault` };
        return;
      }
      if (form && grantType === FEDERATED_GRANT_TYPE) {
        await federatedConnectionExchange(ctx, form);
        return;
      }
      if (form && grantType === CIBA_GRANT_TYPE) {
        await cibaPoll(ctx, next, form);
        return;
      }
      if (form) {
        if (form.audience !== undefined) {
          // The code exchange takes the audience given on /authorize; refresh_token maps it.
          if (form.grant_type === 'refresh_token' && form.resource === undefined) form.resource = form.audience;
          delete form.audience;
        }
        if (form.grant_type === 'refresh_token' && typeof form.resource === 'string' && typeof form.refresh_token === 'string') {
          // oidc-provider rotates (consumes) the refresh token before it checks the resource, so
          // a wrong audience would burn the token and its next use would revoke the whole grant.
          // Refuse such requests up front instead, leaving the refresh token usable. (A refresh
          // token of a login without audience lists every API, see
          // allowAnyApiForRefreshTokensWithoutAudience.)
          const refreshToken = await provider.RefreshToken.find(form.refresh_token);
          if (refreshToken && !refreshToken.consumed && !refreshToken.resourceIndicators.has(form.resource)) {
            ctx.status = 400;
            ctx.set('Cache-Control', 'no-store');
            ctx.set('Pragma', 'no-cache');
            ctx.body = {
              error: 'invalid_target',
              error_description: `the refresh token was not issued for audience ${form.resource}`,
            };
            return;
          }
        }
        setForm(ctx, form);
        if (form.grant_type === 'refresh_token' && typeof form.resource === 'string') {
          await refreshAudience.run(form.resource, next);
          afterTokenEndpoint(ctx);
          return;
        }
      }
      await next();
      afterTokenEndpoint(ctx);
    } finally {
      if (delay) await sleep(delay);
    }
  }

  async function finishConsent(ctx, details) {
    const { Grant } = provider;
    const accountId = details.session?.accountId;
    const clientId = details.params.client_id;
    let grant = details.grantId ? await Grant.find(details.grantId) : undefined;
    if (!grant || grant.accountId !== accountId) grant = new Grant({ accountId, clientId });
    const oidcScopes = [...splitScope(details.params.scope)].filter((s) => ['openid', 'offline_access', 'profile', 'email'].includes(s));
    if (oidcScopes.length) grant.addOIDCScope(oidcScopes.join(' '));
    for (const [identifier, api] of APIS) grant.addResourceScope(identifier, api.scope);
    const grantId = await grant.save();
    return provider.interactionResult(ctx.req, ctx.res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  }

  async function interactionError(ctx, err) {
    log('interaction error:', err.message);
    ctx.status = err.statusCode || err.status || 500;
    ctx.type = 'html';
    ctx.body = page('Error', `<p class="error">${escapeHtml(err.error || 'server_error')}: ${escapeHtml(err.error_description || err.message)}</p>`);
  }

  return async function localIdpMiddleware(ctx, next) {
    const { path, method } = ctx;

    // ---- protected APIs (always on) ---------------------------------------------------------
    const api = RESOURCE_APIS_BY_PATH.get(path);
    if (api) {
      await handleApi(ctx, api, { issuer: provider.issuer, keySet: apiKeySet, stats });
      return undefined;
    }
    const dpopApi = DPOP_APIS_BY_PATH.get(path);
    if (dpopApi) {
      await handleDpopApi(ctx, dpopApi, {
        issuer: provider.issuer,
        keySet: apiKeySet,
        stats,
        state: dpopApiState,
        faults,
        testControls: options.testControls,
      });
      return undefined;
    }
    if (path.startsWith('/me/v1/')) {
      await handleMyAccount(ctx, {
        issuer: provider.issuer,
        keySet: apiKeySet,
        state: myAccountDpopState,
        stats,
        faults,
        testControls: options.testControls,
        store: connectedAccounts,
        audience: `${provider.issuer}${MY_ACCOUNT_PATH}`,
      });
      return undefined;
    }
    if (path === '/connect/authorize' && method === 'GET') {
      handleConnectAuthorize(ctx, { store: connectedAccounts, faults, testControls: options.testControls });
      return undefined;
    }

    // ---- test controls -----------------------------------------------------------------------
    if (path.startsWith('/__test/')) {
      if (!options.testControls) return next();
      if (path === '/__test/health' && method === 'GET') {
        ctx.type = 'text/plain';
        ctx.body = 'ok';
        return undefined;
      }
      if (path === '/__test/faults' && method === 'GET') {
        ctx.body = { ...faults };
        return undefined;
      }
      if (path === '/__test/faults' && method === 'POST') {
        const body = await readJsonObject(ctx);
        if (!body) return undefined;
        const problems = validateFaults(body);
        if (problems.length) {
          ctx.status = 400;
          ctx.body = { error: 'invalid_request', error_description: problems.join('; ') };
          return undefined;
        }
        if ('wrongJwks' in body) faults.wrongJwks = body.wrongJwks === true;
        if ('tokenError' in body) {
          faults.tokenError = typeof body.tokenError === 'string' && body.tokenError ? body.tokenError : null;
        }
        if ('accessTokenTtl' in body) faults.accessTokenTtl = body.accessTokenTtl;
        if ('refreshDelayMs' in body) faults.refreshDelayMs = body.refreshDelayMs || null;
        if ('dpopNonce' in body) faults.dpopNonce = body.dpopNonce;
        if ('dpopBound' in body) await setDpopBound(body.dpopBound);
        if ('alwaysUseDpopNonce' in body) faults.alwaysUseDpopNonce = body.alwaysUseDpopNonce;
        if ('cibaRetryAfter' in body) faults.cibaRetryAfter = body.cibaRetryAfter;
        if ('connectionTokenError' in body) faults.connectionTokenError = body.connectionTokenError;
        for (const key of ['connectError', 'completeError', 'disconnectError', 'connectDeny', 'connectedAccountsPageSize', 'connectedAccountsRepeatNext']) {
          if (key in body) faults[key] = body[key];
        }
        log('faults:', JSON.stringify(faults));
        ctx.status = 204;
        return undefined;
      }
      if (path === '/__test/ciba' && method === 'GET') {
        ctx.set('Cache-Control', 'no-store');
        ctx.body = ciba.pending();
        return undefined;
      }
      if ((path === '/__test/ciba/approve' || path === '/__test/ciba/deny') && method === 'POST') {
        const body = await readJsonObject(ctx);
        if (!body) return undefined;
        if (typeof body.auth_req_id !== 'string' || !body.auth_req_id) {
          ctx.status = 400;
          ctx.body = { error: 'invalid_request', error_description: 'auth_req_id must be a non-empty string' };
          return undefined;
        }
        const approve = path.endsWith('/approve');
        if (!await (approve ? ciba.approve(body.auth_req_id) : ciba.deny(body.auth_req_id))) {
          ctx.status = 404;
          ctx.body = { error: 'not_found', error_description: `no pending backchannel authentication request ${body.auth_req_id} (unknown, expired or already decided)` };
          return undefined;
        }
        log(`ciba: ${body.auth_req_id} ${approve ? 'approved' : 'denied'}`);
        ctx.status = 204;
        return undefined;
      }
      if (path === '/__test/connected-accounts' && method === 'POST') {
        const body = await readJsonObject(ctx);
        if (!body) return undefined;
        const problems = [];
        if (typeof body.sub !== 'string' || !body.sub) problems.push('sub must be a non-empty string');
        if (!Array.isArray(body.accounts)) {
          problems.push('accounts must be an array of {"connection": "...", "scopes": ["..."]}');
        } else {
          body.accounts.forEach((account, i) => {
            if (!isPlainObject(account) || !CONNECTIONS.has(account.connection)) {
              problems.push(`accounts[${i}].connection must be one of ${[...CONNECTIONS.keys()].join(', ')}`);
            } else if (account.scopes !== undefined && account.scopes !== null
              && !(Array.isArray(account.scopes) && account.scopes.every((scope) => typeof scope === 'string' && scope))) {
              problems.push(`accounts[${i}].scopes must be an array of non-empty strings`);
            }
          });
        }
        if (problems.length) {
          ctx.status = 400;
          ctx.body = { error: 'invalid_request', error_description: problems.join('; ') };
          return undefined;
        }
        const created = body.accounts.map((account) => connectedAccounts.add(body.sub, account.connection, account.scopes?.length ? account.scopes : connectionScopes(account.connection)));
        log(`seeded ${created.length} connected account(s) of ${body.sub}`);
        ctx.set('Cache-Control', 'no-store');
        ctx.body = { accounts: created };
        return undefined;
      }
      if (path === '/__test/connected-accounts' && method === 'DELETE') {
        connectedAccounts.clear();
        log('cleared all connected accounts');
        ctx.status = 204;
        return undefined;
      }
      if (path === '/__test/stats' && method === 'GET') {
        ctx.set('Cache-Control', 'no-store');
        ctx.body = stats.toJSON();
        return undefined;
      }
      if (path === '/__test/stats/reset' && method === 'POST') {
        stats.reset();
        ctx.status = 204;
        return undefined;
      }
      if (path === '/__test/revoke-refresh-tokens' && method === 'POST') {
        const body = await readJsonObject(ctx);
        if (!body) return undefined;
        if (body.sub !== undefined && body.sub !== null && typeof body.sub !== 'string') {
          ctx.status = 400;
          ctx.body = { error: 'invalid_request', error_description: 'sub must be a string (or omitted for every user)' };
          return undefined;
        }
        const sub = typeof body.sub === 'string' ? body.sub : undefined;
        const count = await revokeGrantsOf(sub);
        log(`revoked ${count} grant(s) of ${sub ?? 'every user'}`);
        ctx.status = 204;
        return undefined;
      }
      if (path === '/__test/backchannel-logout-uri' && method === 'POST') {
        const body = await readJsonObject(ctx);
        if (!body) return undefined;
        const problem = body.uri === null ? undefined : backchannelLogoutUriProblem(body.uri);
        if (!('uri' in body) || problem) {
          ctx.status = 400;
          ctx.body = { error: 'invalid_request', error_description: `uri must be an http(s) URL without fragment, or null${problem ? ` (${problem})` : ''}` };
          return undefined;
        }
        await backchannel.setUri(body.uri);
        ctx.status = 204;
        return undefined;
      }
      if (path === '/__test/logout-user' && method === 'POST') {
        const body = await readJsonObject(ctx);
        if (!body) return undefined;
        if (typeof body.sub !== 'string' || !body.sub) {
          ctx.status = 400;
          ctx.body = { error: 'invalid_request', error_description: 'sub must be a non-empty string' };
          return undefined;
        }
        const { sessions, deliveries } = await backchannel.endSessionsOf(body.sub);
        log(`ended ${sessions} session(s) of ${body.sub}`);
        ctx.set('Cache-Control', 'no-store');
        ctx.body = {
          sessions,
          deliveries: deliveries.map(({ sid, status, error }) => ({ sid, status, error })),
        };
        return undefined;
      }
      if (path === '/__test/sign-logout-token' && method === 'POST') {
        const body = await readJsonObject(ctx);
        if (!body) return undefined;
        let jwt;
        try {
          jwt = signTestLogoutToken(body, { keys, clientSecret: options.clientSecret });
        } catch (err) {
          if (!(err instanceof TypeError)) throw err;
          ctx.status = 400;
          ctx.body = { error: 'invalid_request', error_description: err.message };
          return undefined;
        }
        ctx.set('Cache-Control', 'no-store');
        ctx.type = 'text/plain';
        ctx.body = jwt;
        return undefined;
      }
      return next();
    }

    // ---- faults ----------------------------------------------------------------------------
    if (options.testControls && faults.wrongJwks && path === '/.well-known/jwks.json' && method === 'GET') {
      ctx.set('Cache-Control', 'no-store');
      ctx.type = 'application/jwk-set+json; charset=utf-8';
      ctx.body = JSON.stringify(keys.wrongPublic);
      return undefined;
    }
    if (path === '/oauth/token' && method === 'POST') {
      return tokenEndpoint(ctx, next);
    }
    if (path === '/bc-authorize' && method === 'POST'
      && ctx.is('application/x-www-form-urlencoded', 'application/json')) {
      return backchannelAuthentication(ctx, next);
    }

    // ---- Auth0 `audience` ---------------------------------------------------------------
    if (path === '/authorize' && method === 'GET') {
      const params = rewriteAuthorizationParams({ ...ctx.query });
      ctx.querystring = querystring.stringify(params);
      return next();
    }
    if ((path === '/authorize' || path === '/oauth/par') && method === 'POST'
      && ctx.is('application/x-www-form-urlencoded')) {
      setForm(ctx, rewriteAuthorizationParams(await readForm(ctx)));
      return next();
    }
    if (path === '/oauth/revoke' && method === 'POST'
      && ctx.is('application/x-www-form-urlencoded', 'application/json')) {
      const form = await readForm(ctx);
      delete form.audience;
      setForm(ctx, form);
      return next();
    }

    // ---- Auth0 /v2/logout --------------------------------------------------------------
    if (path === '/v2/logout' && method === 'GET') {
      try {
        const session = await provider.Session.get(ctx);
        // Like Auth0: every application of the session gets a back-channel logout.
        if (session && !session.new) await backchannel.endSession(session);
      } catch (err) {
        log('v2/logout: could not load session:', err.message);
      }
      for (const name of ['_session', '_session.sig', '_session.legacy', '_session.legacy.sig']) {
        ctx.cookies.set(name, null, { path: '/', httpOnly: true, overwrite: true });
      }
      ctx.set('Cache-Control', 'no-store');
      const { returnTo } = ctx.query;
      if (typeof returnTo === 'string' && isLoopbackUrl(returnTo)) {
        ctx.status = 302;
        ctx.redirect(returnTo);
        return undefined;
      }
      ctx.type = 'html';
      ctx.body = page('Signed out', returnTo
        ? `<p id="signed-out">You have been signed out.</p><p class="error">returnTo is not a loopback URL and was ignored: ${escapeHtml(returnTo)}</p>`
        : '<p id="signed-out">You have been signed out.</p>');
      return undefined;
    }

    // ---- interactions ------------------------------------------------------------------
    let match = interactionRoute.exec(path);
    if (match && method === 'GET') {
      try {
        const details = await provider.interactionDetails(ctx.req, ctx.res);
        if (details.uid !== match[1]) throw new errors.SessionNotFound('interaction mismatch');
        ctx.set('Cache-Control', 'no-store');
        if (details.prompt.name === 'consent') {
          const returnTo = await finishConsent(ctx, details);
          ctx.status = 303;
          ctx.redirect(returnTo);
          return undefined;
        }
        const client = await provider.Client.find(details.params.client_id);
        ctx.type = 'html';
        ctx.body = loginPage(details.uid, {
          login: details.params.login_hint || '',
          clientName: client?.clientName || details.params.client_id,
        });
      } catch (err) {
        await interactionError(ctx, err);
      }
      return undefined;
    }

    match = loginRoute.exec(path);
    if (match && method === 'POST') {
      try {
        const details = await provider.interactionDetails(ctx.req, ctx.res);
        if (details.uid !== match[1]) throw new errors.SessionNotFound('interaction mismatch');
        const form = await readForm(ctx);
        const user = checkCredentials(form.login, form.password);
        ctx.set('Cache-Control', 'no-store');
        if (!user) {
          ctx.status = 200;
          ctx.type = 'html';
          ctx.body = loginPage(details.uid, { login: form.login, error: 'Wrong username or password.' });
          return undefined;
        }
        if (details.session?.accountId && details.session.accountId !== user.claims.sub) {
          // Another user is signed in (prompt=login). oidc-provider would answer the resume with
          // an auto-submitting logout form; end the old session here instead so that a plain
          // HTTP client just follows redirects. The old session's applications get their
          // back-channel logouts.
          const old = details.session.uid ? await provider.Session.findByUid(details.session.uid) : undefined;
          if (old) await backchannel.endSession(old);
          delete details.session.uid;
          await details.save(details.exp - Math.floor(Date.now() / 1000));
        }
        const returnTo = await provider.interactionResult(ctx.req, ctx.res, {
          login: { accountId: user.claims.sub, remember: true },
        }, { mergeWithLastSubmission: false });
        ctx.status = 303;
        ctx.redirect(returnTo);
      } catch (err) {
        await interactionError(ctx, err);
      }
      return undefined;
    }

    return next();
  };
}

// ---------------------------------------------------------------------------------------------
// Start-up
// ---------------------------------------------------------------------------------------------
async function main() {
  const options = parseCommandLine(process.argv.slice(2));

  // Listen first: the issuer must carry the real port.
  const server = http.createServer();
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}/`;

  // The My Account API's audience carries the issuer, known only now.
  APIS.set(`${issuer}${MY_ACCOUNT_PATH}`, { scope: Object.values(MY_ACCOUNT_SCOPES).join(' ') });

  const keys = generateKeys();
  const faults = {
    wrongJwks: false,
    tokenError: null,
    accessTokenTtl: null,
    refreshDelayMs: null,
    // --dpop-nonce / --dpop-bound; both can be switched at runtime (test controls).
    dpopNonce: options.dpopNonce,
    dpopBound: options.dpopBound,
    alwaysUseDpopNonce: false,
    cibaRetryAfter: null,
    connectionTokenError: null,
    // My Account API (connected accounts)
    connectError: null,
    completeError: null,
    disconnectError: null,
    connectDeny: false,
    connectedAccountsPageSize: null,
    connectedAccountsRepeatNext: false,
  };
  const stats = createStats();
  const ciba = createCiba({ issuer });
  const provider = new Provider(issuer, buildConfiguration({
    ...options, keys, faults, ciba,
  }));
  ciba.attach(provider);

  // Accept any loopback redirect_uri / post_logout_redirect_uri on any port (RFC 8252 style).
  const { redirectUriAllowed, postLogoutRedirectUriAllowed } = provider.Client.prototype;
  provider.Client.prototype.redirectUriAllowed = function allowLoopback(value) {
    return isLoopbackUrl(value) || redirectUriAllowed.call(this, value);
  };
  provider.Client.prototype.postLogoutRedirectUriAllowed = function allowLoopback(value) {
    return isLoopbackUrl(value) || postLogoutRedirectUriAllowed.call(this, value);
  };
  // Always put `sid` into ID tokens, as Auth0 does.
  provider.Client.prototype.includeSid = () => true;
  allowAnyApiForRefreshTokensWithoutAudience(provider);

  const revokeGrantsOf = trackGrants(provider);
  const backchannel = createBackchannelLogout({
    provider, options, keys, stats, issuer,
  });

  provider.use(buildMiddleware({
    provider, options, keys, faults, stats, revokeGrantsOf, backchannel, ciba,
  }));

  for (const event of ['server_error', 'authorization.error', 'grant.error', 'end_session.error', 'userinfo.error', 'revocation.error']) {
    provider.on(event, (ctx, err) => {
      log(`${event}: ${err?.error || err?.name || 'error'}: ${err?.error_description || err?.message || ''}${err?.error_detail ? ` (${err.error_detail})` : ''}`);
    });
  }
  // Emitted right after oidc-provider has set the error response of /oauth/token.
  provider.on('grant.error', (ctx, err) => {
    if (ctx?.state) ctx.state[TOKEN_ERROR] = err;
  });

  server.on('request', provider.callback());

  let stopping = false;
  const shutdown = (reason) => {
    if (stopping) return;
    stopping = true;
    log(`stopping (${reason})`);
    server.close(() => process.exit(0));
    server.closeAllConnections?.();
    setTimeout(() => process.exit(0), 1000).unref();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  if (options.exitOnStdinClose) {
    process.stdin.on('end', () => shutdown('stdin closed'));
    process.stdin.on('close', () => shutdown('stdin closed'));
    process.stdin.on('error', () => shutdown('stdin error'));
    process.stdin.resume();
  }

  log(`issuer ${issuer} (listening on ${options.host}:${port}), client ${options.clientId}${options.backchannelLogoutUri ? `, backchannel_logout_uri ${options.backchannelLogoutUri}` : ''}${options.dpopNonce ? ', DPoP nonce required' : ''}${options.dpopBound ? ', DPoP-bound tokens required' : ''}${options.testControls ? ', test controls on' : ''}`);
  process.stdout.write(`LOCAL_IDP_READY ${JSON.stringify({ issuer, port })}\n`);
}

main().catch((err) => {
  log('failed to start:', err?.stack || err);
  process.exit(1);
});
