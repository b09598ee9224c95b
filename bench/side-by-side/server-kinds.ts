/** The servers the side-by-side run knows, their order and their names in the report. */
export type ServerKind = 'ws' | 'socketio' | 'centrifugo' | 'centrifugo-history' | 'herald';

/** In this order: the fixed-rate latency run of every server uses half of bare ws's maximum, measured first. */
export const SERVER_KINDS: readonly ServerKind[] = ['ws', 'socketio', 'centrifugo', 'centrifugo-history', 'herald'];

/** The servers written in Go, which need Go to be built (see bench/peers/centrifugo-install.sh). */
export const CENTRIFUGO_KINDS: readonly ServerKind[] = ['centrifugo', 'centrifugo-history'];

export const SERVER_LABELS: Record<ServerKind, string> = {
  ws: 'bare ws',
  socketio: 'Socket.IO',
  centrifugo: 'Centrifugo',
  'centrifugo-history': 'Centrifugo + history',
  herald: 'Herald',
};
