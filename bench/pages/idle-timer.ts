// The peer for cross-tab latency and the cost of activity: react-idle-timer with crossTab,
// in React 19. Exposes what the benchmark reads on window.peer.
import { createElement, useEffect } from 'react';
import { createRoot } from 'react-dom/client';
import { useIdleTimer } from 'react-idle-timer';

interface Peer {
  activate(): boolean;
  isIdle(): boolean;
  /** performance.timeOrigin + performance.now() when onActive last fired here. */
  activeAt: number | null;
}
const peer = { activeAt: null } as Peer;
(window as unknown as { peer: Peer }).peer = peer;
const timeout = Number(new URLSearchParams(location.search).get('timeout') ?? 30 * 60_000);

function App() {
  const timer = useIdleTimer({
    timeout,
    crossTab: true,
    onActive: () => {
      peer.activeAt = performance.timeOrigin + performance.now();
    },
  });
  useEffect(() => {
    peer.activate = timer.activate;
    peer.isIdle = timer.isIdle;
    document.body.dataset.ready = 'true';
  }, [timer]);
  return createElement('p', null, 'react-idle-timer with crossTab');
}

createRoot(document.getElementById('root')!).render(createElement(App));
