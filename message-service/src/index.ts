export { startMessageService, type MessageService, type MessageServiceConfig } from './service.js';
export type { MessageServiceStats } from './stats.js';
