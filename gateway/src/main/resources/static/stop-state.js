// The stop button of one conversation, in one small module a frontend team can copy.
//
// It is driven by the conversation's WebSocket events, so every tab (and a reloaded page) agrees:
//   idle     no run: the button is hidden
//   active   a run is queued, thinking, streaming or paused: the button shows
//   stopping a stop request is in flight: the button shows "Stopping…" and ignores clicks
//   requested the server answered 202: "Stop requested…" until the run's end arrives
// A failed stop request (network error, 5xx) returns to active with a message; any end of the run
// (run_stopped, run_completed, run_failed, or a state without an active run) returns to idle.
export function createStopState(onChange) {
  let state = { phase: 'idle', runId: null, paused: false, message: '', error: false };
  const set = (patch) => { state = { ...state, ...patch }; onChange(state); };
  const ended = (message) => set({ phase: 'idle', runId: null, paused: false, message, error: false });

  return {
    get: () => state,
    // One call per WebSocket event of the open conversation.
    onEvent(event) {
      switch (event.type) {
        case 'state':
          if (event.active_run) {
            const same = state.runId === event.active_run.run_id && state.phase !== 'idle';
            set({ phase: same ? state.phase : 'active', runId: event.active_run.run_id,
              paused: event.active_run.state === 'paused' });
          } else if (state.phase !== 'idle') {
            ended('');
          }
          break;
        case 'message_added':
          // the user's message arrives before run_started: the run is queued, the button already shows
          if (event.message.role === 'user' && state.runId !== event.run_id) {
            set({ phase: 'active', runId: event.run_id, paused: false, message: '', error: false });
          }
          break;
        case 'run_started':
          if (state.runId !== event.run_id) set({ phase: 'active', runId: event.run_id, paused: false });
          break;
        case 'run_paused': if (event.run_id === state.runId) set({ paused: true }); break;
        case 'run_resumed': if (event.run_id === state.runId) set({ paused: false }); break;
        case 'run_stopped': ended(event.reason === 'user' ? 'Stopped.' : `Stopped (${event.reason}).`); break;
        case 'run_completed': ended(''); break;
        case 'run_failed': ended(event.error || 'The answer failed.'); break;
        default:
      }
    },
    // request(conversationId) performs the HTTP stop; clicks while a stop is in flight do nothing.
    async stop(conversationId, request) {
      if (state.phase !== 'active') return;
      const runId = state.runId;
      set({ phase: 'stopping', message: 'Stopping…', error: false });
      try {
        const response = await request(conversationId);
        if (state.runId !== runId || state.phase === 'idle') return; // the end event came first
        if (response.status === 200) ended('Stopped.');
        else if (response.status === 202) set({ phase: 'requested', message: 'Stop requested…' });
        else if (response.status === 404) ended('Nothing to stop: the answer had already ended.');
        else set({ phase: 'active', message: `Stop failed (${response.status}); try again.`, error: true });
      } catch (error) {
        if (state.phase === 'stopping') {
          set({ phase: 'active', message: 'Stop failed: the server could not be reached. Try again.', error: true });
        }
      }
    },
    showStopButton: () => state.phase !== 'idle',
  };
}
