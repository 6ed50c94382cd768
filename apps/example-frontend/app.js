// A plain browser client of auth-service: no build step, no framework, no storage of tokens.
// - The API base comes from ?api=… (default http://localhost:3000); the service must list this
//   page's origin in CORS_ORIGINS.
// - Every call uses fetch with credentials: 'include', so the HttpOnly refresh_token cookie
//   (Path=/api/v1/auth, SameSite=Strict) travels with /auth/* requests and is updated by them.
// - The access token is kept in memory only: after a reload the page asks POST /auth/refresh,
//   which answers from the cookie (the browser adds the Origin header the service checks).
/* global document, location */
'use strict';

const params = new URLSearchParams(location.search);
const API = `${(params.get('api') || 'http://localhost:3000').replace(/\/+$/, '')}/api/v1`;
const $ = (id) => document.getElementById(id);

let accessToken = null;

function setStatus(state, text) {
  $('status').dataset.state = state;
  $('status').textContent = text;
}

function show(user) {
  $('signed-out').hidden = Boolean(user);
  $('signed-in').hidden = !user;
  $('who').textContent = user ? user.email : '';
  $('user').textContent = user ? JSON.stringify(user, null, 2) : '';
}

/** One API call; a network or CORS failure is reported as status 0. */
async function call(path, { method = 'POST', body, auth = false } = {}) {
  const headers = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (auth && accessToken) headers.authorization = `Bearer ${accessToken}`;
  try {
    const res = await fetch(API + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'include',
    });
    const text = await res.text();
    return { status: res.status, data: text ? JSON.parse(text) : null };
  } catch (error) {
    return { status: 0, data: { message: `Network error (blocked by CORS?): ${error.message}` } };
  }
}

function signedIn(tokens, how) {
  accessToken = tokens.accessToken;
  show(tokens.user);
  setStatus('signed-in', `${how}: signed in as ${tokens.user.email}`);
}

function failed(what, res) {
  const message = res.data && res.data.message;
  const code = res.data && res.data.code;
  setStatus(
    'error',
    `${what} failed (${res.status}${code ? ` ${code}` : ''}): ${[].concat(message || '').join('; ')}`,
  );
}

function credentials() {
  return { email: $('email').value, password: $('password').value };
}

$('register').addEventListener('click', async () => {
  const name = $('name').value.trim();
  const res = await call('/auth/register', { body: { ...credentials(), ...(name ? { name } : {}) } });
  if (res.status === 201) signedIn(res.data, 'Registered');
  else failed('Register', res);
});

$('login').addEventListener('click', async () => {
  const res = await call('/auth/login', { body: credentials() });
  if (res.status === 200) signedIn(res.data, 'Logged in');
  else failed('Login', res);
});

$('me').addEventListener('click', async () => {
  const res = await call('/auth/me', { method: 'GET', auth: true });
  if (res.status === 200) {
    show(res.data);
    setStatus('me', `GET /auth/me: ${res.data.email}`);
  } else failed('GET /auth/me', res);
});

async function refresh(how) {
  // An empty body: the refresh token is the cookie, which the page cannot even read.
  const res = await call('/auth/refresh', { body: {} });
  if (res.status === 200) signedIn(res.data, how);
  return res;
}

$('refresh').addEventListener('click', async () => {
  const res = await refresh('Refreshed');
  if (res.status !== 200) failed('Refresh', res);
});

$('logout').addEventListener('click', async () => {
  const res = await call('/auth/logout', { auth: true });
  if (res.status !== 204) return failed('Logout', res);
  accessToken = null;
  show(null);
  setStatus('signed-out', 'Logged out');
});

$('api').textContent = API;
show(null);
// On load: a session may be waiting in the cookie.
void refresh('Restored after reload').then((res) => {
  if (res.status === 0) failed('Refresh', res);
  else if (res.status !== 200) setStatus('signed-out', 'Not signed in');
});
