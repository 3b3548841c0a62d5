import { createStopState } from './stop-state.js';

const $ = (id) => document.getElementById(id);
let token = sessionStorage.getItem('stopline.token');
const auth = () => ({ Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' });

const stopState = createStopState((state) => {
  const stop = $('stop');
  stop.hidden = !stopState.showStopButton();
  stop.setAttribute('aria-busy', String(state.phase === 'stopping'));
  stop.textContent = state.phase === 'stopping' ? 'Stopping…' : 'Stop';
  $('send').disabled = state.phase !== 'idle';
  $('status').textContent = state.message || '';
  $('status').className = state.error ? 'error' : '';
});

$('signin').addEventListener('submit', async (event) => {
  event.preventDefault();
  const response = await fetch('/v1/auth/dev-token', {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ user: $('user').value }),
  });
  if (!response.ok) { $('whoami').textContent = 'Sign-in failed (dev tokens off?)'; return; }
  token = (await response.json()).token;
  sessionStorage.setItem('stopline.token', token);
  $('whoami').textContent = `Signed in as ${$('user').value}`;
  refreshActive();
});

function addMessage(role, text, status) {
  const li = document.createElement('li');
  li.className = role;
  li.textContent = text;
  if (status === 'stopped' || status === 'interrupted' || status === 'failed') {
    const marker = document.createElement('span');
    marker.className = 'marker';
    marker.textContent = status;
    li.append(marker);
  }
  $('messages').append(li);
  return li;
}

async function showHistory(conversationId) {
  const response = await fetch(`/v1/conversation/${encodeURIComponent(conversationId)}`, { headers: auth() });
  if (!response.ok) return;
  $('messages').replaceChildren();
  for (const m of (await response.json()).messages) addMessage(m.role, m.content, m.status);
}

$('composer').addEventListener('submit', async (event) => {
  event.preventDefault();
  if (!token) { $('status').textContent = 'Sign in first.'; return; }
  const prompt = $('prompt').value;
  const body = { model: $('agent').value, stream: true, max_tokens: 400, messages: [{ role: 'user', content: prompt }] };
  if ($('conversation').value) body.conversation_id = $('conversation').value;
  addMessage('user', prompt);
  $('prompt').value = '';
  const answer = addMessage('assistant', '');
  let response;
  try {
    response = await fetch('/v1/chat/completions', { method: 'POST', headers: auth(), body: JSON.stringify(body) });
  } catch (error) {
    stopState.runEnded('The server could not be reached.');
    return;
  }
  if (!response.ok) {
    const problem = await response.json().catch(() => ({}));
    stopState.runEnded(problem.detail || `Request failed (${response.status})`);
    return;
  }
  const conversationId = response.headers.get('X-Conversation-Id');
  $('conversation').value = conversationId;
  stopState.runStarted(conversationId);
  refreshActive();
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let finish = null;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let cut;
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      const line = buffer.slice(0, cut).replace(/^data: /, '');
      buffer = buffer.slice(cut + 2);
      if (line === '[DONE]') continue;
      const chunk = JSON.parse(line);
      if (chunk.error) { finish = 'failed'; continue; }
      const choice = chunk.choices[0];
      if (choice.delta.content) answer.textContent += choice.delta.content;
      if (choice.finish_reason) finish = choice.finish_reason;
    }
  }
  stopState.runEnded(finish === 'cancelled' ? 'Stopped.' : finish === 'failed' ? 'The answer failed.' : '');
  await showHistory(conversationId);
  refreshActive();
});

$('stop').addEventListener('click', () => stopState.stop((id) =>
  fetch(`/v1/conversation/${encodeURIComponent(id)}/stop`, { method: 'POST', headers: auth() })));

$('stop-all').addEventListener('click', () => $('confirm-stop-all').showModal());
$('confirm-stop-all').addEventListener('close', async () => {
  if ($('confirm-stop-all').returnValue !== 'ok') return;
  await fetch('/v1/conversations/stop', { method: 'POST', headers: auth() });
  refreshActive();
});

async function refreshActive() {
  if (!token) return;
  const response = await fetch('/v1/conversations/active', { headers: auth() }).catch(() => null);
  if (!response || !response.ok) return;
  const list = $('active');
  list.replaceChildren();
  for (const run of Object.values((await response.json()).active_conversations)) {
    const li = document.createElement('li');
    const label = document.createElement('span');
    label.textContent = `${run.conversation_id.slice(0, 12)} · ${run.agent_name}`;
    const stop = document.createElement('button');
    stop.textContent = 'Stop';
    stop.setAttribute('aria-label', `Stop conversation ${run.conversation_id}`);
    stop.addEventListener('click', async () => {
      stop.disabled = true;
      await fetch(`/v1/conversation/${encodeURIComponent(run.conversation_id)}/stop`, { method: 'POST', headers: auth() });
      refreshActive();
    });
    li.append(label, stop);
    list.append(li);
  }
}
setInterval(refreshActive, 2000);
if (token) $('whoami').textContent = 'Signed in';
