// The stop button's state, in one place a frontend team can copy.
// idle -> active (after send) -> stopping (click; further clicks ignored) -> idle (stopped / completed / failed)
// A failed stop request returns to active with an error; a 202 shows "stop requested" until the run ends.
export function createStopState(onChange) {
  let state = { phase: 'idle', conversationId: null, message: '' };
  const set = (patch) => { state = { ...state, ...patch }; onChange(state); };
  return {
    get: () => state,
    runStarted: (conversationId) => set({ phase: 'active', conversationId, message: '' }),
    runEnded: (message = '') => set({ phase: 'idle', message }),
    async stop(request) {
      if (state.phase !== 'active') return; // one stop request per click burst
      set({ phase: 'stopping', message: 'Stopping…' });
      try {
        const response = await request(state.conversationId);
        if (response.status === 200) {
          set({ phase: 'idle', message: 'Stopped.' });
        } else if (response.status === 202) {
          set({ phase: 'stopping', message: 'Stop requested…' });
        } else if (response.status === 404) {
          set({ phase: 'idle', message: 'Nothing to stop: the answer had already ended.' });
        } else {
          set({ phase: 'active', message: `Stop failed (${response.status}); try again.`, error: true });
        }
      } catch (error) {
        set({ phase: 'active', message: 'Stop failed: the server could not be reached.', error: true });
      }
    },
    showStopButton: () => state.phase === 'active' || state.phase === 'stopping',
  };
}
