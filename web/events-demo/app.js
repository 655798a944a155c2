// adcraft events demo (web/events-demo): log in, open one EventSource for the
// user's and a campaign's channels, start a generation, show its progress and
// each item as it arrives. Recovery follows docs/events.md: seq must grow by
// one per channel, else the page refetches the campaign's content over REST;
// a stream the server closes (a refused resume answers 409, an expired cookie
// 401) is reopened with a new events session and no id, then refetched.
// No framework, no build step: served as is by nginx (dev/test only).

const $ = (id) => document.getElementById(id);

const state = {
  token: null,
  campaignId: null,
  source: null,
  lastSeq: {},      // channel ("user" | "campaign") -> last seq seen
  jobId: null,
  running: false,   // a generation was requested and has not ended
  items: new Map(), // item id -> <li>
  reopenDelay: 500,
};

class HttpError extends Error {
  constructor(status, body) {
    super(`${status}: ${body && body.detail ? body.detail : JSON.stringify(body)}`);
    this.status = status;
  }
}

async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (state.token) headers.Authorization = `Bearer ${state.token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const r = await fetch(path, {
    method, headers, credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  const json = text ? JSON.parse(text) : null;
  if (!r.ok) throw new HttpError(r.status, json);
  return json;
}

function showError(e) {
  $('error').hidden = false;
  $('error').textContent = String(e && e.message ? e.message : e);
}

// ---- rendering -------------------------------------------------------------

function headline(item) {
  if (item.subjectLine) return item.subjectLine;
  if (Array.isArray(item.headlines) && item.headlines.length) return item.headlines[0];
  return (item.contentBody || '').split('\n')[0];
}

function renderItem(item) {
  let li = state.items.get(item.id);
  if (!li) {
    li = document.createElement('li');
    state.items.set(item.id, li);
    $('items').append(li);
  }
  li.dataset.id = item.id;
  li.dataset.platform = item.platform;
  li.dataset.contentType = item.contentType;
  li.replaceChildren();
  const meta = document.createElement('div');
  meta.className = 'meta';
  meta.textContent = `${item.platform} · ${item.contentType} · score ${item.qualityScore ?? '?'}`;
  const head = document.createElement('div');
  head.className = 'headline';
  head.textContent = headline(item);
  const body = document.createElement('div');
  body.className = 'body';
  body.textContent = item.contentBody || '';
  li.append(meta, head, body);
}

function setProgress(percent) {
  $('progress').value = percent;
  $('progress-text').textContent = `${percent}%`;
}

function setStatus(text, phase) {
  $('status').textContent = text;
  $('status').dataset.phase = phase;
}

function logEvent(msg, note) {
  const li = document.createElement('li');
  li.dataset.channel = msg.channel;
  li.dataset.seq = msg.seq;
  li.dataset.type = msg.type;
  li.textContent = `${msg.channel} #${msg.seq} ${msg.type}${note ? ` (${note})` : ''}`;
  $('event-log').append(li);
}

// ---- recovery --------------------------------------------------------------

// The campaign's content as the server has it now: replaces what is shown.
// reason null: the first load, not a recovery.
async function resync(reason) {
  const items = [];
  let cursor = null;
  do {
    const q = new URLSearchParams({ limit: '100' });
    if (cursor) q.set('cursor', cursor);
    const page = await api('GET', `/api/campaigns/${state.campaignId}/content?${q}`);
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  state.items.clear();
  $('items').replaceChildren();
  items.forEach(renderItem);
  if (reason === null) return;
  const note = $('resync');
  note.hidden = false;
  note.dataset.count = String(Number(note.dataset.count || 0) + 1);
  note.textContent = `resynced over REST (${reason}): ${items.length} items`;
}

// seq grows by one per channel: a jump means messages were missed.
function checkSeq(msg) {
  const last = state.lastSeq[msg.channel];
  if (last !== undefined && msg.seq <= last) return 'duplicate';
  state.lastSeq[msg.channel] = msg.seq;
  if (last !== undefined && msg.seq !== last + 1) return `gap: ${msg.channel} seq ${last} -> ${msg.seq}`;
  return null;
}

// ---- the stream ------------------------------------------------------------

function finished() {
  state.running = false;
  $('generate').disabled = false;
}

const handlers = {
  'campaign:generation:started': (d) => {
    setProgress(0);
    setStatus(`generating ${d.total} items`, 'started');
  },
  'campaign:generation:progress': (d) => setProgress(d.percent),
  'content:generation:completed': (d) => renderItem(d.item),
  'content:generation:failed': (d) => {
    const li = document.createElement('li');
    li.className = 'failed';
    li.textContent = `${d.platform} · ${d.contentType}: failed: ${d.error}`;
    $('items').append(li);
  },
  'campaign:generation:completed': (d, msg) => {
    const r = d.result || {};
    setStatus(`completed: ${r.generated} generated, ${r.failed} failed`, 'completed');
    $('status').dataset.jobId = msg.jobId || '';
    finished();
  },
  'campaign:generation:failed': (d) => {
    setStatus(`failed: ${d.error}${d.willRetry ? ' (will retry)' : ''}`, d.willRetry ? 'retrying' : 'failed');
    if (!d.willRetry) finished();
  },
  'campaign:generation:cancelled': () => {
    setStatus('cancelled', 'cancelled');
    finished();
  },
};

function onMessage(ev) {
  let msg;
  try {
    msg = JSON.parse(ev.data);
  } catch {
    return; // not one of ours
  }
  const problem = checkSeq(msg);
  logEvent(msg, problem);
  if (problem === 'duplicate') return;
  if (msg.channel === 'campaign' && msg.campaignId !== state.campaignId) return;
  const handle = handlers[msg.type];
  if (handle) handle(msg.data || {}, msg);
  if (problem) resync(problem).catch(showError);
}

function openStream() {
  const es = new EventSource(`/events/user?campaign=${encodeURIComponent(state.campaignId)}`);
  state.source = es;
  $('stream-state').textContent = 'connecting';
  es.onopen = () => {
    $('stream-state').textContent = 'open';
    $('generate').disabled = state.running;
    state.reopenDelay = 500;
  };
  es.onmessage = onMessage;
  es.onerror = () => {
    if (es.readyState !== EventSource.CLOSED) {
      $('stream-state').textContent = 'reconnecting';
      return; // the browser resumes by itself with Last-Event-ID
    }
    // Refused (409: the resume point is gone; 401: the cookie expired):
    // a new session, a new stream without an id, and the state over REST.
    $('stream-state').textContent = 'closed';
    if (state.source !== es) return;
    setTimeout(reopen, state.reopenDelay);
    state.reopenDelay = Math.min(state.reopenDelay * 2, 30000);
  };
}

async function reopen() {
  try {
    await api('POST', '/api/events/session');
    state.lastSeq = {};
    openStream();
    await resync('the stream was closed and reopened');
  } catch (e) {
    showError(e);
    setTimeout(reopen, state.reopenDelay);
  }
}

// ---- the forms -------------------------------------------------------------

async function login(ev) {
  ev.preventDefault();
  $('error').hidden = true;
  $('login-button').disabled = true;
  try {
    const auth = await api('POST', '/api/auth/login', { email: $('email').value, password: $('password').value });
    state.token = auth.accessToken;
    await api('POST', '/api/events/session');
    state.campaignId = $('campaign').value.trim() || (await api('POST', '/api/campaigns', {
      name: 'Live generation demo',
      description: 'A campaign made by the events demo page.',
      objective: 'awareness',
      keywords: 'automation, follow-ups',
      generationSettings: {
        contentTypes: ['email', 'social_post', 'ad_copy'],
        platforms: ['email', 'linkedin', 'twitter', 'google_ads'],
        variations: 1,
      },
    })).id;
    $('campaign-id').textContent = state.campaignId;
    $('login').hidden = true;
    $('live').hidden = false;
    openStream();
    await resync(null);
  } catch (e) {
    $('login-button').disabled = false;
    showError(e);
  }
}

async function generate() {
  $('generate').disabled = true;
  state.running = true;
  $('error').hidden = true;
  setProgress(0);
  setStatus('queued', 'queued');
  try {
    const r = await api('POST', `/api/jobs/campaigns/${state.campaignId}/generate`);
    state.jobId = r.job.id;
    $('status').dataset.requestedJobId = r.job.id;
  } catch (e) {
    finished();
    setStatus('', 'idle');
    showError(e);
  }
}

$('login').addEventListener('submit', login);
$('generate').addEventListener('click', generate);
