// A real OpenID Connect provider (the certified `oidc-provider` package) for the sign-in tests.
//
//   node provider.js config.json
//
// config.json: {"clients": [{"client_id", "client_secret", "redirect_uris"}],
//               "users": {"<login>": {"password": "...", "claims": {"email": ..., "groups": [...]}}}}
//
// It listens on a free loopback port, then prints one line of JSON: {"issuer": "http://127.0.0.1:PORT"}.
// People sign in on its own login page (/interaction/<uid>): a form with `login` and `password`,
// checked against the users above. Consent is implied for the configured clients (first-party apps).
// Authorization code flow only, PKCE (S256) required for every client.
//
// For the attack tests, POST /test/next-id-token {"aud": ..., "nonce": ...} makes the next ID token
// the token endpoint hands out carry those claims instead, signed with the provider's real key:
// a token minted for another client, or one from another sign-in.

import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

import * as jose from 'jose';
import Provider from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const users = config.users;

const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
const signingJwk = { ...(await jose.exportJWK(privateKey)), kid: 'test-signing-key', alg: 'RS256', use: 'sig' };

let nextIdToken = null;

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function loginPage(uid, message) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Test provider: sign in</title></head>
<body><main><h1>Sign in to the test provider</h1>
${message ? `<p role="alert">${escapeHtml(message)}</p>` : ''}
<form method="post" action="/interaction/${escapeHtml(uid)}/login">
<label for="login">Username</label> <input id="login" name="login" autocomplete="username" required>
<label for="password">Password</label> <input id="password" name="password" type="password" required>
<button type="submit">Sign in</button>
</form></main></body></html>`;
}

async function readForm(req) {
  let body = '';
  for await (const chunk of req) body += chunk;
  return new URLSearchParams(body);
}

async function readJson(req) {
  let body = '';
  for await (const chunk of req) body += chunk;
  return JSON.parse(body || '{}');
}

const server = createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: config.clients.map((client) => ({
    ...client,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  })),
  jwks: { keys: [signingJwk] },
  cookies: { keys: ['test-provider-cookie-key-not-a-secret'] },
  scopes: ['openid', 'email', 'profile', 'groups'],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'preferred_username'],
    groups: ['groups'],
  },
  // The claims of the requested scopes go into the ID token, which is all the relying party reads.
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, id) {
    if (!Object.hasOwn(users, id)) return undefined;
    return { accountId: id, claims: async () => ({ sub: id, ...users[id].claims }) };
  },
  // First-party clients: everything they ask for is granted without a consent page.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid email profile groups');
    await grant.save();
    return grant;
  },
});

// Hand out the altered ID token the test asked for, signed with the real key.
provider.use(async (ctx, next) => {
  await next();
  if (ctx.path === '/token' && ctx.method === 'POST' && nextIdToken && ctx.body?.id_token) {
    const claims = { ...jose.decodeJwt(ctx.body.id_token), ...nextIdToken };
    nextIdToken = null;
    ctx.body = {
      ...ctx.body,
      id_token: await new jose.SignJWT(claims)
        .setProtectedHeader({ alg: 'RS256', kid: signingJwk.kid })
        .sign(privateKey),
    };
  }
});

const providerCallback = provider.callback();

server.on('request', async (req, res) => {
  try {
    const url = new URL(req.url, issuer);
    const login = url.pathname.match(/^\/interaction\/([^/]+)\/login$/);
    if (url.pathname === '/test/next-id-token' && req.method === 'POST') {
      nextIdToken = await readJson(req);
      res.writeHead(204).end();
    } else if (login && req.method === 'POST') {
      const form = await readForm(req);
      const user = form.get('login');
      if (!Object.hasOwn(users, user) || users[user].password !== form.get('password')) {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end(loginPage(login[1], 'Wrong username or password.'));
        return;
      }
      await provider.interactionFinished(req, res, { login: { accountId: user } }, { mergeWithLastSubmission: false });
    } else if (/^\/interaction\/[^/]+$/.test(url.pathname) && req.method === 'GET') {
      const details = await provider.interactionDetails(req, res);
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(loginPage(details.uid, ''));
    } else {
      providerCallback(req, res);
    }
  } catch (error) {
    res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(`test provider: ${error.message}`);
  }
});

process.stdout.write(`${JSON.stringify({ issuer })}\n`);
