export { createGateway, GatewayListenError, WS_PATH, type Gateway } from './gateway';
export { GatewayOptionError, resolveLimits, type GatewayEngine, type GatewayLimits, type GatewayOptions } from './options';
export { limitsFromSettings, loadGatewayConfig, readGatewaySettings, type GatewayConfig, type GatewaySettings, type GatewaySettingsOptions } from './config';
export { describeNativeBuild, type NativeBuild } from './native-build';
export type { HttpHandler } from './http-reply';
export type { RateLimit } from './rate-limit';
export type { GatewayMetrics } from './metrics';
