/**
 * Switchboard review console: sign in, pick a tenant, list its pending reviews (oldest first), open one, approve,
 * edit or reject it with a note, and see the outcome. Everything shown comes from the review API of the tenant
 * (GET /v1/reviews, GET /v1/reviews/{id}, POST /v1/reviews/{id}/decision) and from /config.json next to this page.
 *
 * Every text that comes from a request, a model or a person (prompts, answers, notes, reasons, ids) is hostile:
 * it is only ever put on the page with textContent or as a form value, never parsed as HTML. No framework, no
 * build step, no external URL.
 */

const SESSION_KEY = 'switchboard.review.session';
const PKCE_KEY = 'switchboard.review.pkce';
/** Review ids as the review API makes them (lambda/shared/review-schema.ts REVIEW_ID_PATTERN). */
const REVIEW_ID = /^rev_[A-Za-z0-9_-]{10,76}$/;
/** Tenant ids as tenant files allow them. */
const TENANT_ID = /^[a-z][a-z0-9-]{1,62}$/;
const PAGE = 25;

const $ = (id) => {
  const node = document.getElementById(id);
  if (!node) throw new Error(`missing #${id}`);
  return node;
};

/** An element with attributes and children (strings become text nodes, never HTML). */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'text') node.textContent = String(v);
    else if (k === 'class') node.className = v;
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

/** Shows one view, hides the others. */
function show(viewId) {
  for (const v of document.querySelectorAll('.view')) v.hidden = v.id !== viewId;
  $('loading').hidden = true;
}

function notice(text) {
  $('notice').textContent = text ?? '';
  $('notice').hidden = !text;
}

function problem(text) {
  $('problem').textContent = text ?? '';
  $('problem').hidden = !text;
}

// ---------------------------------------------------------------------------------------------------------------
// Formatting

/** "3 min", "2 h 5 min", "1 d 4 h" for a span in milliseconds. */
function span(ms) {
  const m = Math.max(0, Math.round(ms / 60000));
  if (m < 1) return 'under a minute';
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h} h ${m % 60} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

function ago(iso) {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? '—' : `${span(Date.now() - t)} ago`;
}

function untilText(iso) {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '—';
  const left = t - Date.now();
  return left <= 0 ? 'expired' : `in ${span(left)}`;
}

/** A <time> element showing a relative text, with the exact instant in its title and datetime. */
function timeEl(iso, text) {
  return el('time', { datetime: iso, title: iso ? new Date(iso).toUTCString() : undefined, text });
}

const pct = (c) => (typeof c === 'number' ? `${Math.round(c * 100)} %` : '—');
const usd = (n) => (typeof n === 'number' ? `$${n.toFixed(n < 0.01 ? 6 : 4)}` : '—');

/** Text cut to `n` characters for a table cell (the full text is on the review page). */
function clip(text, n) {
  const s = String(text ?? '');
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

// ---------------------------------------------------------------------------------------------------------------
// Session and configuration

let config = null;
let session = null;

function loadSession() {
  try {
    const s = JSON.parse(sessionStorage.getItem(SESSION_KEY) ?? 'null');
    if (s && typeof s.token === 'string' && typeof s.reviewer === 'string') {
      if (typeof s.expiresAt === 'number' && s.expiresAt < Date.now()) return null;
      return s;
    }
  } catch {
    // A damaged entry is the same as none.
  }
  return null;
}

function saveSession(s) {
  session = s;
  if (s) sessionStorage.setItem(SESSION_KEY, JSON.stringify(s));
  else sessionStorage.removeItem(SESSION_KEY);
  $('who').hidden = !s;
  $('who-name').textContent = s ? `Signed in as ${s.reviewer}` : '';
}

/** The payload of a JWT (not verified here: the review API verifies the token; this only reads names and groups). */
function jwtClaims(token) {
  try {
    const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(atob(part.padEnd(part.length + ((4 - (part.length % 4)) % 4), '=')));
  } catch {
    return {};
  }
}

/**
 * The tenants this reviewer may review. With Cognito the ID token's groups say which (`groupPrefix` + tenant id,
 * the same names the review API checks); the dev sign-in of the local sandbox may review every tenant.
 */
function reviewableTenants() {
  const all = (config?.tenants ?? []).filter((t) => t && TENANT_ID.test(String(t.id)));
  if (config?.signIn?.kind !== 'cognito') return all;
  const groups = jwtClaims(session.token)['cognito:groups'];
  const mine = new Set(Array.isArray(groups) ? groups : []);
  const prefix = String(config.signIn.groupPrefix ?? 'tenant-');
  return all.filter((t) => mine.has(`${prefix}${t.id}`));
}

function tenantById(id) {
  return reviewableTenants().find((t) => t.id === id);
}

// ---------------------------------------------------------------------------------------------------------------
// The review API

class ApiProblem extends Error {
  constructor(status, code, message, retryAfter) {
    super(message);
    this.status = status;
    this.code = code;
    /** Seconds the API asked to wait before trying again (Retry-After), if it did. */
    this.retryAfter = retryAfter;
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Calls the review API with the session's token; a non-2xx answer becomes an ApiProblem with the envelope's text. */
async function api(url, init = {}) {
  let res;
  try {
    res = await fetch(url, {
      ...init,
      headers: { accept: 'application/json', authorization: `Bearer ${session.token}`, ...(init.headers ?? {}) },
      credentials: 'omit',
      cache: 'no-store',
    });
  } catch (e) {
    throw new ApiProblem(0, 'network', `The review API could not be reached (${e?.message ?? e}); try again.`);
  }
  const body = await res.json().catch(() => null);
  if (!res.ok) {
    const code = body?.error?.code ?? `http_${res.status}`;
    const message = body?.error?.message ?? body?.message ?? `The review API answered ${res.status}`;
    const retryAfter = Number(res.headers.get('retry-after'));
    throw new ApiProblem(
      res.status,
      String(code),
      String(message),
      Number.isFinite(retryAfter) ? retryAfter : undefined,
    );
  }
  return body;
}

/** Shows an API problem; an expired or refused sign-in goes back to the sign-in page. */
function report(e) {
  $('loading').hidden = true;
  if (e instanceof ApiProblem && e.status === 401) {
    saveSession(null);
    problem('Your sign-in has expired or was refused; sign in again.');
    route();
    return;
  }
  const code = e instanceof ApiProblem ? ` (${e.code})` : '';
  problem(`${e?.message ?? e}${code}`);
}

// ---------------------------------------------------------------------------------------------------------------
// Routes: #/ tenants, #/t/<tenant>[?decided], #/t/<tenant>/r/<reviewId>

function parseHash() {
  const h = location.hash.replace(/^#/, '');
  const m = /^\/t\/([^/?]+)(?:\/r\/([^/?]+))?(\?decided)?$/.exec(h);
  if (!m) return { page: 'tenants' };
  const tenantId = decodeURIComponent(m[1]);
  const reviewId = m[2] ? decodeURIComponent(m[2]) : undefined;
  if (!TENANT_ID.test(tenantId) || (reviewId !== undefined && !REVIEW_ID.test(reviewId))) return { page: 'tenants' };
  if (reviewId) return { page: 'review', tenantId, reviewId };
  return { page: 'list', tenantId, listing: m[3] ? 'decided' : 'pending' };
}

const listHref = (tenantId, listing = 'pending') =>
  `#/t/${encodeURIComponent(tenantId)}${listing === 'decided' ? '?decided' : ''}`;
const reviewHref = (tenantId, reviewId) => `#/t/${encodeURIComponent(tenantId)}/r/${encodeURIComponent(reviewId)}`;

function crumbs(items) {
  const nav = $('crumbs');
  nav.replaceChildren();
  items.forEach(([label, href], i) => {
    if (i) nav.append(el('span', { class: 'sep', 'aria-hidden': 'true', text: '›' }));
    nav.append(href ? el('a', { href, text: label }) : el('span', { 'aria-current': 'page', text: label }));
  });
}

let current = { page: 'none' };

/** Shows the page the address names (a problem already on the page stays: navigating clears it). */
async function route() {
  if (!session) {
    current = { page: 'sign-in' };
    crumbs([]);
    return renderSignIn();
  }
  current = parseHash();
  if (current.page === 'tenants') return renderTenants();
  const tenant = tenantById(current.tenantId);
  if (!tenant) {
    problem(`You may not review tenant "${current.tenantId}", or it does not exist.`);
    return renderTenants();
  }
  if (current.page === 'list') return renderList(tenant, current.listing, { focus: true });
  return renderReview(tenant, current.reviewId);
}

// ---------------------------------------------------------------------------------------------------------------
// Sign in

function renderSignIn() {
  show('view-sign-in');
  const kind = config?.signIn?.kind;
  $('dev-sign-in').hidden = kind !== 'dev';
  $('cognito-sign-in').hidden = kind !== 'cognito';
  if (kind !== 'dev' && kind !== 'cognito') problem('This console has no sign-in configured (config.json).');
  (kind === 'cognito' ? $('cognito-go') : $('reviewer-name')).focus();
}

async function devSignIn(event) {
  event.preventDefault();
  const reviewer = $('reviewer-name').value.trim();
  if (!reviewer) return problem('Enter your name: it is recorded with each decision.');
  try {
    const res = await fetch(new URL(config.signIn.url, location.href), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ reviewer }),
    });
    const body = await res.json().catch(() => null);
    if (!res.ok || typeof body?.token !== 'string') {
      return problem(body?.error?.message ?? `Sign-in failed (${res.status})`);
    }
    saveSession({ token: body.token, reviewer: String(body.reviewer ?? reviewer), kind: 'dev' });
    problem(null);
    // A link to a review (or a tenant) opened before signing in leads there now.
    await route();
  } catch (e) {
    problem(`Sign-in failed: ${e?.message ?? e}`);
  }
}

function b64url(bytes) {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Cognito managed login, authorization code with PKCE: no client secret in the page. */
async function cognitoSignIn() {
  const c = config.signIn;
  const verifier = b64url(crypto.getRandomValues(new Uint8Array(32)));
  const state = b64url(crypto.getRandomValues(new Uint8Array(16)));
  const challenge = b64url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
  sessionStorage.setItem(PKCE_KEY, JSON.stringify({ verifier, state }));
  const url = new URL('/oauth2/authorize', c.domain);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: c.clientId,
    redirect_uri: c.redirectUri,
    scope: 'openid email',
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  }).toString();
  location.assign(url.toString());
}

/** Back from Cognito with ?code=&state=: swaps the code for tokens, keeps the ID token (its groups name tenants). */
async function cognitoReturn() {
  const q = new URLSearchParams(location.search);
  const code = q.get('code');
  if (!code) return;
  const saved = JSON.parse(sessionStorage.getItem(PKCE_KEY) ?? 'null');
  sessionStorage.removeItem(PKCE_KEY);
  history.replaceState(null, '', location.pathname);
  if (!saved || saved.state !== q.get('state')) return problem('Sign-in could not be completed; try again.');
  const c = config.signIn;
  const res = await fetch(new URL('/oauth2/token', c.domain), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      client_id: c.clientId,
      code,
      redirect_uri: c.redirectUri,
      code_verifier: saved.verifier,
    }),
  });
  const body = await res.json().catch(() => null);
  if (!res.ok || typeof body?.id_token !== 'string') return problem('Sign-in could not be completed; try again.');
  const claims = jwtClaims(body.id_token);
  saveSession({
    token: body.id_token,
    reviewer: String(claims.email ?? claims['cognito:username'] ?? 'reviewer'),
    kind: 'cognito',
    expiresAt: typeof claims.exp === 'number' ? claims.exp * 1000 : Date.now() + 3600_000,
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Tenants

function renderTenants() {
  show('view-tenants');
  crumbs([['Tenants']]);
  const list = $('tenant-list');
  list.replaceChildren();
  const tenants = reviewableTenants();
  if (tenants.length === 0) {
    list.append(el('li', { class: 'empty', text: 'You may not review any tenant. Ask an administrator to add you.' }));
  }
  for (const t of tenants) {
    const iso = el('span', { class: 'tag', text: t.isolation });
    if (t.reviewApi) {
      list.append(el('li', {}, el('a', { href: listHref(t.id), class: 'tenant' }, el('strong', { text: t.id }), iso)));
    } else {
      list.append(
        el(
          'li',
          { class: 'tenant unavailable' },
          el('strong', { text: t.id }),
          iso,
          el('span', { class: 'hint', text: "no human review: this tenant's answers never go to a person" }),
        ),
      );
    }
  }
  $('main').focus();
}

// ---------------------------------------------------------------------------------------------------------------
// Listing

let listState = null;

/** Loads a page of the listing; `append` adds the next page, `focus` moves the focus to the page (navigation). */
async function renderList(tenant, listing, { append = false, focus = false } = {}) {
  crumbs([
    ['Tenants', '#/'],
    [tenant.id, listing === 'decided' ? listHref(tenant.id) : undefined],
    ...(listing === 'decided' ? [['Decided']] : []),
  ]);
  problem(null);
  if (!append) {
    listState = { tenant, listing, next: null, reviews: [] };
    $('loading').hidden = false;
  }
  const url = new URL(tenant.reviewApi);
  url.searchParams.set('status', listing);
  url.searchParams.set('limit', String(PAGE));
  if (append && listState.next) url.searchParams.set('cursor', listState.next);
  let page;
  try {
    page = await api(url);
  } catch (e) {
    show('view-list');
    return report(e);
  }
  if (current.page !== 'list' || current.tenantId !== tenant.id) return; // navigated away meanwhile
  listState.reviews.push(...(Array.isArray(page?.reviews) ? page.reviews : []));
  listState.next = typeof page?.next === 'string' ? page.next : null;
  show('view-list');
  drawList();
  if (focus) $('main').focus();
}

function drawList() {
  const { tenant, listing, reviews, next } = listState;
  const pending = listing === 'pending';
  $('list-title').textContent = `${pending ? 'Pending reviews' : 'Decided reviews'} of ${tenant.id}`;
  $('tab-pending').href = listHref(tenant.id, 'pending');
  $('tab-decided').href = listHref(tenant.id, 'decided');
  $(pending ? 'tab-pending' : 'tab-decided').setAttribute('aria-current', 'page');
  $(pending ? 'tab-decided' : 'tab-pending').removeAttribute('aria-current');
  $('col-expiry').textContent = pending ? 'Expires' : 'Decided';
  $('review-caption').textContent = pending
    ? `${reviews.length} review${reviews.length === 1 ? '' : 's'} waiting, oldest first.`
    : `${reviews.length} decided review${reviews.length === 1 ? '' : 's'}, in the order they were decided.`;
  const rows = $('review-rows');
  rows.replaceChildren();
  for (const r of reviews) {
    if (!REVIEW_ID.test(String(r.reviewId))) continue;
    const first = r.input?.messages?.[0]?.content ?? '';
    const when = pending
      ? r.expiresBy
        ? timeEl(r.expiresBy, untilText(r.expiresBy))
        : el('span', { text: '—' })
      : el('span', {}, `${r.status} `, timeEl(r.decision?.decidedAt, ago(r.decision?.decidedAt)));
    rows.append(
      el(
        'tr',
        {},
        el('td', {}, el('a', { href: reviewHref(tenant.id, r.reviewId), text: r.reviewId })),
        el('td', {}, timeEl(r.createdAt, span(Date.now() - Date.parse(r.createdAt)))),
        el('td', {}, when),
        el('td', { text: `${r.tier} · ${r.modelId}` }),
        el('td', { class: 'num', text: pct(r.confidence) }),
        el('td', { text: clip(r.reason ?? '—', 80) }),
        el('td', { class: 'clip', title: clip(first, 400), text: clip(first, 90) }),
      ),
    );
  }
  $('review-table').hidden = reviews.length === 0;
  $('list-empty').hidden = reviews.length > 0;
  $('list-empty').textContent = pending
    ? 'No review is waiting. Requests whose answer needs a person appear here.'
    : 'No review has been decided yet.';
  $('more').hidden = !next;
}

// ---------------------------------------------------------------------------------------------------------------
// One review

let reviewState = null;

async function renderReview(tenant, reviewId, outcome) {
  crumbs([['Tenants', '#/'], [tenant.id, listHref(tenant.id)], [reviewId]]);
  problem(null);
  $('loading').hidden = false;
  let r;
  try {
    r = await api(`${tenant.reviewApi}/${encodeURIComponent(reviewId)}`);
  } catch (e) {
    show('view-review');
    $('decision').hidden = true;
    $('outcome').hidden = true;
    return report(e);
  }
  if (current.page !== 'review' || current.reviewId !== reviewId) return;
  reviewState = { tenant, review: r };
  show('view-review');
  drawReview(r, outcome);
}

function fact(dl, term, ...value) {
  dl.append(el('dt', { text: term }), el('dd', {}, ...value));
}

function drawReview(r, outcome) {
  $('review-title').textContent = `Review ${r.reviewId}`;
  $('back').href = listHref(reviewState.tenant.id, r.status === 'pending' ? 'pending' : 'decided');

  const facts = $('review-facts');
  facts.replaceChildren();
  fact(facts, 'Status', el('span', { class: `status status-${r.status}`, text: r.status }));
  fact(facts, 'Request', el('code', { text: r.requestId }));
  fact(facts, r.status === 'pending' ? 'Waiting since' : 'Created', timeEl(r.createdAt, ago(r.createdAt)));
  if (r.status === 'pending') {
    fact(facts, 'Expires', r.expiresBy ? timeEl(r.expiresBy, untilText(r.expiresBy)) : '—');
  }
  fact(facts, 'Answer by', `${r.tier} · ${r.modelId}`);
  fact(facts, 'Confidence', pct(r.confidence));
  fact(facts, 'Route', r.routeReason ?? '—');
  fact(facts, 'Why it needs review', r.reason ?? '—');

  // The request: system text and messages, as text.
  const msgs = $('request-messages');
  msgs.replaceChildren();
  if (r.input?.system) {
    msgs.append(el('h3', { text: 'System' }), el('pre', { class: 'text system', text: r.input.system }));
  }
  for (const m of r.input?.messages ?? []) {
    msgs.append(
      el('h3', { text: m.role === 'assistant' ? 'Assistant' : 'User' }),
      el('pre', { class: 'text', text: m.content }),
    );
  }
  if (r.input?.omittedChars) {
    msgs.append(
      el('p', { class: 'hint', text: `${r.input.omittedChars} characters of the request were left out of this copy.` }),
    );
  }
  $('proposed').textContent = r.proposedAnswer ?? '';

  const rows = $('attempt-rows');
  rows.replaceChildren();
  (r.attempts ?? []).forEach((a, i) => {
    const signals = Array.isArray(a.signals) && a.signals.length ? a.signals.join(', ') : 'none';
    rows.append(
      el(
        'tr',
        {},
        el('td', { class: 'num', text: i + 1 }),
        el('td', { text: a.reason ?? '—' }),
        el('td', { text: a.tier }),
        el('td', {}, el('code', { text: a.modelId })),
        el('td', { text: a.errorCode ? `${a.outcome} (${a.errorCode})` : (a.outcome ?? '—') }),
        el('td', { class: 'num', text: pct(a.confidence) }),
        el('td', { text: a.stopReason ? `${signals} · stop: ${a.stopReason}` : signals }),
        el('td', { class: 'num', text: `${a.inputTokens ?? '—'} / ${a.outputTokens ?? '—'}` }),
        el('td', { class: 'num', text: typeof a.latencyMs === 'number' ? `${a.latencyMs} ms` : '—' }),
        el('td', { class: 'num', text: usd(a.costUsd) }),
      ),
    );
  });

  const decided = r.status !== 'pending';
  $('decision').hidden = decided;
  $('outcome').hidden = !decided;
  if (decided) drawOutcome(r, outcome);
  else {
    $('answer').value = r.proposedAnswer ?? '';
    $('note').value = '';
    editState();
  }
  $('main').focus();
}

function drawOutcome(r, outcome) {
  const d = r.decision ?? {};
  const facts = $('outcome-facts');
  facts.replaceChildren();
  fact(facts, 'Decision', el('span', { class: `status status-${r.status}`, text: r.status }));
  if (d.reviewer) fact(facts, 'By', d.reviewer);
  if (d.decidedAt) fact(facts, 'At', timeEl(d.decidedAt, `${ago(d.decidedAt)} (${d.decidedAt})`));
  if (d.note) fact(facts, 'Note', d.note);
  if (outcome && outcome.resumed === false) {
    fact(facts, 'Workflow', outcome.retry ?? 'not resumed yet; send the same decision again');
  }
  const released = typeof d.finalAnswer === 'string';
  $('final-answer-title').textContent = released ? 'Answer released to the caller' : 'No answer released';
  $('final-answer').hidden = !released;
  $('final-answer').textContent = released ? d.finalAnswer : '';
}

/** Whether the answer box differs from the model's answer: approving then sends the edit. */
function edited() {
  return reviewState && $('answer').value !== (reviewState.review.proposedAnswer ?? '');
}

function editState() {
  const e = edited();
  $('approve').textContent = e ? 'Approve with my edit' : 'Approve';
  $('edit-state').textContent = e
    ? 'You changed the answer: approving releases your edited answer.'
    : "Unchanged: approving releases the model's answer as it is.";
  $('reset-answer').disabled = !e;
}

let deciding = false;

/**
 * Sends a decision. A review opened just after it was created may not wait for a decision yet
 * (`review_not_ready`, with Retry-After): the same decision is sent again a few times, saying so on the page.
 */
async function sendDecision(tenant, reviewId, body) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await api(`${tenant.reviewApi}/${encodeURIComponent(reviewId)}/decision`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    } catch (e) {
      if (!(e instanceof ApiProblem) || e.code !== 'review_not_ready' || attempt >= 5) throw e;
      notice(`The review is not waiting for a decision yet; sending it again (${attempt} of 4)…`);
      await sleep(Math.min(10, Math.max(1, e.retryAfter ?? 2)) * 1000);
    }
  }
}

async function decide(action) {
  if (deciding || !reviewState || reviewState.review.status !== 'pending') return;
  const { tenant, review } = reviewState;
  const note = $('note').value.trim();
  const body = { action, reviewer: session.reviewer, ...(note ? { note } : {}) };
  if (action === 'approve' && edited()) {
    const answer = $('answer').value;
    if (!answer.trim()) return problem('The edited answer is empty: write an answer, undo your edits, or reject.');
    body.action = 'edit';
    body.answer = answer;
  }
  deciding = true;
  problem(null);
  for (const b of $('decision').querySelectorAll('button')) b.disabled = true;
  try {
    const outcome = await sendDecision(tenant, review.reviewId, body);
    notice(
      `${outcome.status === 'rejected' ? 'Rejected' : outcome.status === 'edited' ? 'Approved with your edit' : 'Approved'}: review ${outcome.reviewId}, request ${outcome.requestId}.`,
    );
    await renderReview(tenant, review.reviewId, outcome);
  } catch (e) {
    report(e);
  } finally {
    deciding = false;
    for (const b of $('decision').querySelectorAll('button')) b.disabled = false;
    if (!$('decision').hidden) editState();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Keyboard

function typing(target) {
  return (
    target instanceof HTMLElement && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))
  );
}

function onKey(e) {
  if (e.defaultPrevented || e.altKey || e.metaKey) return;
  if (current.page === 'review' && !$('decision').hidden && e.ctrlKey && e.key === 'Enter') {
    e.preventDefault();
    return decide('approve');
  }
  if (e.ctrlKey || typing(e.target)) return;
  const key = e.key.toLowerCase();
  if (current.page === 'review') {
    if (key === 'escape') location.hash = $('back').getAttribute('href');
    // A decision cannot be taken back: a single key only moves to the button, Enter (or Space) presses it.
    else if (!$('decision').hidden && key === 'a') $('approve').focus();
    else if (!$('decision').hidden && key === 'x') $('reject').focus();
    else if (!$('decision').hidden && key === 'e') $('answer').focus();
    else if (!$('decision').hidden && key === 'n') $('note').focus();
    else return;
    e.preventDefault();
  } else if (current.page === 'list' && key === 'r') {
    e.preventDefault();
    renderList(listState.tenant, listState.listing);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Start

async function start() {
  try {
    const res = await fetch('config.json', { cache: 'no-store' });
    if (!res.ok) throw new Error(`config.json answered ${res.status}`);
    config = await res.json();
  } catch (e) {
    problem(`The console's configuration could not be read (${e?.message ?? e}).`);
    return;
  }
  if (config?.signIn?.kind === 'cognito') await cognitoReturn().catch((e) => problem(`Sign-in failed: ${e?.message}`));
  saveSession(session ?? loadSession());

  $('dev-sign-in').addEventListener('submit', devSignIn);
  $('cognito-go').addEventListener('click', () => cognitoSignIn().catch((e) => problem(String(e?.message ?? e))));
  $('sign-out').addEventListener('click', () => {
    saveSession(null);
    notice('Signed out.');
    location.hash = '#/';
    route();
  });
  $('decision').addEventListener('submit', (e) => {
    e.preventDefault();
    decide(e.submitter?.value === 'reject' ? 'reject' : 'approve');
  });
  $('answer').addEventListener('input', editState);
  $('reset-answer').addEventListener('click', () => {
    $('answer').value = reviewState?.review.proposedAnswer ?? '';
    editState();
    $('answer').focus();
  });
  $('refresh').addEventListener('click', () => renderList(listState.tenant, listState.listing));
  $('more').addEventListener('click', () => renderList(listState.tenant, listState.listing, { append: true }));
  window.addEventListener('hashchange', () => {
    notice(null);
    problem(null);
    route();
  });
  document.addEventListener('keydown', onKey);
  await route();
}

start();
