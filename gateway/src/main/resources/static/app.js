import { createStopState } from './stop-state.js';
import { renderMarkdown } from './markdown.js';

// The page: everything about the open conversation comes from its WebSocket
// (/v1/conversation/{id}/stream), so every tab and a reloaded page show the same thing.
const $ = (id) => document.getElementById(id);
const MAX_MESSAGE = 100000; // the gateway's limit on a message's content
let token = localStorage.getItem('stopline.token');
let userName = localStorage.getItem('stopline.user');
let conversationId = null;
let socket = null;
let connecting = null; // the connect() waiting for its ticket, if any
let retryDelay = 500;
let sending = false;
let lastPrompt = null;
let lastEventType = null; // the failure of an answer shows in its bubble, not twice
const nextToken = new Map(); // run id -> index of the next token to show
const answerText = new Map(); // run id -> the Markdown received so far
const titles = new Map(); // conversation id -> title, for the active panel
const json = { 'Content-Type': 'application/json' };
const auth = () => ({ Authorization: `Bearer ${token}`, ...json });
const post = (path, body) => fetch(path, { method: 'POST', headers: auth(), body: body && JSON.stringify(body) });

// Screen readers hear stopping, stopped and errors once, from one polite live region.
function announce(text) {
  const announcer = $('announcer');
  announcer.textContent = '';
  if (text) requestAnimationFrame(() => { announcer.textContent = text; });
}

function showStatus(text, error = false) {
  $('status').textContent = text;
  $('status').className = error ? 'error' : '';
}

const stopState = createStopState((state) => {
  const stop = $('stop');
  const running = stopState.showStopButton();
  // Stop takes Send's place while a run is active
  stop.hidden = !running;
  $('send').hidden = running;
  stop.setAttribute('aria-busy', String(state.phase === 'stopping' || state.phase === 'requested'));
  stop.textContent = state.phase === 'stopping' ? 'Stopping…' : state.phase === 'requested' ? 'Stop requested…' : 'Stop';
  const pause = $('pause');
  pause.hidden = state.phase !== 'active';
  pause.textContent = state.paused ? 'Resume' : 'Pause';
  $('send').disabled = sending;
  // the stop itself shows once, in the answer's bubble; the status line keeps what needs a word
  const quiet = !state.error && (/^Stopped/.test(state.message || '') || lastEventType === 'run_failed');
  showStatus(quiet ? '' : state.message || (state.paused ? 'Paused.' : ''), state.error);
  if (state.message) announce(state.message);
  if (running && document.activeElement === $('send')) $('prompt').focus();
});

// ---- sign in and out --------------------------------------------------------------------------
function clearScreen() {
  if (socket) { socket.onclose = null; socket.close(); socket = null; }
  connecting = null;
  conversationId = null;
  nextToken.clear();
  answerText.clear();
  titles.clear();
  $('messages').replaceChildren();
  $('conversations').replaceChildren();
  $('active').replaceChildren();
  $('active-status').textContent = '';
  $('conversation-id').textContent = '';
  $('connection').textContent = '';
  $('prompt-hint').textContent = '';
  showStatus('');
  stopState.onEvent({ type: 'state', active_run: null });
  if (location.hash) history.replaceState(null, '', location.pathname);
}

function showSignedIn() {
  const signedIn = Boolean(token);
  $('signin').hidden = signedIn;
  $('signout').hidden = !signedIn;
  $('whoami').textContent = signedIn ? `Signed in as ${userName}` : '';
  if (userName) $('user').value = userName;
}

$('signin').addEventListener('submit', async (event) => {
  event.preventDefault();
  const name = $('user').value.trim();
  if (!name) { $('whoami').textContent = 'Enter a user name.'; return; }
  const response = await fetch('/v1/auth/dev-token', {
    method: 'POST', headers: json, body: JSON.stringify({ user: name }),
  }).catch(() => null);
  if (!response || !response.ok) { $('whoami').textContent = 'Sign-in failed (development sign-in is off?)'; return; }
  // another user: nothing of the previous one stays on screen
  if (name !== userName) clearScreen();
  token = (await response.json()).token;
  userName = name;
  localStorage.setItem('stopline.token', token);
  localStorage.setItem('stopline.user', name);
  showSignedIn();
  showStatus('');
  loadAgents();
  refreshConversations();
  refreshActive();
  open(location.hash.slice(1) || null);
  $('prompt').focus();
});

$('signout').addEventListener('click', () => {
  token = null;
  userName = null;
  localStorage.removeItem('stopline.token');
  localStorage.removeItem('stopline.user');
  clearScreen();
  showSignedIn();
  $('user').value = '';
  $('user').focus();
});

// another tab signed in or out: follow it
window.addEventListener('storage', (event) => {
  if (event.key !== 'stopline.token') return;
  token = event.newValue;
  const previous = userName;
  userName = localStorage.getItem('stopline.user');
  if (previous !== userName || !token) clearScreen();
  showSignedIn();
  if (token) { refreshConversations(); refreshActive(); }
});

// ---- agents -----------------------------------------------------------------------------------
async function loadAgents() {
  if (!token) return;
  const response = await fetch('/v1/agents', { headers: auth() }).catch(() => null);
  if (!response || !response.ok) return;
  const select = $('agent');
  const chosen = select.value;
  select.replaceChildren(...(await response.json()).agents.map(({ name }) => new Option(name, name)));
  if ([...select.options].some((o) => o.value === chosen)) select.value = chosen;
}

// ---- messages ---------------------------------------------------------------------------------
const pane = $('pane');
let following = true; // the pane follows the answer unless the user scrolled up

function atBottom() { return pane.scrollHeight - pane.scrollTop - pane.clientHeight < 48; }
pane.addEventListener('scroll', () => {
  following = atBottom();
  if (following) $('jump').hidden = true;
});
$('jump').addEventListener('click', () => { following = true; scrollToEnd(); $('prompt').focus(); });
function scrollToEnd() { pane.scrollTop = pane.scrollHeight; $('jump').hidden = true; }
function contentChanged() {
  if (following) scrollToEnd();
  else $('jump').hidden = false;
}

function messageItem(message) {
  const li = document.createElement('li');
  li.className = `${message.role} ${message.status || ''}`;
  if (message.run_id) li.dataset.run = message.run_id;
  li.dataset.role = message.role;
  const text = document.createElement('div');
  text.className = 'text';
  if (message.role === 'assistant') renderMarkdown(text, message.content);
  else text.textContent = message.content;
  li.append(text);
  if (message.role === 'assistant' && ['stopped', 'interrupted', 'failed'].includes(message.status)) {
    const marker = document.createElement('span');
    marker.className = 'marker';
    marker.textContent = message.status;
    li.append(marker);
  }
  if (message.role === 'assistant' && ['failed', 'interrupted'].includes(message.status)) {
    const error = document.createElement('p');
    error.className = 'error-text';
    error.textContent = message.error || 'The answer failed.';
    const retry = document.createElement('button');
    retry.type = 'button';
    retry.className = 'retry';
    retry.textContent = 'Retry';
    retry.addEventListener('click', () => retryRun(message.run_id));
    error.append(retry);
    li.append(error);
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
    answer = messageItem({ role: 'assistant', content: answerText.get(runId) ?? '', status: 'streaming', run_id: runId });
    $('messages').append(answer);
  }
  return answer;
}

// Markdown is re-rendered as text arrives, at most once a frame
const pendingRender = new Set();
function renderSoon(runId) {
  if (pendingRender.has(runId)) return;
  pendingRender.add(runId);
  requestAnimationFrame(() => {
    pendingRender.delete(runId);
    const answer = find(runId, 'assistant');
    if (answer && answer.classList.contains('streaming')) {
      renderMarkdown(answer.querySelector('.text'), answerText.get(runId) ?? '');
      contentChanged();
    }
  });
}

function finish(event, status) {
  const answer = streamingAnswer(event.run_id);
  const content = event.content ?? answerText.get(event.run_id) ?? '';
  answerText.set(event.run_id, content);
  answer.replaceWith(messageItem({ role: 'assistant', content, status, run_id: event.run_id, error: event.error }));
  contentChanged();
}

function onEvent(event) {
  lastEventType = event.type;
  stopState.onEvent(event);
  switch (event.type) {
    case 'state':
      $('messages').replaceChildren();
      event.messages.forEach(showMessage);
      if (event.active_run) streamingAnswer(event.active_run.run_id);
      following = true;
      scrollToEnd();
      break;
    case 'message_added': showMessage(event.message); contentChanged(); break;
    case 'run_started': streamingAnswer(event.run_id); contentChanged(); break;
    case 'run_snapshot': {
      // the answer so far, for a view that joined mid-run; tokens continue at index `tokens`
      answerText.set(event.run_id, event.content);
      nextToken.set(event.run_id, Math.max(nextToken.get(event.run_id) ?? 0, event.tokens));
      streamingAnswer(event.run_id);
      renderSoon(event.run_id);
      break;
    }
    case 'token': {
      // a token event carries `count` tokens (1 when absent) from `index` on
      const count = event.count ?? 1;
      const next = nextToken.get(event.run_id) ?? 0;
      if (event.index + count <= next) break; // a repeat after the state or snapshot
      nextToken.set(event.run_id, event.index + count);
      answerText.set(event.run_id, (answerText.get(event.run_id) ?? '') + event.delta);
      streamingAnswer(event.run_id);
      renderSoon(event.run_id);
      break;
    }
    case 'run_stopped': finish(event, 'stopped'); break;
    case 'run_completed': finish(event, 'complete'); break;
    case 'run_failed': finish(event, 'failed'); announce(`The answer failed: ${event.error || 'unknown error'}`); break;
    default:
  }
  if (event.type.startsWith('run_') && event.type !== 'run_snapshot') { refreshActive(); refreshConversations(); }
}

// ---- the conversation's socket ----------------------------------------------------------------
// The one place that says where a conversation's socket is and how it authenticates.
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
  nextToken.clear();
  answerText.clear();
  $('conversation-id').textContent = id ? '' : 'New conversation';
  $('messages').replaceChildren();
  stopState.onEvent({ type: 'state', active_run: null });
  if (socket) { socket.onclose = null; socket.close(); socket = null; }
  $('connection').textContent = '';
  if (id && token) connect(id);
  document.querySelectorAll('#conversations button').forEach((b) => b.setAttribute('aria-current', String(b.dataset.id === id)));
  closeDrawers();
}

window.addEventListener('hashchange', () => open(location.hash.slice(1) || null));
$('new-conversation').addEventListener('click', () => {
  history.replaceState(null, '', location.pathname);
  open(null);
  $('prompt').focus();
});

// ---- send, stop, pause ------------------------------------------------------------------------
function checkPrompt(text) {
  if (!text.trim()) return 'Type a message first.';
  if (text.length > MAX_MESSAGE) {
    return `This message is ${text.length.toLocaleString()} characters long; the limit is ${MAX_MESSAGE.toLocaleString()}. Shorten it to send it.`;
  }
  return '';
}

$('prompt').addEventListener('input', () => {
  const text = $('prompt').value;
  const tooLong = text.length > MAX_MESSAGE ? checkPrompt(text) : '';
  $('prompt-hint').textContent = tooLong;
  $('prompt-hint').className = tooLong ? 'hint error' : 'hint';
});

$('prompt').addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    if (!stopState.showStopButton()) $('composer').requestSubmit();
  } else if (event.key === 'Escape' && stopState.showStopButton()) {
    event.preventDefault();
    $('stop').click();
  }
});

document.addEventListener('keydown', (event) => {
  if (event.key === 'Escape' && event.target !== $('prompt')) {
    if (document.querySelector('.drawer.open')) closeDrawers();
    else if (stopState.showStopButton() && !$('confirm-stop-all').open) $('stop').click();
  }
});

const PROBLEMS = {
  409: 'This conversation is still answering; stop it or wait for it to end.',
  413: 'This message is too large to send.',
  429: 'Too many requests right now; wait a moment and try again.',
  503: 'The service is busy; try again in a moment.',
};

async function startRun(text) {
  if (!token) { showStatus('Sign in first.', true); return false; }
  const id = conversationId || `c-${crypto.randomUUID()}`;
  const body = { model: $('agent').value, stream: true, max_tokens: 400, conversation_id: id,
    messages: [{ role: 'user', content: text }] };
  const abort = new AbortController();
  sending = true;
  $('send').disabled = true;
  let response;
  try {
    response = await fetch('/v1/chat/completions', { method: 'POST', headers: auth(), body: JSON.stringify(body), signal: abort.signal });
  } catch (error) {
    showStatus('The server could not be reached; your message was not sent.', true);
    announce('The server could not be reached.');
    return false;
  } finally {
    sending = false;
    $('send').disabled = false;
  }
  if (!response.ok) {
    const problem = await response.json().catch(() => ({}));
    const text = response.status === 401 ? 'Your sign-in has expired; sign in again.'
      : PROBLEMS[response.status] || (response.status === 400 && problem.detail
        ? `The message was not accepted: ${problem.detail}` : `Sending failed (${response.status}).`);
    showStatus(text, true);
    announce(text);
    return false;
  }
  // The run is reserved: the conversation's socket carries everything from here on. Leaving the
  // HTTP stream does not stop the run.
  abort.abort();
  lastPrompt = text;
  showStatus('');
  if (conversationId !== id) { history.replaceState(null, '', `#${id}`); open(id); }
  else if (!socket) connect(id);
  following = true;
  return true;
}

$('composer').addEventListener('submit', async (event) => {
  event.preventDefault();
  if (sending || stopState.showStopButton()) return; // one send per click
  const text = $('prompt').value;
  const problem = checkPrompt(text);
  if (problem) {
    $('prompt-hint').textContent = problem;
    $('prompt-hint').className = 'hint error';
    $('prompt').focus();
    return;
  }
  $('prompt-hint').textContent = '';
  if (await startRun(text)) $('prompt').value = '';
  $('prompt').focus();
});

// A failed answer offers a retry: the user message before it, sent again in the same conversation.
function retryRun(runId) {
  const user = runId && find(runId, 'user');
  const text = user ? user.textContent : lastPrompt;
  if (text) startRun(text).then(() => $('prompt').focus());
}

$('stop').addEventListener('click', () => {
  stopState.stop(conversationId, (id) => post(`/v1/conversation/${encodeURIComponent(id)}/stop`));
  $('prompt').focus();
});

$('pause').addEventListener('click', async () => {
  const action = stopState.get().paused ? 'resume' : 'pause';
  const response = await post(`/v1/conversation/${encodeURIComponent(conversationId)}/${action}`).catch(() => null);
  if (!response || !response.ok) showStatus(`Could not ${action} (${response ? response.status : 'network error'}).`, true);
  $('prompt').focus();
});

// ---- drawers (narrow screens) -----------------------------------------------------------------
function toggleDrawer(drawer, toggle) {
  const opening = !drawer.classList.contains('open');
  closeDrawers();
  if (!opening) return;
  drawer.classList.add('open');
  toggle.setAttribute('aria-expanded', 'true');
  $('backdrop').hidden = false;
  drawer.querySelector('button, input')?.focus();
}
function closeDrawers() {
  document.querySelectorAll('.drawer.open').forEach((d) => d.classList.remove('open'));
  document.querySelectorAll('.drawer-toggle').forEach((t) => t.setAttribute('aria-expanded', 'false'));
  $('backdrop').hidden = true;
}
$('open-conversations').addEventListener('click', () => toggleDrawer($('sidebar'), $('open-conversations')));
$('open-active').addEventListener('click', () => toggleDrawer($('active-panel'), $('open-active')));
$('backdrop').addEventListener('click', closeDrawers);

// ---- conversations and the active panel -------------------------------------------------------
const when = (iso) => {
  const date = new Date(iso);
  const today = new Date().toDateString() === date.toDateString();
  return today ? date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
    : date.toLocaleDateString([], { month: 'short', day: 'numeric' });
};

let conversationsShown = '';
async function refreshConversations() {
  if (!token) return;
  const asked = token;
  const response = await fetch('/v1/conversations?limit=50', { headers: auth() }).catch(() => null);
  if (!response || !response.ok || asked !== token) return;
  const conversations = (await response.json()).conversations;
  conversations.forEach((c) => titles.set(c.conversation_id, c.title));
  const shown = JSON.stringify(conversations);
  if (shown === conversationsShown && $('conversations').childElementCount) return;
  conversationsShown = shown;
  const list = $('conversations');
  list.replaceChildren(...conversations.map((c) => {
    const li = document.createElement('li');
    const button = document.createElement('button');
    button.type = 'button';
    button.dataset.id = c.conversation_id;
    button.title = c.title || c.conversation_id;
    button.setAttribute('aria-current', String(c.conversation_id === conversationId));
    const title = document.createElement('span');
    title.className = 'title';
    title.textContent = c.title || 'Untitled conversation';
    const meta = document.createElement('span');
    meta.className = 'when';
    meta.textContent = when(c.last_activity) + (c.active ? ' · ' : '');
    if (c.active) {
      const live = document.createElement('span');
      live.className = 'live';
      live.textContent = '● answering';
      meta.append(live);
    }
    button.append(title, meta);
    button.addEventListener('click', () => {
      if (c.conversation_id === conversationId) closeDrawers();
      else location.hash = c.conversation_id;
    });
    li.append(button);
    return li;
  }));
}

async function refreshActive() {
  if (!token) return;
  const asked = token;
  const response = await fetch('/v1/conversations/active', { headers: auth() }).catch(() => null);
  if (!response || !response.ok || asked !== token) return;
  const list = $('active');
  const checked = new Set([...list.querySelectorAll('input:checked')].map((box) => box.value));
  const runs = Object.values((await response.json()).active_conversations)
    .sort((a, b) => a.started_at.localeCompare(b.started_at) || a.conversation_id.localeCompare(b.conversation_id));
  list.replaceChildren(...runs.map((run, i) => {
    const li = document.createElement('li');
    const box = document.createElement('input');
    box.type = 'checkbox';
    box.value = run.conversation_id;
    box.checked = checked.has(run.conversation_id);
    box.id = `select-${i}`;
    const label = document.createElement('label');
    label.htmlFor = box.id;
    label.title = run.conversation_id;
    const title = document.createElement('span');
    title.className = 'title';
    title.textContent = titles.get(run.conversation_id) || run.conversation_id;
    const meta = document.createElement('span');
    meta.className = 'meta';
    meta.textContent = `${run.agent_name} · ${run.state} · since ${when(run.started_at)}`;
    label.append(title, meta);
    const stop = document.createElement('button');
    stop.type = 'button';
    stop.textContent = 'Stop';
    stop.setAttribute('aria-label', `Stop ${titles.get(run.conversation_id) || run.conversation_id}`);
    stop.addEventListener('click', async () => {
      stop.disabled = true;
      await post(`/v1/conversation/${encodeURIComponent(run.conversation_id)}/stop`).catch(() => null);
      refreshActive();
    });
    li.append(box, label, stop);
    return li;
  }));
}

async function bulkStop(body) {
  const response = await post('/v1/conversations/stop', body).catch(() => null);
  $('active-status').textContent = response && response.ok ? (await response.json()).message : 'Stop failed; try again.';
  refreshActive();
}

$('stop-selected').addEventListener('click', () => {
  const ids = [...$('active').querySelectorAll('input:checked')].map((box) => box.value);
  if (ids.length) bulkStop({ conversation_ids: ids });
  else $('active-status').textContent = 'Select at least one conversation first.';
});
$('stop-all').addEventListener('click', () => $('confirm-stop-all').showModal());
$('confirm-stop-all').addEventListener('close', () => {
  if ($('confirm-stop-all').returnValue === 'ok') bulkStop(null);
});

// the lists follow conversations started or ended in any tab or client
setInterval(() => { refreshActive(); refreshConversations(); }, 2000);
showSignedIn();
if (token) {
  loadAgents();
  refreshConversations();
  refreshActive();
}
open(location.hash.slice(1) || null);
