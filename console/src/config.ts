/** The runtime configuration deployed next to the page (config.json): where the API and Cognito are. */
export interface ConsoleConfig {
  /** The reports API's base URL; the console calls `<apiUrl>/console/...`. */
  apiUrl: string;
  region: string;
  userPoolId: string;
  clientId: string;
  /** Cognito's endpoint: `https://cognito-idp.<region>.amazonaws.com/` in AWS, moto locally. */
  cognitoEndpoint?: string;
}

let current: ConsoleConfig | undefined;

export async function loadConfig(): Promise<ConsoleConfig> {
  const res = await fetch('/config.json', { cache: 'no-store' });
  if (!res.ok)
    throw new Error('The console could not read its configuration (config.json). Reload the page.');
  current = (await res.json()) as ConsoleConfig;
  return current;
}

export function config(): ConsoleConfig {
  if (!current) throw new Error('configuration not loaded');
  return current;
}
