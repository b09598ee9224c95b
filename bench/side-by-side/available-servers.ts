import { findCentrifugo } from '../peers/centrifugo-binary.js';
import type { BenchOptions } from './options.js';
import { CENTRIFUGO_KINDS, SERVER_LABELS, type ServerKind } from './servers.js';

/** A server asked for that the run could not start, and why. */
export interface SkippedServer {
  server: ServerKind;
  label: string;
  reason: string;
}

export interface AvailableServers {
  servers: ServerKind[];
  skipped: SkippedServer[];
  /** The Centrifugo binary, when a Centrifugo kind is among `servers`. */
  centrifugoBinary?: string;
}

/**
 * The servers of the run that can be started here. Centrifugo needs its binary, built once with Go: where Go is
 * missing (or the build fails) both Centrifugo servers are skipped with the reason, and the others still run.
 */
export function availableServers(options: BenchOptions, log: (line: string) => void): AvailableServers {
  const wanted = options.servers.filter((kind) => CENTRIFUGO_KINDS.includes(kind));
  if (wanted.length === 0) return { servers: options.servers, skipped: [] };
  const found = findCentrifugo({ binary: options.centrifugoBinary, go: options.goCommand, log });
  if ('binary' in found) return { servers: options.servers, skipped: [], centrifugoBinary: found.binary };
  log(`skipped ${wanted.map((kind) => SERVER_LABELS[kind]).join(' and ')}: ${found.missing}`);
  return {
    servers: options.servers.filter((kind) => !wanted.includes(kind)),
    skipped: wanted.map((server) => ({ server, label: SERVER_LABELS[server], reason: found.missing })),
  };
}
