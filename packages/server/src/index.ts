export { Herald, type HeraldOptions, type PublishInput, type SendOptions } from './gateway.js';
export { loadConfig, ConfigError, type Config } from './config.js';
export { mintToken } from './auth/mint-token.js';
export type { Store, StoredEvent, AppendInput } from './store/store.js';
export type { Broker, BrokerHandlers, BroadcastMessage } from './broker/broker.js';
export { CloseCode, ErrorCode, shouldReconnect } from '@herald/protocol';
