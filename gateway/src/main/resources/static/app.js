import { createStopState } from './stop-state.js';

// The page: everything about the open conversation comes from its WebSocket
// (/v1/conversation/{id}/stream), so every tab and a reloaded page show the same thing.
const $ = (id) => document.getElementById(id);
let token = localStorage.getItem('stopline.token');
let conversationId = null;
let socket = null;
let connecting = null; // the connect() waiting for its ticket, if any
let retryDelay = 500;
const lastToken = new Map(); // run id -> index of the last token shown
const json = { 'Content-Type': 'application/json' };
const auth = () => ({ Authorization: `Bearer ${token}`, ...json });
const post = (path, body) => fetch(path, { method: 'POST', headers: auth(), body: body && JSON.stringify(body) });

const stopState = createStopState((state) => {
  const stop = $('stop');
  stop.hidden = !stopState.showStopButton();
  stop.disabled = false;
  stop.setAttribute('aria-busy', String(state.phase === 'stopping' || state.phase === 'requested'));
  stop.textContent = state.phase === 'stopping' ? 'Stopping…' : state.phase === 'requested' ? 'Stop requested…' : 'Stop';
  const pause = $('pause');
  pause.hidden = state.phase !== 'active';
  pause.textContent = state.paused ? 'Resume' : 'Pause';
  $('send').disabled = state.phase !== 'idle';
  $('status').textContent = state.message || (state.paused ? 'Paused.' : '');
  $('status').className = state.error ? 'error' : '';
});

// ---- sign in ----------------------------------------------------------------------------------
$('signin').addEventListener('submit', async (event) => {
  event.preventDefault();
  const response = await fetch('/v1/auth/dev-token', {
    method: 'POST', headers: json, body: JSON.stringify({ user: $('user').value }),
  }).catch(() => null);
  if (!response || !response.ok) { $('whoami').textContent = 'Sign-in failed (dev tokens off?)'; return; }
  token = (await response.json()).token;
  localStorage.setItem('stopline.token', token);
  localStorage.setItem('stopline.user', $('user').value);
  $('whoami').textContent = `Signed in as ${$('user').value}`;
  refreshConversations();
  refreshActive();
  if (conversationId) connect(conversationId);
});

// ---- messages ---------------------------------------------------------------------------------
function messageItem(message) {
  const li = document.createElement('li');
  li.className = `${message.role} ${message.status || ''}`;
  if (message.run_id) li.dataset.run = message.run_id;
  li.dataset.role = message.role;
  const text = document.createElement('span');
  text.className = 'text';
  text.textContent = message.content;
  li.append(text);
  if (['stopped', 'interrupted', 'failed'].includes(message.status) && message.role === 'assistant') {
    const marker = document.createElement('span');
    marker.className = 'marker';
    marker.textContent = message.status;
    li.append(marker);
  }
  return li;
}

const find = (runId, role) => $('messages').querySelector(`li[data-run="${CSS.escape(runId)}"][data-role="${role}"]`);

function showMessage(message) {
  const existing = message.run_id && find(message.run_id, message.role);
  if (existing && (message.role !== 'system' || existing.textContent === message.content)) {
    if (message.role === 'assistant' && message.status !== 'streaming') existing.replaceWith(messageItem(message));
    return;
  }
  $('messages').append(messageItem(message));
}

function streamingAnswer(runId) {
  let answer = find(runId, 'assistant');
  if (!answer) {
    answer = messageItem({ role: 'assistant', content: '', status: 'streaming', run_id: runId });
    $('messages').append(answer);
  }
  return answer;
}

function finish(event, status) {
  const answer = streamingAnswer(event.run_id);
  answer.replaceWith(messageItem({ role: 'assistant', content: event.content ?? answer.textContent, status,
    run_id: event.run_id }));
}

function onEvent(event) {
  stopState.onEvent(event);
  switch (event.type) {
    case 'state':
      $('messages').replaceChildren();
      event.messages.forEach(showMessage);
      if (event.active_run) streamingAnswer(event.active_run.run_id);
      break;
    case 'message_added': showMessage(event.message); break;
    case 'run_started': streamingAnswer(event.run_id); break;
    case 'run_snapshot': {
      // the answer so far, for a view that joined mid-run; tokens continue at index `tokens`
      streamingAnswer(event.run_id).querySelector('.text').textContent = event.content;
      lastToken.set(event.run_id, Math.max(lastToken.get(event.run_id) ?? -1, event.tokens - 1));
      break;
    }
    case 'token': {
      // a frame of `count` tokens starting at `index`; one already shown (a repeat after the state) is skipped
      if ((lastToken.get(event.run_id) ?? -1) >= event.index) break;
      lastToken.set(event.run_id, event.index + (event.count ?? 1) - 1);
      streamingAnswer(event.run_id).querySelector('.text').textContent += event.delta;
      break;
    }
    case 'run_stopped': finish(event, 'stopped'); break;
    case 'run_completed': finish(event, 'complete'); break;
    case 'run_failed': finish(event, 'failed'); break;
    default:
  }
  if (event.type.startsWith('run_')) { refreshActive(); refreshConversations(); }
}

// ---- the conversation's socket ----------------------------------------------------------------
// The socket's URL carries a single-use ticket (POST /v1/stream-tickets, valid ~30 s), never the token itself:
// URLs end up in proxy logs. Null when the gateway refuses one (401: sign in again); throws when unreachable.
async function streamUrl(id) {
  const response = await post('/v1/stream-tickets', { conversation_id: id });
  if (response.status === 401 || response.status === 403) return null;
  if (!response.ok) throw new Error(`stream ticket: ${response.status}`);
  const { ticket } = await response.json();
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  return `${scheme}://${location.host}/v1/conversation/${encodeURIComponent(id)}/stream?ticket=${encodeURIComponent(ticket)}`;
}

async function connect(id) {
  if (socket) { socket.onclose = null; socket.close(); socket = null; }
  $('connection').textContent = 'connecting…';
  const attempt = Symbol('connect');
  connecting = attempt;
  const url = await streamUrl(id).catch(() => undefined);
  if (connecting !== attempt) return; // a newer connect() took over while the ticket was on its way
  connecting = null;
  if (conversationId !== id) return;
  if (url === null) { $('connection').textContent = 'not available (sign in again?)'; return; }
  if (url === undefined) { reconnectLater(id); return; }
  const ws = new WebSocket(url);
  socket = ws;
  ws.onopen = () => { $('connection').textContent = 'live'; retryDelay = 500; };
  ws.onmessage = (message) => onEvent(JSON.parse(message.data));
  ws.onclose = (close) => {
    if (socket !== ws) return;
    socket = null;
    if (close.code === 1008) { $('connection').textContent = 'not available (sign in again?)'; return; }
    reconnectLater(id);
  };
}

function reconnectLater(id) {
  $('connection').textContent = 'reconnecting…';
  // back off up to 10 s: a server that refuses the socket (origin, proxy) is not hammered
  setTimeout(() => { if (conversationId === id && !socket && !connecting) connect(id); }, retryDelay);
  retryDelay = Math.min(retryDelay * 2, 10000);
}

function open(id) {
  conversationId = id;
  lastToken.clear();
  $('conversation-id').textContent = id ? `Conversation ${id}` : 'New conversation';
  $('messages').replaceChildren();
  stopState.onEvent({ type: 'state', active_run: null });
  if (socket) { socket.onclose = null; socket.close(); socket = null; }
  $('connection').textContent = '';
  if (id && token) connect(id);
  document.querySelectorAll('#conversations button').forEach((b) => b.setAttribute('aria-current', String(b.dataset.id === id)));
}

window.addEventListener('hashchange', () => open(location.hash.slice(1) || null));
$('new-conversation').addEventListener('click', () => { location.hash = ''; open(null); $('prompt').focus(); });

// ---- send, stop, pause ------------------------------------------------------------------------
$('composer').addEventListener('submit', async (event) => {
  event.preventDefault();
  if (!token) { $('status').textContent = 'Sign in first.'; return; }
  const id = conversationId || `c-${crypto.randomUUID()}`;
  const body = { model: $('agent').value, stream: true, max_tokens: 400, conversation_id: id,
    messages: [{ role: 'user', content: $('prompt').value }] };
  const abort = new AbortController();
  let response;
  try {
    response = await fetch('/v1/chat/completions', { method: 'POST', headers: auth(), body: JSON.stringify(body), signal: abort.signal });
  } catch (error) {
    $('status').textContent = 'The server could not be reached.';
    return;
  }
  if (!response.ok) {
    const problem = await response.json().catch(() => ({}));
    $('status').textContent = problem.detail || `Request failed (${response.status})`;
    $('status').className = 'error';
    return;
  }
  // The run is reserved: the conversation's socket carries everything from here on. Leaving the
  // HTTP stream does not stop the run.
  abort.abort();
  $('prompt').value = '';
  if (conversationId !== id) { history.replaceState(null, '', `#${id}`); open(id); }
  else if (!socket) connect(id);
});

$('stop').addEventListener('click', () => stopState.stop(conversationId,
  (id) => post(`/v1/conversation/${encodeURIComponent(id)}/stop`)));

$('pause').addEventListener('click', async () => {
  const action = stopState.get().paused ? 'resume' : 'pause';
  const response = await post(`/v1/conversation/${encodeURIComponent(conversationId)}/${action}`).catch(() => null);
  if (!response || !response.ok) $('status').textContent = `Could not ${action} (${response ? response.status : 'network error'}).`;
});

// ---- conversations and the active panel -------------------------------------------------------
async function refreshConversations() {
  if (!token) return;
  const response = await fetch('/v1/conversations?limit=30', { headers: auth() }).catch(() => null);
  if (!response || !response.ok) return;
  const list = $('conversations');
  list.replaceChildren();
  for (const c of (await response.json()).conversations) {
    const li = document.createElement('li');
    const button = document.createElement('button');
    button.type = 'button';
    button.dataset.id = c.conversation_id;
    button.textContent = c.title || c.conversation_id;
    button.title = c.conversation_id;
    button.setAttribute('aria-current', String(c.conversation_id === conversationId));
    button.addEventListener('click', () => { location.hash = c.conversation_id; });
    li.append(button);
    if (c.active) {
      const live = document.createElement('span');
      live.className = 'live';
      live.textContent = '● running';
      li.append(live);
    }
    list.append(li);
  }
}

async function refreshActive() {
  if (!token) return;
  const response = await fetch('/v1/conversations/active', { headers: auth() }).catch(() => null);
  if (!response || !response.ok) return;
  const list = $('active');
  const checked = new Set([...list.querySelectorAll('input:checked')].map((box) => box.value));
  list.replaceChildren();
  for (const run of Object.values((await response.json()).active_conversations)) {
    const li = document.createElement('li');
    const box = document.createElement('input');
    box.type = 'checkbox';
    box.value = run.conversation_id;
    box.checked = checked.has(run.conversation_id);
    box.id = `select-${run.conversation_id}`;
    const label = document.createElement('label');
    label.htmlFor = box.id;
    label.textContent = `${run.conversation_id.slice(0, 14)} · ${run.agent_name} · ${run.state}`;
    const stop = document.createElement('button');
    stop.type = 'button';
    stop.textContent = 'Stop';
    stop.setAttribute('aria-label', `Stop conversation ${run.conversation_id}`);
    stop.addEventListener('click', async () => {
      stop.disabled = true;
      await post(`/v1/conversation/${encodeURIComponent(run.conversation_id)}/stop`).catch(() => null);
      refreshActive();
    });
    li.append(box, label, stop);
    list.append(li);
  }
}

async function bulkStop(body) {
  const response = await post('/v1/conversations/stop', body).catch(() => null);
  $('active-status').textContent = response && response.ok ? (await response.json()).message : 'Stop failed; try again.';
  refreshActive();
}

$('stop-selected').addEventListener('click', () => {
  const ids = [...$('active').querySelectorAll('input:checked')].map((box) => box.value);
  if (ids.length) bulkStop({ conversation_ids: ids });
});
$('stop-all').addEventListener('click', () => $('confirm-stop-all').showModal());
$('confirm-stop-all').addEventListener('close', () => {
  if ($('confirm-stop-all').returnValue === 'ok') bulkStop(null);
});

setInterval(refreshActive, 2000);
if (token) {
  $('whoami').textContent = `Signed in as ${localStorage.getItem('stopline.user') || ''}`;
  refreshConversations();
  refreshActive();
}
open(location.hash.slice(1) || null);
